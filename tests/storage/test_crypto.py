import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.crypto import DecryptionError, Keyring

OLD, NEW = "old-secret-" + "a" * 30, "new-secret-" + "b" * 30


@given(st.text())
def test_encryption_round_trips_any_text(plaintext: str) -> None:
    ring = Keyring(NEW)
    assert ring.decrypt(ring.encrypt(plaintext)) == plaintext


def test_ciphertexts_differ_and_hide_the_plaintext() -> None:
    ring = Keyring(NEW)
    a, b = ring.encrypt("198503121234"), ring.encrypt("198503121234")
    assert a != b and "198503121234" not in a


def test_a_tampered_value_is_refused() -> None:
    ring = Keyring(NEW)
    stored = ring.encrypt("Anna Andersson")
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        ring.decrypt(tampered)


def test_previous_keys_still_decrypt_during_a_rotation() -> None:
    stored = Keyring(OLD).encrypt("Anna")
    rotating = Keyring(NEW, [OLD])
    assert rotating.decrypt(stored) == "Anna"
    assert rotating.needs_rotation(stored)
    assert not rotating.needs_rotation(rotating.encrypt("Anna"))
    with pytest.raises(DecryptionError):
        Keyring(NEW).decrypt(stored)


def test_blind_index_is_stable_per_key_and_differs_between_keys() -> None:
    assert Keyring(NEW).blind_index("x") == Keyring(NEW).blind_index("x")
    assert Keyring(NEW).blind_index("x") != Keyring(OLD).blind_index("x")
    assert Keyring(OLD).blind_index("x") in Keyring(NEW, [OLD]).blind_indexes("x")
