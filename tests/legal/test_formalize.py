"""From English to a tax answer: a goal run ``tax:CaseText -> tax:TaxAnswer`` plans
``legal.formalize -> legal.validate_facts -> legal.infer``; the model is a scripted
OpenAI-compatible server. It shows that the ontology's JSON Schema is sent, that an ontology
problem goes back to the model with its JSON path, that the repaired answer is accepted, and
that the answer then comes from those facts through the proof; the run records the prompt, the
raw answers, the repairs, the accepted facts and the tokens."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.legal import agent as legal_module
from agents.legal.agent import agent as legal
from agents.legal.formalize import case_text_of, problems_of
from ontology import Facts, sara_dir
from tests.fixtures.stack import Stack
from tests.models.fake_gateway import FakeGateway, Reply

pytestmark = pytest.mark.prolog

TEXT = "Alice was paid $50000 on June 1st, 2017. She is not married.\n\nQuestion: How much tax \
does Alice have to pay in 2017?"

GOOD: dict[str, Any] = {
    "facts": {
        "individuals": [
            {
                "id": "alice_is_paid",
                "types": ["Payment"],
                "properties": {"patient": ["alice"], "amount": [50000], "start": ["2017-06-01"]},
            },
            {"id": "alice", "types": ["Person"]},
        ]
    },
    "question": {"person": "alice", "year": 2017},
}
BAD = copy.deepcopy(GOOD)
BAD["facts"]["individuals"][0]["properties"]["start"] = ["2017-02-30"]  # no such day
BAD_PATH = "$.facts.individuals[0].properties.start[0]"
PLAN = ["legal.formalize", "legal.validate_facts", "legal.infer"]


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    server = FakeGateway()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def legal_resources(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """This loop's SWI-Prolog resources for the in-process legal agent, closed afterwards."""
    yield
    shared: Any = legal_module.resources()
    if shared.pool is not None:
        await shared.pool.close()
    if shared.expander is not None:
        shared.expander.close()
    await legal_module.CHAT.close()


def test_the_repair_problems_name_their_json_path() -> None:
    assert [p["path"] for p in problems_of(BAD)] == [BAD_PATH]
    assert problems_of(GOOD) == []
    wrong_person = {**GOOD, "question": {"person": "bob", "year": 2017}}
    assert [p["path"] for p in problems_of(wrong_person)] == ["$.question.person"]


def test_only_the_text_and_question_of_a_sara_case_are_used() -> None:
    path = sara_dir() / "cases" / "tax_case_1.pl"
    if not path.exists():
        pytest.skip("SARA data not available")
    text = case_text_of(path.read_text())
    assert "% Facts" not in text and "_(" not in text  # no Prolog facts
    assert text.rstrip().endswith("?")  # the gold answer is cut off the question


