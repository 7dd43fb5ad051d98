"""bench/mutation/report.py: a mutant is reported at the line it changes, also when the same
text stands on several lines (in one function or in two)."""

from __future__ import annotations

import importlib.util
import json
import sys
from difflib import unified_diff
from pathlib import Path
from types import ModuleType

import pytest

REPORT = Path(__file__).resolve().parents[2] / "bench" / "mutation" / "report.py"

SOURCE = """\
class Engine:
    def first(self, ctx):
        if ctx.a:
            return True
        return False

    def second(self, ctx):
        if ctx.b:
            return True
        if ctx.c:
            x = 1
            return True
        return False
"""


def _report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_report", REPORT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _diff(function: tuple[int, int], line: int, new: str) -> str:
    """The diff mutmut shows for a mutant: the mutated function alone, the given source
    line (1-based) replaced by ``new``."""
    lines = SOURCE.splitlines()[function[0] - 1 : function[1]]
    changed = list(lines)
    changed[line - function[0]] = new
    return "\n".join(unified_diff(lines, changed, "engine.py", "engine.py", lineterm=""))


def test_a_mutant_of_a_repeated_line_is_reported_at_its_own_line() -> None:
    report = _report()
    source = SOURCE.splitlines()
    name = "services.orchestrator.engine.xǁEngineǁsecond__mutmut_7"
    span = report.function_span(SOURCE, name)
    assert span == (7, 13)
    # `return True` stands on lines 4, 9 and 12: the mutant of line 12 is reported there.
    line, change = report.changed_line(source, _diff(span, 12, "            return False"), span)
    assert (line, change) == (12, "return True -> return False")
    line, _ = report.changed_line(source, _diff(span, 9, "            return False"), span)
    assert line == 9
    first = report.function_span(SOURCE, "services.orchestrator.engine.xǁEngineǁfirst__mutmut_1")
    assert first == (2, 5)
    line, _ = report.changed_line(source, _diff(first, 4, "            return False"), first)
    assert line == 4


def test_a_top_level_function_is_found_and_an_unknown_one_spans_the_file() -> None:
    report = _report()
    text = "def helper(x):\n    return x\n\n\ndef other():\n    return 1\n"
    assert report.function_span(text, "pkg.mod.x_other__mutmut_2") == (5, 6)
    assert report.function_span(text, "pkg.mod.x_gone__mutmut_2") == (1, 6)


def test_the_report_goes_where_it_was_asked_relative_to_the_callers_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--out`` relative to where report.py is run, though it reads the run in ``--work``."""
    work = tmp_path / "work"
    (work / "mutants" / "pkg").mkdir(parents=True)
    (work / "pkg").mkdir()
    (work / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    meta = {"exit_code_by_key": {"pkg.mod.x_f__mutmut_1": 1}}
    (work / "mutants" / "pkg" / "mod.py.meta").write_text(json.dumps(meta))
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    args = ["report.py", "--profile", "p", "--work", str(work), "--out", "out.md"]
    monkeypatch.setattr(sys, "argv", args)
    assert _report().main() == 0
    assert "| pkg/mod.py | 1 | 1 | 0 | 0 | 0 | 0 | 100.0% |" in (here / "out.md").read_text()
