"""Python values written as Prolog terms."""

from __future__ import annotations

import math

import pytest

from ontology.reasoner.terms import Str, Var, atom, compound, goal, number, string


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alice", "alice"),
        ("alice_2019", "alice_2019"),
        ("Alice", "'Alice'"),
        ("_x", "'_x'"),
        ("", "''"),
        ("is", "'is'"),
        ("o'brien", "'o\\'brien'"),
        ("a\\b", "'a\\\\b'"),
        ("a). :- halt. b(", "'a). :- halt. b('"),
        ("line\nbreak", "'line\\xa\\break'"),
        ("§63", "'§63'"),
    ],
)
def test_atom(text: str, expected: str) -> None:
    assert atom(text) == expected


def test_string_and_numbers() -> None:
    assert string('say "hi"') == '"say \\"hi\\""'
    assert number(1200) == "1200"
    assert number(-5) == "-5"
    assert number(0.5) == "0.5"
    assert number(1e20) == "1.0e+20"
    for bad in (True, math.nan, math.inf):
        with pytest.raises(ValueError):
            number(bad)


def test_goal_builder() -> None:
    assert goal("tax", "alice", 2019, Var("Amount")) == "tax(alice, 2019, Amount)"
    assert compound("label_", ["x", Str("y z")]) == 'label_(x, "y z")'
    assert goal("halt") == "halt"
    with pytest.raises(ValueError):
        Var("amount")
    with pytest.raises(TypeError):
        compound("p", [[1]])  # type: ignore[list-item]
