"""Ed25519 signing of envelopes: round trips, tampering, keys as text, the keyring verifier."""

from __future__ import annotations

import base64
import json
import math
import random
import re
import struct
from datetime import datetime, timedelta

import pytest

from bus import (
    Envelope,
    KeyringVerifier,
    Kind,
    generate_keypair,
    load_private_key,
    load_public_key,
    private_key_to_str,
    public_key_to_str,
    sign,
    verify,
)
from bus.signing import (
    _python_float_form,
    canonical_bytes,
    canonical_json,
    ed25519_sign,
    ed25519_verify,
    verify_bytes,
)


def make(**fields: object) -> Envelope:
    fields.setdefault("sender", "alice")
    return Envelope(
        kind=Kind.RESULT,
        topic="legal.infer",
        run_id="r1",
        step_id="s1",
        deadline=datetime(2030, 1, 1, 12, 0, 0, 123456).astimezone(),
        schema_="tax:TaxAnswer",
        payload={"answer": 1.5, "proof": ["§63(c)(2)(A)", {"ok": True}]},
        **fields,
    )


def test_a_signed_envelope_verifies_after_a_json_round_trip():
    private_key, public_key = generate_keypair()
    signed = sign(make(), private_key)
    assert signed.signature
    received = Envelope.from_json(signed.to_json())
    assert received == signed
    assert verify(received, public_key)


def test_the_signature_covers_every_other_field():
    private_key, public_key = generate_keypair()
    signed = sign(make(), private_key)
    assert signed.deadline is not None
    changes = {
        "payload": {"answer": 2},
        "sender": "mallory",
        "topic": "other",
        "attempt": 2,
        "deadline": signed.deadline + timedelta(microseconds=1),
        "schema_": "tax:Other",
        "recipient": "bob",
        "reply_to": "modx.results.3",
    }
    for field, value in changes.items():
        assert not verify(signed.model_copy(update={field: value}), public_key), field


def test_a_wrong_key_a_missing_or_garbled_signature_fail_without_raising():
    private_key, _ = generate_keypair()
    _, other_public = generate_keypair()
    signed = sign(make(), private_key)
    assert not verify(signed, other_public)
    assert not verify(make(), other_public)
    assert not verify(signed.model_copy(update={"signature": "not base64!"}), other_public)
    assert not verify(signed.model_copy(update={"signature": "AAAA"}), other_public)


def test_signing_replaces_an_old_signature_and_ignores_it_in_the_signed_bytes():
    first_key, first_public = generate_keypair()
    second_key, second_public = generate_keypair()
    resigned = sign(sign(make(), first_key), second_key)
    assert verify(resigned, second_public) and not verify(resigned, first_public)
    assert b"signature" not in canonical_bytes(resigned)


def test_keys_round_trip_as_base64_text():
    private_key, public_key = generate_keypair()
    text = public_key_to_str(public_key)
    assert len(text) == 44  # 32 bytes
    signed = sign(make(), load_private_key(private_key_to_str(private_key)))
    assert verify(signed, load_public_key(text))
    with pytest.raises(ValueError):
        load_public_key("not a key")
    with pytest.raises(ValueError):
        load_public_key("AAAA")


def test_keyring_verifier_gives_a_reason_for_each_rejection():
    alice_key, alice_public = generate_keypair()
    mallory_key, _ = generate_keypair()
    keyring = KeyringVerifier({"alice": public_key_to_str(alice_public)})
    assert "alice" in keyring
    assert keyring(sign(make(), alice_key)) is None
    assert keyring(make()) == "missing signature"
    assert keyring(sign(make(), mallory_key)) == "bad signature for sender 'alice'"
    assert keyring(sign(make(sender="bob"), alice_key)) == "unknown sender 'bob'"
    keyring.remove("alice")
    assert keyring(sign(make(), alice_key)) == "unknown sender 'alice'"


def test_reply_to_is_signed_when_set_and_absent_from_the_bytes_when_not():
    """Envelopes without ``reply_to`` are byte for byte what they were before it existed: an
    agent that predates it parses them (its envelope forbids unknown fields) and checks their
    signatures over the same bytes."""
    private_key, public_key = generate_keypair()
    plain, routed = make(), make(reply_to="modx.results.3")
    assert b"reply_to" not in plain.to_json() and b"reply_to" not in canonical_bytes(plain)
    assert b'"reply_to":"modx.results.3"' in canonical_bytes(routed)
    signed = sign(routed, private_key)
    assert verify(Envelope.from_json(signed.to_json()), public_key)
    assert not verify(signed.model_copy(update={"reply_to": "modx.results.4"}), public_key)
    assert not verify(signed.model_copy(update={"reply_to": None}), public_key)


def test_libsodium_signatures_are_openssls_byte_for_byte_and_each_verifies_the_other():
    # Signing goes through libsodium (faster); outsiders verify with any RFC 8032 library.
    private_key, public_key = generate_keypair()
    data = canonical_bytes(make())
    ours = ed25519_sign(private_key, data)
    assert ours == private_key.sign(data)
    public_key.verify(ours, data)  # OpenSSL's check: raises when the signature is bad
    assert ed25519_verify(public_key, private_key.sign(data), data)
    assert not ed25519_verify(public_key, ours, data + b" ")
    assert not ed25519_verify(generate_keypair()[1], ours, data)


