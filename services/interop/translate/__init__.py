"""The translation layer: MODX's step inputs, outputs and errors ↔ other agent protocols.

``parts`` is the neutral form (text, data, files by URL, failures); each protocol has one
module that maps its own types onto it (``mcp``; A2A beside it). What maps to what, and what is
lost, is in docs/interop.md.
"""

from services.interop.translate.parts import (
    Data,
    Failure,
    File,
    Part,
    Text,
    TranslationError,
    arguments_of,
    file_of,
    output_of,
    parts_of,
)

__all__ = [
    "Data",
    "Failure",
    "File",
    "Part",
    "Text",
    "TranslationError",
    "arguments_of",
    "file_of",
    "output_of",
    "parts_of",
]
