"""Fixtures for the reasoner tests: a pool over the toy rules (not tax law)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ontology.reasoner import ReasonerPool

TOY_RULES = Path(__file__).with_name("toy_rules.pl")


@pytest.fixture
async def toy_pool(swipl: str) -> AsyncIterator[ReasonerPool]:
    """Two workers over ``toy_rules.pl``, with small stacks so resource tests run fast."""
    pool = ReasonerPool(
        [TOY_RULES], size=2, swipl=swipl, stack_limit_mb=64, default_timeout_s=5.0, grace_s=1.0
    )
    async with pool:
        yield pool
