"""Reading and writing runs for the orchestrator's writer, a batch of runs at a time.

Everything the engine did to a batch is written with one statement per kind of change: new
runs and steps, changed steps (grouped by which columns changed, so a large output is written
once), changed runs, events, ledger entries and outbox rows, and the outbox rows already
published are deleted on the way.

- PostgreSQL (``save_if_current``): all of it in one autocommit statement, for the runs still
  at the version the engine started from; no locks, one round trip per batch.
- SQLite (``read_for_update``, ``save``): inside the writer's ``BEGIN IMMEDIATE``, which holds
  the database's write lock from the read to the commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update

from services.db.models import EventRow, LedgerEntryRow, OutboxRow, RunRow, StepRow
from services.orchestrator.records import Run, Step

if TYPE_CHECKING:
    import asyncpg

    from services.orchestrator.context import RunContext

RUNS: Table = RunRow.__table__  # type: ignore[assignment]
STEPS: Table = StepRow.__table__  # type: ignore[assignment]
EVENTS: Table = EventRow.__table__  # type: ignore[assignment]
LEDGER: Table = LedgerEntryRow.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxRow.__table__  # type: ignore[assignment]

_RUN_COLUMNS = [RUNS.c[name] for name in Run.COLUMNS]
_STEP_COLUMNS = [STEPS.c[name] for name in Step.COLUMNS]


def read_for_update(
    conn: Connection,
    run_ids: Sequence[str],
    held: dict[str, int],
    keys: Sequence[tuple[str, str]],
) -> tuple[dict[str, int], dict[str, tuple[Run, dict[str, Step]]], set[tuple[str, str]]]:
    """SQLite, inside the writer's ``BEGIN IMMEDIATE``: the runs' versions, the runs (with their
    steps) not ``held`` at those versions, and which of the (tenant, idempotency key) ``keys``
    are taken."""
    versions: dict[str, int] = {}
    if run_ids:
        query = select(RUNS.c.id, RUNS.c.version).where(RUNS.c.id.in_(run_ids))
        versions = {run_id: version for run_id, version in conn.execute(query).tuples()}
    missing = [run_id for run_id, version in versions.items() if held.get(run_id) != version]
    loaded: dict[str, tuple[Run, dict[str, Step]]] = {}
    if missing:
        loaded = _records(
            conn.execute(select(*_RUN_COLUMNS).where(RUNS.c.id.in_(missing))),
            conn.execute(select(*_STEP_COLUMNS).where(STEPS.c.run_id.in_(missing))),
        )
    taken: set[tuple[str, str]] = set()
    if keys:
        query = select(RUNS.c.tenant, RUNS.c.idempotency_key).where(
            RUNS.c.idempotency_key.in_([key for _, key in keys])
        )
        taken = set(keys) & set(conn.execute(query).tuples())
    return versions, loaded, taken


async def load(
    conn: AsyncConnection, run_ids: Sequence[str]
) -> dict[str, tuple[Run, dict[str, Step]]]:
    """Runs and their steps, by run id."""
    if not run_ids:
        return {}
    return _records(
        await conn.execute(select(*_RUN_COLUMNS).where(RUNS.c.id.in_(run_ids))),
        await conn.execute(select(*_STEP_COLUMNS).where(STEPS.c.run_id.in_(run_ids))),
    )


def _records(
    run_rows: Iterable[Sequence[Any]], step_rows: Iterable[Sequence[Any]]
) -> dict[str, tuple[Run, dict[str, Step]]]:
    runs: dict[str, tuple[Run, dict[str, Step]]] = {}
    for row in run_rows:
        run = Run(**dict(zip(Run.COLUMNS, row, strict=True)))
        runs[run.id] = (run, {})
    for row in step_rows:
        step = Step(**dict(zip(Step.COLUMNS, row, strict=True)))
        runs[step.run_id][1][step.step_id] = step
    return runs


@dataclass
class Changes:
    """What a transaction on some runs writes (collected from their contexts)."""

    runs: list[tuple[Run, frozenset[str]]] = field(default_factory=list)
    new_runs: list[dict[str, Any]] = field(default_factory=list)
    new_steps: list[Step] = field(default_factory=list)
    changed_steps: list[tuple[Step, frozenset[str]]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)


def collect(contexts: Sequence[RunContext]) -> Changes:
    """Take what the engine did to ``contexts``; their records are clean afterwards.

    Every run with something to write gets the next version: a write is only good on top of
    the version it was computed from (``save_if_current``), and other replicas' caches learn
    that their copy is old.
    """
    changes = Changes()
    for ctx in contexts:
        inserted = {id(step) for step in ctx.added}
        changed = [s for s in ctx.steps.values() if s.changed and id(s) not in inserted]
        run = ctx.run
        dues = [s.due_at for s in (*ctx.added, *changed) if s.due_at is not None]
        if run.deadline_at is not None and "deadline_at" in run.changed:
            dues.append(run.deadline_at)
        ctx.next_due = min(dues, default=None)
        if ctx.created is not None:
            run.version += 1
            changes.new_runs.append({**ctx.created, **run.values()})
        elif ctx.added or changed or run.changed or ctx.events or ctx.entries or ctx.outbox:
            run.version += 1
            changes.runs.append((run, frozenset(run.changed)))
        run.changed.clear()
        changes.new_steps.extend(ctx.added)
        for step in changed:
            changes.changed_steps.append((step, frozenset(step.changed)))
        for step in ctx.added:
            step.changed.clear()
        for step in changed:
            step.changed.clear()
        changes.events.extend(ctx.events)
        changes.entries.extend(ctx.entries)
        changes.outbox.extend(
            {
                "id": env.id,
                "destination": dest,
                "envelope": raw,
                "created_at": ctx.now,
                "run_id": run.id,
            }
            for dest, env, raw in ctx.outbox
        )
        ctx.written = ctx.events
        ctx.added, ctx.events, ctx.entries, ctx.outbox = [], [], [], []
    return changes


def save(conn: Connection, contexts: Sequence[RunContext], published: Sequence[str] = ()) -> None:
    """SQLite: write what the engine did to ``contexts`` inside the caller's transaction (which
    holds the database's write lock): one statement per kind of change. ``published`` outbox
    rows (already on the bus) are deleted on the way."""
    changes = collect(contexts)
    step_groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for step, columns in changes.changed_steps:
        _group(step_groups, step, ("run_id", "step_id"), columns)
    run_groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for run, columns in changes.runs:
        _group(run_groups, run, ("id",), columns)
    if changes.new_runs:
        conn.execute(insert(RUNS), changes.new_runs)
    if changes.new_steps:
        conn.execute(insert(STEPS), [step.values() for step in changes.new_steps])
    for columns, params in step_groups.items():
        conn.execute(_update(STEPS, ("run_id", "step_id"), columns), params)
    for columns, params in run_groups.items():
        conn.execute(_update(RUNS, ("id",), columns), params)
    outbox = [{k: v for k, v in row.items() if k != "run_id"} for row in changes.outbox]
    if changes.events:
        # The events' ids, for the event streams to send them without a read. Under the write
        # lock SQLite numbers new rows max(id) + 1 (an INTEGER PRIMARY KEY); the check below
        # rules anything else out. (RETURNING in parameter order costs a statement per row.)
        before = conn.execute(select(func.max(EVENTS.c.id))).scalar_one() or 0
        conn.execute(insert(EVENTS), changes.events)
        if conn.execute(select(func.max(EVENTS.c.id))).scalar_one() == before + len(changes.events):
            for event_id, event in enumerate(changes.events, before + 1):
                event["id"] = event_id
    for table, rows in ((LEDGER, changes.entries), (OUTBOX, outbox)):
        if rows:
            conn.execute(insert(table), rows)
    if published:
        conn.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(published)))


WRITER_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}
"""Server settings of the writer's connections (PostgreSQL). ``save_if_current``'s plan does
not depend on its parameters: it is planned once per connection, and kept for as long as the
connection lives. Planned on the small tables of a new or quiet database, it read ``runs``
by a sequential scan joined to the batch, and kept doing so as the table grew (one scan of
every run per step: a lone step in a database of 3,000 runs took twice as long as in an empty
one, ``bench.alone_ab``). Every row the statement touches is found by a key that has an
index, so the writer's connections plan no sequential scan."""


