"""A ledger worth attacking: real runs through MODX on PostgreSQL and on SQLite, built once per
backend, and a fresh copy of that database for each attack.

The attacker knows the code and writes to the database at will, but does not hold the ledger
key (it lives in the data directory, outside the database) and cannot rewrite the published
checkpoint file.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from typer.testing import CliRunner, Result

from services.cli.main import app
from services.db.engine import create_engine
from services.db.models import LedgerCheckpointRow
from services.ledger import keys
from services.ledger.verify import verify
from tests.e2e import fleet
from tests.fixtures.databases import drop_later
from tests.fixtures.services import POSTGRES_URL, missing, port_open, postgres_admin, wait_until
from tests.fixtures.stack import ADMIN, running_stack

# range -> square (fan-out, n items) -> sum: n + 2 step entries and run.succeeded, per run.
FLOW = {
    "name": "ledgered",
    "steps": [
        {"id": "range", "capability": "test.range", "input": {"n": "$.input.n"}},
        {
            "id": "square",
            "capability": "test.square",
            "for_each": "$.steps.range.output.items",
            "input": {"value": "$.item"},
        },
        {"id": "sum", "capability": "test.sum", "input": {"values": "$.steps.square.output"}},
    ],
    "output": "$.steps.sum.output.total",
}
ENTRIES = {3: 6, 4: 7, 2: 5}  # by n: checkpointed[0], checkpointed[1], later


@dataclass
class Golden:
    """What the untouched ledger looked like from outside."""

    backend: str
    url: str  # the database (a file for SQLite, a database name for PostgreSQL)
    data_dir: Path  # the ledger key and the published checkpoints
    checkpointed: list[str]  # finished runs covered by the last checkpoint
    later: str  # a finished run that no checkpoint covers yet
    export: dict[str, Any]  # GET /v1/runs/{checkpointed[0]}/ledger
    verify_report: dict[str, Any]  # GET /v1/ledger/verify on the live server
    missing: httpx.Response  # GET /v1/runs/<no such run>/ledger
    cli: Result  # `modx ledger verify` against the live server
    public_key: str  # GET /v1/ledger/public-key


async def _build(backend: str, root: Path, url: str) -> Golden:
    async with running_stack("embedded", root, url, None) as stack:
        # The checkpointer's loop starts with the genesis checkpoint. Waiting for it keeps the
        # runs below out of it however slow the start: the export makes the next one.
        await wait_until(lambda: _checkpoints(stack.runtime.readers))
        await stack.agent(fleet.numbers)
        await stack.agent(fleet.squares)
        runs = [await stack.submit(FLOW, {"n": n}) for n in (3, 4)]
        for run_id in runs:
            run = await stack.wait(run_id)
            assert run["status"] == "succeeded", run
        export = await stack.client.get(f"/v1/runs/{runs[0]}/ledger")
        assert export.status_code == 200, export.text
        later = await stack.submit(FLOW, {"n": 2})
        assert (await stack.wait(later))["status"] == "succeeded"
        report = await stack.client.get(
            "/v1/ledger/verify", headers={"authorization": f"Bearer {ADMIN}"}
        )
        missing = await stack.client.get("/v1/runs/no-such-run/ledger")
        public_key = (await stack.client.get("/v1/ledger/public-key")).json()["public_key"]
        cli = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            ["ledger", "verify", "--url", stack.url],
            env={"MODX_API_TOKEN": ADMIN},
        )
        exported = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            ["ledger", "export", runs[1], "--out", str(root / "cli.json"), "--url", stack.url],
            env={"MODX_API_TOKEN": ADMIN},
        )
        assert exported.exit_code == 0, exported.output
        await stack.runtime.checkpointer.publish()
        return Golden(
            backend,
            url,
            root / "modx",
            runs,
            later,
            export.json(),
            report.json(),
            missing,
            cli,
            public_key,
        )


async def _checkpoints(readers: async_sessionmaker[AsyncSession]) -> int:
    async with readers() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerCheckpointRow)) or 0)


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def golden(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Golden]:
    """The ledger after three runs, built once per module and backend."""
    root = tmp_path_factory.mktemp(f"golden-{request.param}")
    name = ""
    if request.param == "postgres":
        if not port_open(POSTGRES_URL.replace("+asyncpg", ""), 5432):
            missing(f"PostgreSQL at {POSTGRES_URL}")
        worker = request.getfixturevalue("postgres_dropper")
        name = f"modx_golden_{uuid.uuid4().hex[:12]}"
        postgres_admin(f'CREATE DATABASE "{name}"')
        url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{root}/golden.db"
    # Its own thread and loop: the tests' loops are per test, this outlives them.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        built = pool.submit(asyncio.run, _build(request.param, root, url)).result()
    yield built
    if name:  # off the tests' path (tests/fixtures/databases.py)
        drop_later(worker, name)


@dataclass
class Copy:
    """A copy of the golden ledger for one test to attack."""

    golden: Golden
    db: AsyncEngine
    public_key: Ed25519PublicKey
    published: Path

    async def verify(self, run_id: str | None = None) -> dict[str, Any]:
        """The server's verification of the copy."""
        async with self.db.connect() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            async with AsyncSession(bind=conn) as session:
                return await verify(session, self.public_key, run_id, self.published)


@pytest.fixture
async def ledger(
    golden: Golden, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Copy]:
    """A fresh copy of the golden database, with the key's public half and the published file."""
    name = ""
    if golden.backend == "postgres":
        worker = request.getfixturevalue("postgres_dropper")
        name = f"modx_copy_{uuid.uuid4().hex[:12]}"
        source = golden.url.rsplit("/", 1)[1]
        postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        url = f"{golden.url.rsplit('/', 1)[0]}/{name}"
    else:
        source_file = Path(golden.url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{source_file}{suffix}").exists():
                shutil.copy(f"{source_file}{suffix}", tmp_path / f"copy.db{suffix}")
        url = f"sqlite+aiosqlite:///{tmp_path}/copy.db"
    db = create_engine(url)
    key = keys.read_key_file(golden.data_dir / "ledger.key").public_key()
    try:
        yield Copy(golden, db, key, golden.data_dir / "ledger-checkpoints.jsonl")
    finally:
        await db.dispose()
        if name:  # off the test's path (tests/fixtures/databases.py)
            drop_later(worker, name)
