"""Data functions for named, versioned workflow definitions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.db.models import DEFAULT_TENANT, WorkflowDefinitionRow
from services.orchestrator.definitions import Problem, WorkflowDefinition, until_problems


class VersionConflict(ValueError):
    """The name and version exist with a different definition."""


async def register(
    session: AsyncSession, definition: WorkflowDefinition, tenant: str = DEFAULT_TENANT
) -> tuple[WorkflowDefinitionRow, bool]:
    """Store a definition of ``tenant``; without a version it becomes the next one.

    Registering the same content again is idempotent (returns the stored row, created=False);
    the same version with other content raises VersionConflict.
    """
    latest = await get(session, definition.name, tenant=tenant)
    body = definition.model_dump(mode="json", exclude_none=True, by_alias=True)
    if latest is not None and _same(latest.definition, body, definition.version is None):
        return latest, False
    version = definition.version
    if version is None:
        version = (latest.version + 1) if latest is not None else 1
    else:
        existing = await get(session, definition.name, version, tenant=tenant)
        if existing is not None:
            if _same(existing.definition, body, False):
                return existing, False
            raise VersionConflict(
                f"{definition.name} version {version} exists with another definition"
            )
    body["version"] = version
    row = WorkflowDefinitionRow(
        tenant=tenant, name=definition.name, version=version, definition=body
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration took the version
        raise VersionConflict(
            f"{definition.name} version {version} was registered concurrently"
        ) from exc
    return row, True


def _same(stored: dict[str, object], body: dict[str, object], ignore_version: bool) -> bool:
    if ignore_version:
        stored = {k: v for k, v in stored.items() if k != "version"}
        body = {k: v for k, v in body.items() if k != "version"}
    return stored == body


async def get(
    session: AsyncSession, name: str, version: int | None = None, *, tenant: str = DEFAULT_TENANT
) -> WorkflowDefinitionRow | None:
    """A definition of ``tenant`` by name: the given version, or the latest."""
    query = select(WorkflowDefinitionRow).where(
        WorkflowDefinitionRow.tenant == tenant, WorkflowDefinitionRow.name == name
    )
    if version is not None:
        query = query.where(WorkflowDefinitionRow.version == version)
    query = query.order_by(WorkflowDefinitionRow.version.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


_PARSED: dict[tuple[str, str, int, datetime], WorkflowDefinition] = {}


def parsed(row: WorkflowDefinitionRow) -> WorkflowDefinition:
    """A stored definition, parsed once per process (a version never changes; the time it was
    registered tells apart databases that reuse a name and version)."""
    key = (row.tenant, row.name, row.version, row.created_at)
    definition = _PARSED.get(key)
    return definition if definition is not None else _parse(key, row.definition)


def _parse(key: tuple[str, str, int, datetime], stored: dict[str, Any]) -> WorkflowDefinition:
    if len(_PARSED) >= 1000:
        _PARSED.pop(next(iter(_PARSED)))
    definition = _PARSED[key] = WorkflowDefinition.model_validate(stored)
    return definition


# Built once (bound by name): runs start by name many times a second, and a statement built
# per call costs more to build and to look up in SQLAlchemy's compiled cache than to run.
_TABLE = WorkflowDefinitionRow.__table__
_KEYS = (
    select(_TABLE.c.id, _TABLE.c.version, _TABLE.c.created_at)
    .where(_TABLE.c.tenant == bindparam("tenant"), _TABLE.c.name == bindparam("name"))
    .order_by(_TABLE.c.version.desc())
    .limit(1)
)
_KEYS_OF_VERSION = _KEYS.where(_TABLE.c.version == bindparam("version"))
_DEFINITION = select(_TABLE.c.definition).where(_TABLE.c.id == bindparam("id"))


async def lookup(
    db: AsyncSession | AsyncConnection,
    name: str,
    version: int | None = None,
    *,
    tenant: str = DEFAULT_TENANT,
) -> tuple[WorkflowDefinition, int] | None:
    """What ``get`` finds, parsed, with its version; None when it is not registered.

    Runs start by name many times a second: this reads the row's key columns, and its
    definition (JSON to decode, then to validate) only the first time this process sees
    that version. ``db`` is a session or, without the session's own cost, a connection.
    """
    params: dict[str, object] = {"tenant": tenant, "name": name}
    if version is not None:
        params["version"] = version
    query = _KEYS if version is None else _KEYS_OF_VERSION
    found = (await db.execute(query, params)).one_or_none()
    if found is None:
        return None
    key = (tenant, name, found.version, found.created_at)
    definition = _PARSED.get(key)
    if definition is None:
        stored = (await db.execute(_DEFINITION, {"id": found.id})).scalar_one_or_none()
        if stored is None:  # a version is never deleted; a database reset meanwhile
            return None
        definition = _parse(key, stored)
    return definition, found.version


Found = tuple[WorkflowDefinition, int] | None
LookupKey = tuple[str, str, int | None]  # tenant, name, version (None: the latest)


class SharedLookups:
    """``lookup`` on connections of ``engine``, where the same lookup asked while one is on
    its way shares the next one, and an answer is kept while no definition is registered.

    A burst of runs started by name asks for one definition many times at once: those asked
    while its statement is on its way go out together in the next one, sent after each of
    them was asked (so none gets an answer older than its request, as with a read each).

    An answer is kept under the definitions epoch its request read before it was asked
    (``services.throttle``: every registration changes it after its commit and before its
    answer, on every replica's next request), and used again by requests that read the same
    epoch, for ``max_age_s`` at most: the bound for a change the epoch did not announce (a row
    written behind MODX's back, a registration whose epoch change failed after its commit).
    So a run started after a registration was answered gets the new version; ``max_age_s=0``
    reads on every start.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        max_age_s: float = 0.0,
        size: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self.max_age_s = max_age_s
        self._size = size
        self._clock = clock
        self._next: dict[LookupKey, list[asyncio.Future[Found]]] = {}  # per lookup on its way
        self._flights: set[asyncio.Task[None]] = set()
        self._kept: dict[LookupKey, tuple[int, float, Found]] = {}  # epoch, asked at, answer

    async def lookup(self, name: str, version: int | None, *, tenant: str, epoch: int = 0) -> Found:
        """What ``lookup`` answers; ``epoch``: the definitions epoch the request read (0: none,
        nothing kept)."""
        key = (tenant, name, version)
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None and epoch and kept[0] == epoch and now - kept[1] < self.max_age_s:
            return kept[2]
        found = await self._shared(key)
        if epoch and self.max_age_s and found is not None:
            if len(self._kept) >= self._size:
                self._kept.clear()  # the workflows in use come back at their next start
            self._kept[key] = (epoch, now, found)
        return found

    async def _shared(self, key: LookupKey) -> Found:
        asked: asyncio.Future[Found] = asyncio.get_running_loop().create_future()
        waiting = self._next.get(key)
        if waiting is not None:
            waiting.append(asked)
        else:
            self._next[key] = []
            flight = asyncio.create_task(self._fly(key, [asked]), name="workflow-lookup")
            self._flights.add(flight)
            flight.add_done_callback(self._flights.discard)
        return await asked

    async def _fly(self, key: LookupKey, asked: list[asyncio.Future[Found]]) -> None:
        tenant, name, version = key
        try:
            while asked:
                try:
                    async with self._engine.connect() as conn:
                        found = await lookup(conn, name, version, tenant=tenant)
                except Exception as exc:
                    for future in asked:
                        if not future.done():  # else its request went away
                            future.set_exception(exc)
                else:
                    for future in asked:
                        if not future.done():
                            future.set_result(found)
                asked, self._next[key] = self._next[key], []
        finally:  # cancelled (the server stops): nobody waits for ever
            for future in [*asked, *self._next.pop(key)]:
                future.cancel()


async def list_latest(
    session: AsyncSession, tenant: str = DEFAULT_TENANT
) -> Sequence[WorkflowDefinitionRow]:
    """The latest version of every definition of ``tenant``, by name."""
    latest = (
        select(WorkflowDefinitionRow.name, func.max(WorkflowDefinitionRow.version).label("v"))
        .where(WorkflowDefinitionRow.tenant == tenant)
        .group_by(WorkflowDefinitionRow.name)
        .subquery()
    )
    query = select(WorkflowDefinitionRow).join(
        latest,
        (WorkflowDefinitionRow.tenant == tenant)
        & (WorkflowDefinitionRow.name == latest.c.name)
        & (WorkflowDefinitionRow.version == latest.c.v),
    )
    return (await session.execute(query.order_by(WorkflowDefinitionRow.name))).scalars().all()


async def unknown_children(
    session: AsyncSession, definition: WorkflowDefinition, tenant: str, base: str = "$"
) -> list[Problem]:
    """The sub-workflows and loop bodies ``definition`` names that ``tenant`` has not
    registered (checked when a definition is registered or submitted inline; a child
    workflow is registered before the workflows that use it), and a loop's ``until`` that
    reads what its registered body's output never has."""
    problems: list[Problem] = []
    for index, step in enumerate(definition.steps):
        named = [(f".steps[{index}]", step.workflow, step.version)]
        if step.loop is not None:
            named.append((f".steps[{index}].loop", step.loop.workflow, step.loop.version))
        for where, name, version in named:
            if name is None:
                continue
            row = await get(session, name, version, tenant=tenant)
            if row is not None:
                if where.endswith(".loop"):
                    # The body's output as registered now (the version named, else the latest).
                    found = until_problems(step, f"$.steps[{index}]", parsed(row))
                    problems.extend(
                        Problem(path=base + p.path[1:], message=p.message) for p in found
                    )
                continue
            field = (
                ".version"
                if version is not None and await get(session, name, tenant=tenant)
                else ".workflow"
            )
            label = name + (f"@{version}" if version is not None else "")
            problems.append(
                Problem(path=base + where + field, message=f"workflow {label!r} is not registered")
            )
    return problems