def test_a_signature_of_the_wrong_length_is_rejected_even_when_the_bytes_line_up():
    # libsodium reads signature and message as one buffer: moving bytes from the message
    # into the signature must not keep the pair valid.
    private_key, public_key = generate_keypair()
    data = b"modx.ledger.entry.v1:" + b"ab" * 32
    signature = ed25519_sign(private_key, data)
    assert ed25519_verify(public_key, signature, data)
    assert not ed25519_verify(public_key, signature + data[:5], data[5:])
    assert not ed25519_verify(public_key, signature[:63], signature[63:] + data)
    assert not verify_bytes(data[5:], base64.b64encode(signature + data[:5]).decode(), public_key)


def _python_canonical(value: object) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _random_document(rnd: random.Random, depth: int = 0) -> object:
    choice = rnd.randrange(8 if depth < 3 else 5)
    if choice == 0:  # any double, tiny and huge ones included
        value = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        return value if math.isfinite(value) else 0.5
    if choice == 1:
        return rnd.uniform(-1, 1) * 10 ** rnd.randint(-12, 25)
    if choice == 2:  # integers, beyond 64 bits too
        return rnd.randint(-(2**70), 2**70) if rnd.random() < 0.2 else rnd.randint(-99, 10**6)
    if choice == 3:  # control characters, quotes, backslashes, non-ASCII, astral
        alphabet = '\x00\x1f\x7f"\\/ aZ0e-.é€\u2028\U0001f600'
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(12)))
    if choice == 4:
        return rnd.choice([True, False, None])
    if choice == 5:
        return [_random_document(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    keys = ["a", "B", "é", "\U0001f600", "\uffff", "0.00001", "1e-5", "z"]
    return {rnd.choice(keys): _random_document(rnd, depth + 1) for _ in range(rnd.randrange(5))}


def test_canonical_json_is_pythons_json_byte_for_byte_on_random_documents():
    # The fast path (orjson) must not change a signed byte: agents of other versions and
    # outside code recompute the form with Python's json.
    rnd = random.Random(14)
    for _ in range(20_000):
        document = _random_document(rnd)
        assert canonical_json(document) == _python_canonical(document), document


def test_the_float_check_finds_what_one_pattern_with_a_start_anchor_finds():
    # The check is two patterns for speed; it must flag exactly what the one pattern it
    # replaced flags, at the start of the text as after ``:``, ``,`` and ``[``.
    reference = re.compile(rb"(?:^|[:,\[])-?(?:\d+(?:\.\d+)?e-|0\.0000)")
    texts = [b"1e-05", b"-1.5e-07", b"0.00001", b"[0.00001]", b'{"a":1e-05}', b'"x:1e-5"']
    texts += [b"x1e-05", b'"01a2e-b"', b'{"id":"0b85e-1"}', b"10000", b"", b"0.0001"]
    rnd = random.Random(7)
    texts += [_python_canonical(_random_document(rnd)) for _ in range(5000)]
    alphabet = b"0123456789e-.:,[x"
    texts += [bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(12))) for _ in range(20_000)]
    flagged = 0
    for text in texts:
        expected = reference.search(text) is not None
        assert _python_float_form(text) is expected, text
        flagged += expected
    assert 100 < flagged < len(texts) - 100  # both outcomes were exercised


def test_canonical_json_keeps_pythons_form_and_errors_where_orjson_differs():
    for value in (1e-05, 1.5e-07, -2.5e-300, {"x": [0.0000123]}, 2**64, -(2**63) - 1):
        assert canonical_json(value) == _python_canonical(value)
    assert canonical_json(1e-05) == b"1e-05"  # orjson alone writes 0.00001
    with pytest.raises(UnicodeEncodeError):
        canonical_json("\ud800")  # as before: a lone surrogate has no UTF-8 form
    # pydantic's JSON mode writes NaN and infinity as null, before either library sees them.
    envelope = make().model_copy(update={"payload": {"x": float("nan"), "y": [float("inf")]}})
    exclude = {"signature", *envelope.unset_later_fields()}
    fields = envelope.model_dump(mode="json", by_alias=True, exclude=exclude)
    assert canonical_bytes(envelope) == _python_canonical(fields)
    assert b'"payload":{"x":null,"y":[null]}' in canonical_bytes(envelope)


def test_ids_and_timestamps_take_orjsons_path(monkeypatch: pytest.MonkeyPatch):
    # Hex ids hold text like "5e-"; only numbers below 1e-4 need Python's json.
    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("json.dumps used")

    envelope = make(correlation_id="01a24ba3-af40-74d4-a795-80e4ae398ce5")
    envelope = envelope.model_copy(update={"run_id": "0c1e-5e-9e", "payload": {"t": "1e-5"}})
    expected = canonical_bytes(envelope)
    monkeypatch.setattr("bus.signing.json.dumps", refuse)
    assert canonical_bytes(envelope) == expected
    with pytest.raises(AssertionError, match=r"json\.dumps used"):
        canonical_json({"x": 1e-05})