async def test_a_goal_run_from_english_formalizes_repairs_and_infers(
    stack: Stack,
    swipl: str,
    gateway: FakeGateway,
    legal_resources: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODX_LLM_BASE_URL", gateway.base_url)
    gateway.reset(
        Reply(content=json.dumps(BAD), usage=(900, 120)),
        Reply(content=json.dumps(GOOD), usage=(1100, 110)),
    )
    await stack.agent(legal)
    goal = {"produce": "tax:TaxAnswer", "given": {"tax:CaseText": TEXT}}
    response = await stack.client.post("/v1/runs", json={"goal": goal})
    assert response.status_code == 202, response.text
    run = await stack.wait(response.json()["run_id"], timeout=120)
    assert run["status"] == "succeeded", run["error"]
    assert [s["capability"] for s in run["steps"]] == PLAN

    # The ontology's schema went to the model, with the case text.
    first, second = gateway.requests
    schema = first["response_format"]["json_schema"]["schema"]
    assert "Payment" in json.dumps(schema) and schema["required"] == ["facts", "question"]
    assert first["messages"][-1]["content"] == TEXT
    # The problem went back with its path; the repaired answer was accepted.
    assert BAD_PATH in second["messages"][-1]["content"]
    assert second["messages"][-2] == {"role": "assistant", "content": json.dumps(BAD)}

    full = (await stack.client.get(f"/v1/runs/{run['run_id']}")).json()
    formalized = next(s for s in full["steps"] if s["capability"] == "legal.formalize")["output"]
    assert formalized["answers"] == [json.dumps(BAD), json.dumps(GOOD)]
    assert [r["problems"][0]["path"] for r in formalized["repairs"]] == [BAD_PATH]
    accepted = Facts.model_validate(formalized["facts"])
    assert accepted == Facts.model_validate(GOOD["facts"])
    assert formalized["query"]["person"] == "alice"
    assert formalized["prompt"][0]["role"] == "system" and formalized["rounds"] == 2
    assert formalized["tokens"]["total_tokens"] == 900 + 120 + 1100 + 110

    # The answer comes from those facts, through the proof.
    output = run["output"]
    assert output["proof"]["goal"] == f"tax(alice,2017,{output['answer']})"
    assert output["answer"] > 0
    leaves = json.dumps(output["proof"])
    assert "amount_(alice_is_paid,50000)" in leaves


def test_eval_from_text_scores_the_answers_of_the_formalized_text(
    gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, swipl: str
) -> None:
    """``modx legal eval --from-text``: only the English goes to the model, the answer is
    scored like any numeric case."""
    from typer.testing import CliRunner

    from ontology import ReasonerPool, statutes_rules
    from services.cli.main import app

    async def tax() -> int:
        async with ReasonerPool(statutes_rules(), size=1, swipl=swipl) as pool:
            facts = Facts.model_validate(GOOD["facts"])
            answer = await pool.query(facts, "tax(alice, 2017, Amount)")
            return int(answer.bindings["Amount"])  # type: ignore[arg-type]

    gold = asyncio.run(tax())
    case = tmp_path / "case.pl"
    case.write_text(
        "% Text\n% Alice was paid $50000 on June 1st, 2017. She is not married.\n\n"
        f"% Question\n% How much tax does Alice have to pay in 2017? ${gold}\n\n"
        "% Facts\npayment_(p).\n\n% Test\n:- tax(alice,2017,0).\n"
    )
    runner = CliRunner()
    monkeypatch.delenv("MODX_LLM_BASE_URL", raising=False)
    refused = runner.invoke(app, ["legal", "eval", str(case), "--from-text", "--embedded"])
    assert refused.exit_code == 2 and "MODX_LLM_BASE_URL" in refused.output

    monkeypatch.setenv("MODX_LLM_BASE_URL", gateway.base_url)
    gateway.reset(Reply(content=json.dumps(GOOD)))
    result = runner.invoke(app, ["legal", "eval", str(case), "--from-text", "--embedded", "--json"])
    assert result.exit_code == 0, result.output[-2000:]
    totals = json.loads(result.stdout.strip().splitlines()[-1])
    assert (totals["total"], totals["exact"], totals["within_10pct"]) == (1, 1, 1), totals["cases"][
        0
    ]["error"]
    sent = gateway.requests[0]["messages"][-1]["content"]
    assert "payment_(" not in sent and f"${gold}" not in sent  # text only, no facts, no gold
    assert "Alice was paid $50000" in sent


# A binary question from English: Alice and Bob file jointly for 2015, so Alice has no §151(b)
# exemption for Bob (the spouse's exemption needs a separate return).
CLAUSE_TEXT = "Alice and Bob married on May 2nd, 2009. They filed a joint return for 2015.\n\n\
Question: Alice can receive an exemption for Bob under section 151(b) for the year 2015."
CLAUSE_GOOD: dict[str, Any] = {
    "facts": {
        "individuals": [
            {"id": "alice", "types": ["Person"]},
            {"id": "bob", "types": ["Person"]},
            {
                "id": "alice_and_bob",
                "types": ["Marriage"],
                "properties": {"agent": ["alice", "bob"], "start": ["2009-05-02"]},
            },
            {
                "id": "their_return",
                "types": ["JointReturn"],
                "properties": {
                    "agent": ["alice", "bob"],
                    "start": ["2015-01-01"],
                    "end": ["2015-12-31"],
                },
            },
        ]
    },
    "question": {"kind": "goal", "text": "s151_b(alice,bob,2015)", "assumptions": []},
}
CLAUSE_BAD = copy.deepcopy(CLAUSE_GOOD)
CLAUSE_BAD["question"]["text"] = "s151_spouse(alice,bob,2015)"  # no such clause in the table


def test_a_clause_question_is_checked_against_the_clause_table() -> None:
    assert problems_of(CLAUSE_GOOD) == []
    assert [p["path"] for p in problems_of(CLAUSE_BAD)] == ["$.question.text"]
    stranger = copy.deepcopy(CLAUSE_GOOD)
    stranger["question"]["text"] = "s151_b(alice,carol,2015)"  # carol is nobody in the facts
    assert [p["code"] for p in problems_of(stranger)] == ["unknown_individual"]
    unseen = copy.deepcopy(CLAUSE_GOOD)
    unseen["question"]["text"] = "s152_d_2_C(bob,alice,2015)"  # no table row; our node has it
    assert problems_of(unseen) == []
    stated = copy.deepcopy(CLAUSE_GOOD)
    stated["question"]["assumptions"] = ["s7703(alice,bob,_,_,_,_,_,_,2015).", "s9_z(bob)."]
    assert [p["path"] for p in problems_of(stated)] == ["$.question.assumptions[1]"]


async def test_a_goal_run_from_english_answers_a_clause_question_with_its_proof(
    stack: Stack,
    swipl: str,
    gateway: FakeGateway,
    legal_resources: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODX_LLM_BASE_URL", gateway.base_url)
    gateway.reset(
        Reply(content=json.dumps(CLAUSE_BAD), usage=(900, 120)),
        Reply(content=json.dumps(CLAUSE_GOOD), usage=(1000, 100)),
    )
    await stack.agent(legal)
    goal = {"produce": "tax:EntailmentAnswer", "given": {"tax:CaseText": CLAUSE_TEXT}}
    response = await stack.client.post("/v1/runs", json={"goal": goal})
    assert response.status_code == 202, response.text
    run = await stack.wait(response.json()["run_id"], timeout=120)
    assert run["status"] == "succeeded", run["error"]
    assert [s["capability"] for s in run["steps"]] == [
        "legal.formalize",
        "legal.validate_facts",
        "legal.entail",
    ]
    # The schema offered the clause table's heads; the unknown clause went back with its path.
    first, second = gateway.requests
    schema = json.dumps(first["response_format"]["json_schema"]["schema"])
    assert "s151_b(taxpayer" in schema and "s2_b_1_A(" in schema
    assert "$.question.text" in second["messages"][-1]["content"]
    # The answer is the reasoner's, from those facts: the joint return defeats §151(b).
    output = run["output"]
    assert output["answer"] == "Contradiction"
    assert output["question"] == "s151_b(alice,bob,2015)"
    assert "joint_return_filed(alice,bob,2015)" in json.dumps(output["proof"])


def test_eval_from_text_scores_binary_cases_too(
    gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, swipl: str
) -> None:
    from typer.testing import CliRunner

    from services.cli.main import app

    case = tmp_path / "s151_b_joint.pl"
    case.write_text(
        "% Text\n% Alice and Bob married on May 2nd, 2009. They filed a joint return for "
        "2015.\n\n% Question\n% Alice can receive an exemption for Bob under section 151(b) "
        "for the year 2015. Contradiction\n\n% Facts\nmarriage_(m).\n\n% Test\n"
        ":- \\+ s151_b(alice,bob,2015).\n"
    )
    monkeypatch.setenv("MODX_LLM_BASE_URL", gateway.base_url)
    gateway.reset(Reply(content=json.dumps(CLAUSE_GOOD)))
    runner = CliRunner()
    result = runner.invoke(app, ["legal", "eval", str(case), "--from-text", "--embedded", "--json"])
    assert result.exit_code == 0, result.output[-2000:]
    totals = json.loads(result.stdout.strip().splitlines()[-1])
    assert totals["binary"] == {"total": 1, "correct": 1, "errors": 0}, totals["cases"]
    assert totals["cases"][0]["answer"] == "Contradiction"
    sent = gateway.requests[0]["messages"][-1]["content"]
    assert "marriage_(" not in sent and "Contradiction" not in sent  # text only, no gold
