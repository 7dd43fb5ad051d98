"""Ed25519 signing of envelopes: round trips, tampering, keys as text, the keyring verifier."""

from __future__ import annotations

import base64
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
from bus.signing import canonical_bytes, ed25519_sign, ed25519_verify, verify_bytes


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
