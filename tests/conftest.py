"""Shared fixtures; server fixtures live in tests/fixtures/."""

from tests.fixtures.services import (  # noqa: F401
    chromium,
    postgres_url,
    redis_url,
    swipl,
)
from tests.fixtures.stack import stack  # noqa: F401
