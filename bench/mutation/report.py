"""Turn a mutmut run into a report: the score per module, and every surviving mutant with its
file, line and change, marked as justified when ``justified.md`` explains it.

Run by ``bench/mutation/run.sh`` from the run's work directory; exits 1 when a module's score
(killed + justified, over all mutants) is under the target.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

TARGET = 0.90
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
HERE = Path(__file__).resolve().parent


def justified(path: Path) -> dict[str, str]:
    """Mutant name -> the reason it may survive, from the ``- `name`: reason`` lines."""
    if not path.exists():
        return {}
    found = re.findall(r"^- `([^`]+)`[^:]*: (.+)$", path.read_text(), re.M)
    return dict(found)


def function_span(source: str, name: str) -> tuple[int, int]:
    """The lines (1-based, inclusive, decorators included) of the function mutant ``name``
    mutates, or the whole file when it is not found (mutmut mutates top-level functions and
    methods only)."""
    function, cls = orig_function_and_class_names_from_key(name)
    body = ast.parse(source).body
    if cls is not None:
        body = next((n.body for n in body if isinstance(n, ast.ClassDef) and n.name == cls), [])
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return first, node.end_lineno or node.lineno
    return 1, len(source.splitlines())


def changed_line(
    source: list[str], diff: str, span: tuple[int, int] | None = None
) -> tuple[int, str]:
    """The line of ``source`` (1-based) the mutant changes, and the change in one line.

    The line is found by the diff's whole first hunk (the changed line with the lines around
    it), inside ``span`` (the mutated function's lines), so that two identical lines, in one
    function or in two, each get their own number.
    """
    old: list[tuple[str, bool]] = []  # the first hunk's original side: (text, removed)
    added: list[str] = []
    hunks = 0
    for ln in diff.splitlines():
        if ln.startswith("@@"):
            hunks += 1
        elif hunks != 1 or ln.startswith(("---", "+++")):
            continue
        elif ln.startswith("+"):
            added.append(ln[1:])
        else:
            old.append((ln[1:], ln.startswith("-")))
    removed = [text for text, gone in old if gone]
    change = f"{removed[0].strip() if removed else ''} -> {added[0].strip() if added else ''}"
    if not removed:
        return 0, change
    lo, hi = span or (1, len(source))
    block = [text.strip() for text, _ in old]
    at = next(i for i, (_, gone) in enumerate(old) if gone)
    for start in range(max(lo, 1) - 1, hi - len(block) + 1):
        if all(source[start + k].strip() == text for k, text in enumerate(block)):
            return start + at + 1, change
    # The hunk is not found as it is (the source changed after the run): the first line
    # of the function, then of the file, with the changed text.
    target = removed[0].strip()
    candidates = [i + 1 for i, text in enumerate(source) if text.strip() == target]
    inside = [n for n in candidates if lo <= n <= hi]
    return (inside or candidates or [0])[0], change


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out = args.out.resolve()  # relative to where it was run, not to the work directory
    os.chdir(args.work)
    reasons = justified(HERE / "justified.md")
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    survivors: list[tuple[str, int, str, str, str]] = []
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        module = str(meta.relative_to("mutants"))[: -len(".meta")]
        text = Path(module).read_text()
        source = text.splitlines()
        data = json.loads(meta.read_text())
        for name, code in sorted(data["exit_code_by_key"].items()):
            status = status_by_exit_code[code]
            if status in KILLED:
                counts[module]["killed"] += 1
                counts[module]["timeout"] += status == "timeout"
            elif name in reasons:
                counts[module]["justified"] += 1
            else:
                counts[module][status] += 1
            if status not in KILLED and status != "not checked":
                with contextlib.redirect_stdout(io.StringIO()):
                    diff = get_diff_for_mutant(name, path=module)
                line, change = changed_line(source, diff, function_span(text, name))
                survivors.append((module, line, name, status, change))
    if not counts:
        print("no mutant was found: mutmut did not run (see mutmut.log)", file=sys.stderr)
        return 2
    out = [f"# Mutation testing: profile `{args.profile}`", ""]
    out += [
        "| module | mutants | killed | justified | survived | no test | not checked | score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    failing = []
    for module, c in sorted(counts.items()):
        total = sum(n for status, n in c.items() if status != "timeout")
        killed, kept, unchecked = c["killed"], c["justified"], c["not checked"]
        survived = total - killed - kept - unchecked - c["no tests"]
        # Over every mutant: one not checked (an interrupted run) counts against the score.
        score = (killed + kept) / total if total else 1.0
        if score < TARGET:
            failing.append(module)
        out.append(
            f"| {module} | {total} | {killed} | {kept} | {survived} | {c['no tests']} "
            f"| {unchecked} | {score:.1%} |"
        )
    timeouts = {m: c["timeout"] for m, c in sorted(counts.items()) if c["timeout"]}
    if timeouts:
        # A timeout is mutmut stopping the whole test run, not a test failing: honest only
        # when the limit is far above what the run takes on a loaded machine (see README.md).
        out += [
            "",
            "Killed by mutmut's timeout (included in killed): "
            + ", ".join(f"{m} {n}" for m, n in timeouts.items()),
        ]
    out += ["", "## Mutants not killed (file:line, mutant, status, change)", ""]
    for module, line, name, status, change in sorted(survivors):
        why = f" — justified: {reasons[name]}" if name in reasons else ""
        out.append(f"- {module}:{line} `{name}` {status}: `{change}`{why}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(out) + "\n")
    print("\n".join(out[: 4 + len(counts)]))
    print(f"report: {args.out}")
    if failing:
        print(f"under the target of {TARGET:.0%}: {', '.join(failing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
