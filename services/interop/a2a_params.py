"""What the A2A SDK's parser of request params would change without a word: an enum value it
does not know.

The SDK's dispatcher parses params with ``ignore_unknown_fields`` (for forward compatibility),
which protobuf also applies to enum values: ``"status": "TASK_STATE_BOGUS"`` reads as the
default (``TASK_STATE_UNSPECIFIED``: any state), and an unknown number is kept as is. A
request naming a value that does not exist is a bad request, so the endpoint refuses it
(``-32602`` naming the field) before the SDK reads it.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor


def unknown_enum(
    value: Any, descriptor: Descriptor, path: str = "$.params"
) -> tuple[str, str] | None:
    """The path of the first enum value in ``value`` (the JSON of a ``descriptor`` message)
    that its enum does not have, and why; None when there is none."""
    if not isinstance(value, dict) or descriptor.full_name.startswith("google.protobuf."):
        return None  # not a message (the parser refuses it), or a well-known type (any JSON)
    fields = {f.json_name: f for f in descriptor.fields} | {f.name: f for f in descriptor.fields}
    for key, item in value.items():
        field = fields.get(key)
        if field is None or _is_map(field):
            continue  # unknown fields are the SDK's to ignore; map values are free-form here
        listed = field.is_repeated and isinstance(item, list)
        for index, one in enumerate(item if listed else [item]):
            found = _check(one, field, f"{path}.{key}" + (f"[{index}]" if listed else ""))
            if found is not None:
                return found
    return None


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _check(value: Any, field: FieldDescriptor, path: str) -> tuple[str, str] | None:
    if field.message_type is not None:
        return unknown_enum(value, field.message_type, path)
    enum = field.enum_type
    if enum is None or value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and value in enum.values_by_name:
        return None
    if isinstance(value, int) and value in enum.values_by_number:
        return None
    if not isinstance(value, str | int):
        return None  # not an enum's JSON at all: the SDK's parser refuses it
    names = ", ".join(enum.values_by_name)
    return path, f"{value!r} is not a {enum.name} (one of {names})"
