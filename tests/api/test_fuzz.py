"""Schemathesis against the running app on PostgreSQL: every operation, every phase (stateful
included), bounded in time, with the seed and settings in ``tests/api/schemathesis.toml``.
Zero server errors and zero schema violations."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.fixtures.stack import ADMIN, running_stack

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.postgres
async def test_schemathesis_finds_nothing(tmp_path: Path, postgres_migrated_url: str) -> None:
    report = tmp_path / "schemathesis.json"
    async with running_stack(
        "embedded",
        tmp_path,
        postgres_migrated_url,
        None,
        auth_fail_per_address=1_000_000,  # the throttle is tested elsewhere; here it would
        auth_fail_overall=1_000_000,  # turn the fuzzer's unauthenticated cases into 429s
    ) as stack:
        command = [
            str(Path(sys.executable).with_name("st")),  # schemathesis' own command
            "--config-file",
            str(CONFIG),
            "run",
            f"{stack.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {ADMIN}",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,  # whatever it writes stays out of the repository
        )
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    result = json.loads(report.read_text())
    print(" ".join(command[:5]), "...")
    print(text[-3000:])
    print(
        "schemathesis:",
        json.dumps({k: result[k] for k in ("operations", "test_cases", "phases", "seed")}),
    )
    assert result["operations"]["tested"] == result["operations"]["selected"] > 25
    assert result["phases"]["stateful"]["status"] != "skip", result["phases"]
    assert result["failures"] == [] and result["errors"] == [], text[-6000:]
    assert process.returncode == 0, text[-6000:]
