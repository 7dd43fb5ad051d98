"""Shared fixtures (server fixtures live in tests/fixtures/), and the CI rule on skips
(tests/fixtures/skips.py: with ``MODX_TEST_REQUIRE_SERVICES=1`` a skip is a failure)."""

import os
from collections.abc import Iterator

import pytest

from tests.fixtures.databases import (  # noqa: F401
    _empty_databases,
    _migrated_databases,
    postgres_dropper,
    postgres_migrated_url,
    postgres_url,
)
from tests.fixtures.hangs import pytest_runtest_protocol  # noqa: F401
from tests.fixtures.redis_cluster import (  # noqa: F401
    redis_cluster_session,
    redis_cluster_url,
)
from tests.fixtures.services import (  # noqa: F401
    chromium,
    redis_url,
    swipl,
)
from tests.fixtures.skips import (  # noqa: F401
    pytest_make_collect_report,
    pytest_runtest_makereport,
)
from tests.fixtures.stack import stack  # noqa: F401


@pytest.fixture(autouse=True, scope="session")
def _agent_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Agents' keys (``MODX_AGENT_KEY_DIR``) in a directory of this test session, shared by the
    agents it starts in this process and in others, never in the working tree."""
    previous = os.environ.get("MODX_AGENT_KEY_DIR")
    os.environ["MODX_AGENT_KEY_DIR"] = str(tmp_path_factory.mktemp("agent-keys"))
    yield
    if previous is None:
        os.environ.pop("MODX_AGENT_KEY_DIR", None)
    else:
        os.environ["MODX_AGENT_KEY_DIR"] = previous
