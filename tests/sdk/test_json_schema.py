"""Schemas from users are checked with linear-time patterns (agents/sdk/json_schema.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.sdk.json_schema import (
    MAX_DEPTH,
    Mismatch,
    SchemaRefused,
    check_schema,
    mismatch,
    mismatches,
)

ROOT = Path(__file__).resolve().parents[2]
EVIL = "^(a+)+$"

# Run in a child process: with a backtracking engine a hostile value holds the process for
# hours, and the bound turns that into a failure instead of a hung suite. The wait step's
# refusal is the function the signal route has always called.
HOSTILE_CHECKS = """
import json
from services.orchestrator.steps.wait import refusal
hostile = "a" * 64 + "!"
schemas = [
    {"type": "object", "properties": {"name": {"type": "string", "pattern": EVIL}}},
    {"type": "object", "patternProperties": {EVIL: {"type": "integer"}}},
    {"type": "object", "patternProperties": {EVIL: {}}, "additionalProperties": False},
]
bodies = [{"name": hostile}, {hostile: "no integer"}, {hostile: 1}]
found = [refusal(schema, body) for schema, body in zip(schemas, bodies)]
print(json.dumps([[r.path, r.message] if r else None for r in found]))
""".replace("EVIL", repr(EVIL))


def test_hostile_values_against_backtracking_patterns_get_an_answer() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", HOSTILE_CHECKS],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    name, other_key, extra = json.loads(done.stdout)
    assert name[0] == "$.name" and "does not match" in name[1]
    assert other_key is None  # a key the pattern does not match: its rule does not apply
    assert extra[0] == "$" and "Additional properties are not allowed" in extra[1]


@pytest.mark.parametrize(
    ("schema", "path", "says"),
    [
        ({"pattern": r"(a)\1"}, ".pattern", "linear time"),
        ({"properties": {"x": {"pattern": "(?<=a)b"}}}, ".properties.x.pattern", "linear time"),
        ({"patternProperties": {"(?!x)": {}}}, '.patternProperties["(?!x)"]', "linear time"),
        ({"$ref": "file:///etc/passwd"}, "", "references inside the schema"),
        ({"$ref": "http://127.0.0.1:1/s.json"}, "", "references inside the schema"),
        ({"type": "strin"}, ".type", "anyOf"),
        ({"$schema": "http://example.com/mine"}, "", "meta-schema"),
        ("string", "", "object or a boolean"),
    ],
)
def test_schemas_that_cannot_be_checked_safely_are_refused_with_their_path(
    schema: object, path: str, says: str
) -> None:
    with pytest.raises(SchemaRefused) as refused:
        check_schema(schema)
    assert refused.value.path == path and says in refused.value.message, refused.value


def test_deep_or_large_schemas_are_refused() -> None:
    deep: dict[str, object] = {}
    for _ in range(MAX_DEPTH + 1):
        deep = {"items": deep}
    with pytest.raises(SchemaRefused, match="deeper"):
        check_schema(deep)
    large = {"enum": ["x" * 1000] * 1000}
    with pytest.raises(SchemaRefused, match="larger"):
        check_schema(large)


def test_what_a_value_breaks_is_named_by_path_first_in_path_order() -> None:
    schema = {
        "type": "object",
        "required": ["ok"],
        "properties": {"ok": {"type": "boolean"}, "tags": {"items": {"pattern": "^[a-z]+$"}}},
    }
    assert mismatch(schema, {"ok": True, "tags": ["fine"]}) is None
    assert mismatch(schema, {"tags": []}) == Mismatch(".ok", '"ok" is a required property')
    found = mismatches(schema, {"ok": 1, "tags": ["fine", "NOT", 3]}, limit=5)
    assert [m.path for m in found] == [".ok", ".tags[1]"]
    assert "does not match" in found[1].message
    long = mismatch(schema, {"ok": "x" * 10_000})
    assert long is not None and len(long.message) < 400 and long.message.endswith('"boolean"')


def test_digits_and_unicode_classes_still_work() -> None:
    schema = {"properties": {"n": {"pattern": r"^\d{3}-\w+$"}, "s": {"pattern": r"^\p{L}+$"}}}
    check_schema(schema)
    assert mismatch(schema, {"n": "123-abc", "s": "été"}) is None
    assert mismatch(schema, {"n": "12-abc", "s": "été"}) is not None
