"""The neutral form every protocol is translated through: parts (text, data, files by URL),
failures and cancellations, and how MODX's own step inputs and outputs map onto them.

A step's input and output are JSON values. Going out to another protocol, an output becomes
parts with ``parts_of``; coming back, parts become an output with ``output_of``. The two are
chosen so that a MODX output survives the trip out and back unchanged:

- an object whose keys are only ``text`` (a string) and ``files`` (a list of files) becomes
  text and file parts, so peers see text as text and files as links;
- any other object becomes one data part;
- a value that is not an object becomes ``{"result": value}`` (protocols carry objects).

Coming in, one data part alone is the output itself; otherwise the output is an object with
``text`` (text parts joined by a blank line), ``data`` (the data part, or a list of them) and
``files``. What that loses is said in docs/interop.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    """A text part."""

    text: str


@dataclass(frozen=True)
class Data:
    """A structured part: a JSON object."""

    data: dict[str, Any]


@dataclass(frozen=True)
class File:
    """A file, by URL (``https:``, or ``data:`` for bytes a peer sent inline)."""

    uri: str
    name: str | None = None
    mime_type: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The file as MODX outputs carry it: ``{"uri", "name"?, "mime_type"?}``."""
        out: dict[str, Any] = {"uri": self.uri}
        if self.name is not None:
            out["name"] = self.name
        if self.mime_type is not None:
            out["mime_type"] = self.mime_type
        return out


Part = Text | Data | File


@dataclass(frozen=True)
class Failure:
    """An error as a step records it: a code, a message, and whether another try may help."""

    code: str
    message: str
    retryable: bool = False

    def as_answer(self) -> dict[str, Any]:
        """The failure as a remote agent's answer body (``{"error": …}``)."""
        return {"error": {"code": self.code, "message": self.message, "retryable": self.retryable}}


class TranslationError(ValueError):
    """A value that the other side's protocol cannot carry."""


_TEXT_AND_FILES = frozenset({"text", "files"})


def file_of(value: Any) -> File | None:
    """A file from its MODX form, or None when ``value`` is not one."""
    if not isinstance(value, dict) or not isinstance(value.get("uri"), str):
        return None
    if set(value) - {"uri", "name", "mime_type"}:
        return None
    if any(not isinstance(value[key], str) for key in ("name", "mime_type") if key in value):
        return None
    return File(value["uri"], value.get("name"), value.get("mime_type"))


def parts_of(output: Any) -> list[Part]:
    """A step's output as parts (the inverse of ``output_of`` for every object)."""
    if not isinstance(output, dict):
        return [Data({"result": output})]
    if output and set(output) <= _TEXT_AND_FILES:
        text, files = output.get("text"), output.get("files", [])
        # An empty list of files would not come back: such an output stays data.
        found = [file_of(f) for f in files] if isinstance(files, list) and files else [None]
        if "files" not in output:
            found = []
        if (text is None or isinstance(text, str)) and all(f is not None for f in found):
            parts: list[Part] = [Text(text)] if text is not None else []
            return parts + [f for f in found if f is not None]
    return [Data(output)]


def output_of(parts: list[Part]) -> Any:
    """The step output that ``parts`` make (see the module's docstring)."""
    data = [p.data for p in parts if isinstance(p, Data)]
    if len(data) == 1 and len(parts) == 1:
        return data[0]
    out: dict[str, Any] = {}
    texts = [p.text for p in parts if isinstance(p, Text)]
    if texts:
        out["text"] = "\n\n".join(texts)
    if data:
        out["data"] = data[0] if len(data) == 1 else data
    files = [p.as_json() for p in parts if isinstance(p, File)]
    if files:
        out["files"] = files
    return out


def arguments_of(payload: Any) -> dict[str, Any]:
    """A step's input as the arguments of a call to another protocol (an object)."""
    if not isinstance(payload, dict):
        raise TranslationError("the step's input must be an object to call this agent")
    return payload
