"""What the A2A SDK's parser of request params would let through without a word: an enum
value it does not know, and a field A2A's proto marks REQUIRED left out.

The SDK's dispatcher parses params with ``ignore_unknown_fields`` (for forward compatibility),
which protobuf also applies to enum values: ``"status": "TASK_STATE_BOGUS"`` reads as the
default (``TASK_STATE_UNSPECIFIED``: any state), and an unknown number is kept as is. Nor does
it check ``field_behavior = REQUIRED``: a message without ``messageId`` or ``role`` parsed as
one with empty ones. A2A has servers "validate all input parameters before processing", so
the endpoint refuses both (``-32602`` naming the field) before the SDK reads them.
"""

from __future__ import annotations

from typing import Any

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

_REQUIRED = field_behavior_pb2.FieldBehavior.REQUIRED


def refused(value: Any, descriptor: Descriptor, path: str = "$.params") -> tuple[str, str] | None:
    """The path of the first field of ``value`` (the JSON of a ``descriptor`` message) that is
    missing though REQUIRED, or names an enum value its enum does not have, and why; None
    when there is none. Absent params are an empty message."""
    if value is None:
        value = {}
    if not isinstance(value, dict) or descriptor.full_name.startswith("google.protobuf."):
        return None  # not a message (the parser refuses it), or a well-known type (any JSON)
    for field in descriptor.fields:
        if _REQUIRED in field.GetOptions().Extensions[field_behavior_pb2.field_behavior]:
            present = value.get(field.json_name, value.get(field.name))
            if _empty(present, field):
                return f"{path}.{field.json_name}", "is required"
    fields = {f.json_name: f for f in descriptor.fields} | {f.name: f for f in descriptor.fields}
    for key, item in value.items():
        known = fields.get(key)
        if known is None or _is_map(known):
            continue  # unknown fields are the SDK's to ignore; map values are free-form here
        listed = known.is_repeated and isinstance(item, list)
        for index, one in enumerate(item if listed else [item]):
            found = _check(one, known, f"{path}.{key}" + (f"[{index}]" if listed else ""))
            if found is not None:
                return found
    return None


def _empty(value: Any, field: FieldDescriptor) -> bool:
    # proto3 JSON: a scalar at its default is the field left out; an enum's 0 is UNSPECIFIED
    if value is None or value == "" or value == []:
        return True
    if field.enum_type is not None and not isinstance(value, bool):
        return value in (0, field.enum_type.values_by_number[0].name)
    return False


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _check(value: Any, field: FieldDescriptor, path: str) -> tuple[str, str] | None:
    if field.message_type is not None:
        return refused(value, field.message_type, path) if value is not None else None
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
