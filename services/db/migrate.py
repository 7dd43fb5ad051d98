"""Programmatic Alembic: ``modx db upgrade`` and the service's start-up call this."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from services.db.partitions import is_partition

MIGRATIONS = Path(__file__).parent / "migrations"


def include_name(name: str | None, kind: str, _parents: object) -> bool:
    """What Alembic compares: the partitioned tables, not their monthly partitions (the
    service makes those, ``services.db.partitions``)."""
    return not (kind == "table" and is_partition(name))


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """``upgrade`` from inside a running event loop (env.py runs its own loop)."""
    await asyncio.to_thread(upgrade, url, revision)


async def downgrade_async(url: str, revision: str = "base") -> None:
    """``downgrade`` from inside a running event loop."""
    await asyncio.to_thread(downgrade, url, revision)