async def driver_of(conn: AsyncConnection) -> asyncpg.Connection[Any]:
    """``conn``'s asyncpg connection, for ``save_if_current`` to run its statement on.

    A batch runs that statement on the driver itself (prepared once per connection, in
    asyncpg's statement cache): SQLAlchemy's execution context, cursor adapter and greenlet
    hop add nothing to one statement with positional parameters, and cost a lone step about
    as much CPU as asyncpg's own work on it.
    """
    raw = await conn.get_raw_connection()
    return cast("asyncpg.Connection[Any]", raw.driver_connection)


async def save_if_current(
    driver: asyncpg.Connection[Any], contexts: Sequence[RunContext], published: Sequence[str] = ()
) -> set[str]:
    """PostgreSQL: write everything in one statement, in its own transaction, for the runs
    still at the version the engine started from; returns the ids of the runs written.

    No lock is taken: a run another replica changed in the meantime is left out entirely (its
    steps, events, ledger entries and outbox rows are joined to the runs actually written),
    and the caller reloads it and applies its changes again. A new run whose id or
    idempotency key is taken is left out the same way. One round trip per batch, which also
    deletes the ``published`` outbox rows, and gives each event written its ``id``.
    """
    changes = collect(contexts)
    if not changes.runs and not changes.new_runs and not published:
        return set()
    for table_rows in (changes.events, changes.entries):
        for n, row in enumerate(table_rows):
            row["n"] = n  # history keeps the order the engine wrote it in
    params = (
        _json([{n: getattr(r, n) for n in _RUN_WRITE} for r, _ in changes.runs]),
        _json(
            [s.values() for s in changes.new_steps] + [s.values() for s, _ in changes.changed_steps]
        ),
        _json(changes.events),
        _json(changes.entries),
        _json(changes.outbox),
        list(published),
        _json(changes.new_runs),
    )
    rows = await driver.fetch(_write_if_current_sql(), *params)
    written: set[str] = set()
    ids: list[tuple[int, str]] = []
    for run_id, event_id in cast("list[tuple[str, int | None]]", rows):
        if event_id is None:
            written.add(run_id)
        else:
            ids.append((event_id, run_id))
    _number(changes.events, written, sorted(ids))
    return written


