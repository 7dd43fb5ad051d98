"""The flagship workload end to end: every numeric SARA training case through the bus and the
``sara-tax`` workflow, exact; and bad input ending its step with a structured error."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from agents.legal.agent import agent as legal
from agents.legal.workflow import DEMO_CASE, SARA_TAX
from ontology import sara_dir
from services.cli.legal import gold_of
from tests.fixtures.services import missing
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.prolog


def numeric_cases() -> list[Path]:
    root = sara_dir()
    if not (root / "cases").is_dir():
        missing(f"the SARA data at {root} (set MODX_SARA_DIR)")
    return sorted(
        (root / "cases").glob("tax_case_*.pl"), key=lambda p: int(p.stem.rsplit("_", 1)[1])
    )


async def start_legal(stack: Stack) -> None:
    if stack.mode == "distributed":
        stack.process("bus", "legal")  # the legal agent in its own OS process
        await stack.wait_agent("legal")
    else:
        await stack.agent(legal)


async def test_all_numeric_training_cases_are_exact_through_the_workflow(
    stack: Stack, swipl: str
) -> None:
    cases = numeric_cases()
    assert len(cases) == 80
    await start_legal(stack)
    assert (await stack.client.post("/v1/workflows", json=SARA_TAX)).status_code in (200, 201)
    limit = asyncio.Semaphore(8)

    async def run(path: Path) -> tuple[str, int | str | None, dict[str, Any]]:
        text = path.read_text()
        async with limit:
            run_id = await stack.submit("sara-tax", {"case": text, "case_id": path.stem})
            return path.stem, gold_of(text), await stack.wait(run_id, timeout=300)

    results = await asyncio.gather(*(run(p) for p in cases))
    wrong = [
        (
            case,
            gold,
            finished["status"],
            (finished["output"] or {}).get("answer"),
            finished["error"],
        )
        for case, gold, finished in results
        if finished["status"] != "succeeded" or finished["output"]["answer"] != gold
    ]
    assert wrong == []
    for _, _, finished in results:  # every answer carries a proof and a cited explanation
        output = finished["output"]
        assert output["proof"]["goal"].startswith("tax(") and output["citations"]
        assert "§" in output["explanation"]


def _workflow(**infer_input: Any) -> dict[str, Any]:
    workflow = copy.deepcopy(SARA_TAX)
    workflow["name"] = "sara-tax-test"
    workflow["steps"][2]["input"].update(infer_input)
    workflow["steps"][2]["retry"] = {"max_attempts": 1}
    return workflow


async def test_bad_input_gets_a_structured_error_and_the_agent_keeps_serving(
    stack: Stack, swipl: str
) -> None:
    await start_legal(stack)
    good = DEMO_CASE.read_text()
    slow = next(p for p in numeric_cases() if p.stem == "tax_case_83").read_text()
    facts_at = good.index("% Facts")
    cases = {
        "malformed case file": (
            good.replace("marriage_(maria_and_theo).", "marriage_(maria_and_theo"),
            "parse",
        ),
        "unknown predicate": (
            good[:facts_at] + good[facts_at:].replace("income_(", "incoem_("),
            "parse",
        ),
        "contradictory facts": (
            good.replace(
                "birth_(lena_is_born).",
                "birth_(lena_is_born).\n"
                "birth_(lena_born_again).\nagent_(lena_born_again,lena).\n"
                'start_(lena_born_again,"2014-01-01").',
            ),
            "check",
        ),
        "query too long": (slow, "infer"),
    }
    # tax_case_83 needs ~375k inferences: a budget of 10k stops it, whatever the machine's speed.
    workflow = _workflow(max_inferences=10_000)
    for name, (text, failing_step) in cases.items():
        run = await stack.wait(
            await stack.submit(workflow, {"case": text, "case_id": "bad"}), timeout=120
        )
        assert run["status"] == "failed", name
        step = next(s for s in run["steps"] if s["step_id"] == failing_step)
        error = step["error"]
        assert step["status"] in ("failed", "timed_out") and error["retryable"] is False, (
            name,
            step,
        )
        assert error["code"] and error["message"], name
        if name == "contradictory facts":
            problem = error["details"]["problems"][0]
            assert problem["code"] == "contradiction" and "two Birth dates" in problem["message"], (
                error
            )
        if name == "unknown predicate":
            assert error["code"] == "unknown_predicate" and error["details"]["predicates"] == [
                "incoem_/1"
            ]
        if name == "query too long":
            assert error["code"] == "resource_limit", error
    # ...and the agent still answers a good case.
    ok = await stack.wait(
        await stack.submit(_workflow(), {"case": good, "case_id": "demo"}), timeout=120
    )
    assert ok["status"] == "succeeded" and ok["output"]["answer"] == gold_of(good)


def test_eval_scores_all_256_training_cases_numeric_and_binary_apart() -> None:
    """``modx legal eval --embedded --json`` over the whole training split: the numeric cases
    exact, the binary ones right except the listed gaps, each binary case with its verdicts."""
    import json

    from typer.testing import CliRunner

    from services.cli.main import app
    from tests.legal.test_entailment import GAPS

    root = sara_dir()
    if not (root / "cases").is_dir():
        missing(f"the SARA data at {root} (set MODX_SARA_DIR)")
    result = CliRunner().invoke(app, ["legal", "eval", str(root / "cases"), "--embedded", "--json"])
    assert result.exit_code == 0, result.output[-2000:]
    totals = json.loads(result.stdout.strip().splitlines()[-1])
    assert (totals["total"], totals["exact"], totals["errors"]) == (80, 80, 0)
    assert totals["binary"]["total"] == 176
    assert totals["binary"]["correct"] == 176 - len(GAPS)
    binary = [c for c in totals["cases"] if c["kind"] == "binary"]
    assert {c["gold"] for c in binary} == {"Entailment", "Contradiction"}
    assert all(c["correct"] == (c["answer"] == c["gold"]) for c in binary)
    assert {c["case"] for c in binary if not c["correct"]} == set(GAPS)
    numeric = [c for c in totals["cases"] if c["kind"] == "numeric"]
    assert len(numeric) == 80 and all("correct" not in c for c in numeric)


def test_eval_refuses_a_file_of_unknown_kind(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from services.cli.main import app

    odd = tmp_path / "odd.pl"
    odd.write_text("% Text\n% Something.\n\n% Question\n% Is it so? Maybe\n")
    result = CliRunner().invoke(app, ["legal", "eval", str(odd), "--json"])
    assert result.exit_code == 2
    assert str(odd) in result.output
