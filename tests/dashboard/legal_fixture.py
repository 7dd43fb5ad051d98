"""A realistic legal result (answer, proof tree, explanation), served by a tiny in-test agent.

The legal agents are built elsewhere; this stands in for ``legal.infer`` so the dashboard's
proof view is tested on its own. The tree has the shape ``ontology/statutes/proof.pl`` builds.
"""

from __future__ import annotations

from typing import Any

from agents.sdk import Agent, TaskContext

PROOF: dict[str, Any] = {
    "goal": "tax(alice,2017,8438)",
    "citation": "§1(a)(iv)",
    "value": 8438,
    "facts": [],
    "children": [
        {
            "goal": "filing_status(alice,2017,joint)",
            "citation": "§1(a)",
            "value": None,
            "facts": [],
            "children": [
                {
                    "goal": "joint_return(alice,bob,2017)",
                    "citation": "§6013(a)",
                    "value": None,
                    "children": [
                        {
                            "goal": "marriage_(m1)",
                            "citation": "fact",
                            "value": None,
                            "children": [],
                            "facts": ["agent_(m1,alice)", "agent_(m1,bob)", "start_(m1,2009)"],
                        }
                    ],
                    "facts": [],
                }
            ],
        },
        {
            "goal": "taxable_income(alice,2017,61700)",
            "citation": "§63(a)",
            "value": 61700,
            "facts": [],
            "children": [
                {
                    "goal": "gross_income(alice,2017,74400)",
                    "citation": "§61(a)",
                    "value": 74400,
                    "children": [
                        {
                            "goal": "payment_(p1)",
                            "citation": "fact",
                            "value": 74400,
                            "children": [],
                            "facts": ["payer_(p1,acme)", "payee_(p1,alice)", "amount_(p1,74400)"],
                        }
                    ],
                    "facts": [],
                },
                {
                    "goal": "standard_deduction(alice,2017,12700)",
                    "citation": "§63(c)(2)(A)",
                    "value": 12700,
                    "facts": [],
                    "children": [
                        {
                            "goal": "\\+ s63_c_5(alice,2017)",
                            "citation": "§63(c)(5)",
                            "negation": True,
                            "value": None,
                            "children": [],
                            "facts": [],
                        }
                    ],
                },
            ],
        },
    ],
}

EXPLANATION = "\n".join(
    [
        "tax(alice,2017) = 8438  [§1(a)(iv)]",
        "  filing_status(alice,2017,joint)  [§1(a)]",
        "    joint_return(alice,bob,2017)  [§6013(a)]",
        "      marriage_(m1): agent_(m1,alice), agent_(m1,bob)  [for §6013(a)]",
        "  taxable_income(alice,2017) = 61700  [§63(a)]",
        "    gross_income(alice,2017) = 74400  [§61(a)]",
        "    standard_deduction(alice,2017) = 12700  [§63(c)(2)(A)]",
        "      not s63_c_5(alice,2017)  [§63(c)(5)]",
    ]
)

RESULT: dict[str, Any] = {"answer": 8438, "proof": PROOF, "explanation": EXPLANATION}

legal = Agent("legal-standin", version="0.1.0", description="Returns a fixed statutory proof.")


@legal.capability(
    "legal.infer",
    description="Answers a tax question with a proof citing subsections.",
    consumes=["tax:CaseFacts"],
    produces=["tax:TaxAnswer"],
)
async def infer(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """The fixed result, whatever the case."""
    return RESULT


LEGAL_WORKFLOW: dict[str, Any] = {
    "name": "sara-tax",
    "steps": [{"id": "infer", "capability": "legal.infer", "input": {"case": "$.input.case"}}],
    "output": "$.steps.infer.output",
}