def _number(events: list[dict[str, Any]], written: set[str], ids: list[tuple[int, str]]) -> None:
    """Give the events of the runs written their ids: the sequence numbered them in the order
    they were inserted (``ORDER BY n``). Should the rows not line up, none gets an id (streams
    read them instead)."""
    kept = [event for event in events if event["run_id"] in written]
    if len(kept) != len(ids):
        return
    pairs = list(zip(kept, ids, strict=True))
    if all(event["run_id"] == run_id for event, (_, run_id) in pairs):
        for event, (event_id, _) in pairs:
            event["id"] = event_id


# What a run's update writes: its id (the key) and every column the engine may change.
_RUN_WRITE = tuple(
    name
    for name in Run.COLUMNS
    if name
    not in (
        "tenant",
        "workflow_name",
        "definition",
        "input",
        "created_at",
        "parent_run_id",
        "parent_step_id",
    )
)


def _json(rows: list[dict[str, Any]]) -> str:
    try:
        return orjson.dumps(rows).decode()  # datetimes as RFC 3339, which PostgreSQL parses
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits in a payload
        return json.dumps(rows, default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@lru_cache(maxsize=1)
def _write_if_current_sql() -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]

    def rows(table: Table, names: Sequence[str], param: int, extra: str = "") -> str:
        types = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in names)
        return f"jsonb_to_recordset(${param}::jsonb) AS x({types}{extra})"

    def insert_joined(
        table: Table, names: Sequence[str], param: int, extra: str, returning: str = ""
    ) -> str:
        # Rows only for the runs updated; ``n`` (when given) keeps the order they came in.
        cols = ", ".join(names)
        picked = ", ".join(f"x.{name}" for name in names)
        order = " ORDER BY x.n" if "n integer" in extra else ""
        return (
            f"INSERT INTO {table.name} ({cols}) SELECT {picked} "
            f"FROM {rows(table, names, param, extra)} JOIN a ON a.id = x.run_id{order}{returning}"
        )

    run_sets = ", ".join(f"{n} = x.{n}" for n in _RUN_WRITE if n != "id")
    step_sets = ", ".join(
        f"{n} = EXCLUDED.{n}" for n in Step.COLUMNS if n not in ("run_id", "step_id")
    )
    event_cols = [c.name for c in EVENTS.c if c.name != "id"]
    ledger_cols = [c.name for c in LEDGER.c if c.name != "id"]
    outbox_cols = [c.name for c in OUTBOX.c]
    run_cols = [c.name for c in RUNS.c]
    return (
        # The batch's run ids also as a condition of their own, which pk_runs answers whatever
        # the join: planned on a small table, the join alone read every run (through pk_runs,
        # into a hash) at each batch, and the plan is kept while the table grows.
        f"WITH r AS (UPDATE runs SET {run_sets} FROM {rows(RUNS, _RUN_WRITE, 1, '')} "
        "WHERE runs.id = ANY(ARRAY(SELECT k.id FROM jsonb_to_recordset($1::jsonb) AS k(id text))) "
        "AND runs.id = x.id AND runs.version = x.version - 1 RETURNING runs.id), "
        f"n AS (INSERT INTO runs ({', '.join(run_cols)}) "
        f"SELECT {', '.join('x.' + c for c in run_cols)} FROM {rows(RUNS, run_cols, 7, '')} "
        "ON CONFLICT DO NOTHING RETURNING id), "
        "a AS (SELECT id FROM r UNION ALL SELECT id FROM n), "
        f"s AS ({insert_joined(STEPS, Step.COLUMNS, 2, '')} "
        f"ON CONFLICT (run_id, step_id) DO UPDATE SET {step_sets}), "
        f"e AS ({insert_joined(EVENTS, event_cols, 3, ', n integer', ' RETURNING id, run_id')}), "
        f"l AS ({insert_joined(LEDGER, ledger_cols, 4, ', n integer')}), "
        f"o AS ({insert_joined(OUTBOX, outbox_cols, 5, ', run_id varchar')}), "
        "d AS (DELETE FROM outbox WHERE id = ANY($6::varchar[])) "
        # The runs written (no event id), then the ids the events got.
        "SELECT id, NULL::bigint FROM a UNION ALL SELECT run_id, id FROM e"
    )


def _group(
    groups: dict[frozenset[str], list[dict[str, Any]]],
    record: Run | Step,
    key: tuple[str, ...],
    columns: frozenset[str],
) -> None:
    params = {"k_" + name: getattr(record, name) for name in key}
    params.update({"v_" + name: getattr(record, name) for name in columns})
    groups.setdefault(columns, []).append(params)


@lru_cache(maxsize=256)
def _update(table: Table, key: tuple[str, ...], columns: frozenset[str]) -> Update:
    # Bound names differ from column names: SQLAlchemy reserves those for its own SET clause.
    return (
        update(table)
        .where(*(table.c[name] == bindparam("k_" + name) for name in key))
        .values({name: bindparam("v_" + name) for name in sorted(columns)})
    )
