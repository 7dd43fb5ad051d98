"""``load_agent``: find an Agent by ``module:attribute``."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.sdk import Agent, LoadError, load_agent
from tests.sdk import sample_agent


def test_loads_the_agent() -> None:
    assert load_agent("tests.sdk.sample_agent:agent") is sample_agent.agent
    assert isinstance(load_agent("tests.sdk.sample_agent:agent"), Agent)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("tests.sdk.sample_agent", "expected 'package.module:attribute'"),
        (":agent", "expected 'package.module:attribute'"),
        ("tests.sdk.nowhere:agent", "cannot find module 'tests.sdk.nowhere'"),
        ("tests.sdk.sample_agent:missing", "has no attribute 'missing'"),
        ("tests.sdk.sample_agent:not_an_agent", "is a str, not an agents.sdk.Agent"),
    ],
)
def test_bad_paths_say_what_is_wrong(path: str, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        load_agent(path)


def test_a_missing_dependency_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "needs_dep.py").write_text("import not_installed_anywhere_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(LoadError, match=r"importing 'needs_dep' failed: .*not_installed_anywhere"):
        load_agent("needs_dep:agent")


def test_load_error_is_an_import_error() -> None:
    assert issubclass(LoadError, ImportError)
