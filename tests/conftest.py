"""Shared fixtures (server fixtures live in tests/fixtures/), and the CI rule on skips
(tests/fixtures/skips.py: with ``MODX_TEST_REQUIRE_SERVICES=1`` a skip is a failure)."""

from tests.fixtures.services import (  # noqa: F401
    chromium,
    postgres_url,
    redis_url,
    swipl,
)
from tests.fixtures.skips import (  # noqa: F401
    pytest_make_collect_report,
    pytest_runtest_makereport,
)
from tests.fixtures.stack import stack  # noqa: F401
