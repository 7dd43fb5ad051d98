"""Ontology concepts for discovery and planning: compact IRIs and subclass closure.

Capabilities name what they consume and produce with IRIs, usually compact ones such as
``tax:CaseFacts``. A :class:`ConceptIndex` expands them with known prefixes (``tax:`` is the
tax ontology's base, ``https://modx.dev/ontology/tax#``) and answers subsumption from the
subclass closure of the tax ontology, computed once with owlready2: ``tax:ValidatedFacts`` is
a ``tax:CaseFacts``, so a consumer of case facts accepts validated ones, and a search for
producers of ``tax:CaseFacts`` finds a capability that produces ``tax:ValidatedFacts``.

An IRI the ontology does not know (another namespace such as ``modx:Text``, or an unknown
``tax:`` name) is only ever equal to itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

PREFIXES: Mapping[str, str] = MappingProxyType(
    {"tax": "https://modx.dev/ontology/tax#", "modx": "https://modx.dev/ontology/modx#"}
)
"""Compact prefixes; ``tax`` must equal ``ontology.IRI_BASE`` (a test checks it)."""


@dataclass(frozen=True)
class ConceptIndex:
    """Prefixes, and for every ontology class the set of its ancestors (itself included).

    Attributes:
        prefixes: Prefix -> namespace, used by :meth:`expand` and :meth:`compact`.
        ancestors: Full IRI of a class -> full IRIs of the class and all its superclasses.
    """

    prefixes: Mapping[str, str]
    ancestors: Mapping[str, frozenset[str]]

    def expand(self, iri: str) -> str:
        """``tax:CaseFacts`` -> ``https://modx.dev/ontology/tax#CaseFacts``; others unchanged."""
        prefix, sep, local = iri.partition(":")
        if sep and prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return iri

    def compact(self, iri: str) -> str:
        """The inverse of :meth:`expand` (an IRI in no known namespace stays as it is)."""
        for prefix, namespace in self.prefixes.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri

    def known(self, iri: str) -> bool:
        """True when the ontology has a class with this IRI (compact or full)."""
        return self.expand(iri) in self.ancestors

    def subsumes(self, broader: str, narrower: str) -> bool:
        """True when ``narrower`` is ``broader`` or one of its subclasses (IRIs in any form)."""
        sup, sub = self.expand(broader), self.expand(narrower)
        return sup == sub or sup in self.ancestors.get(sub, frozenset())

    def any_subsumed(self, broader: str, iris: Iterable[str]) -> bool:
        """True when one of ``iris`` is ``broader`` or a subclass of it."""
        return any(self.subsumes(broader, iri) for iri in iris)

    def narrower(self, broader: str) -> frozenset[str]:
        """Full IRIs of ``broader`` and of all its subclasses."""
        sup = self.expand(broader)
        return frozenset([sup, *(cls for cls, above in self.ancestors.items() if sup in above)])

    def spellings(self, broader: str) -> frozenset[str]:
        """Every way an IRI that ``broader`` subsumes can be written, full or compact.

        A stored IRI ``s`` is subsumed exactly when ``s`` is in this set, so a database can
        filter on plain string equality instead of loading every row to call :meth:`subsumes`.
        """
        forms: set[str] = set()
        for full in self.narrower(broader):
            if self.expand(full) == full:
                forms.add(full)
            for prefix, namespace in self.prefixes.items():
                local = full[len(namespace) :]
                if full.startswith(namespace) and not local.startswith("//"):
                    forms.add(f"{prefix}:{local}")
        return frozenset(forms)


def build_index(path: Path | None = None) -> ConceptIndex:
    """Load the tax ontology into a private owlready2 World and close its subclass relation.

    Args:
        path: An RDF/XML export; the committed ``ontology/tax.owl`` when omitted.

    Returns:
        The index (plain data: the World is closed before returning).
    """
    import owlready2

    from ontology import load_ontology

    world = owlready2.World()
    try:
        onto = load_ontology(world, path)
        ancestors = {
            cls.iri: frozenset(a.iri for a in cls.ancestors() if a is not owlready2.Thing)
            for cls in onto.classes()
        }
    finally:
        world.close()
    return ConceptIndex(PREFIXES, MappingProxyType(ancestors))


_lock = threading.Lock()
_default: ConceptIndex | None = None


def default_index() -> ConceptIndex:
    """The index of the committed ontology, built once per process (blocking, ~0.5 s)."""
    global _default
    with _lock:
        if _default is None:
            _default = build_index()
        return _default


async def concept_index() -> ConceptIndex:
    """:func:`default_index` without blocking the event loop on the first call."""
    if _default is not None:
        return _default
    return await asyncio.to_thread(default_index)


__all__ = ["PREFIXES", "ConceptIndex", "build_index", "concept_index", "default_index"]
