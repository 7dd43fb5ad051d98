"""Fixtures of the security tests."""

from tests.fixtures.serve import servers  # noqa: F401  (the servers a test starts and kills)
