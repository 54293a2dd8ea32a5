"""PIN hashes at the raised cost: what another tool must compute to check a kit's PINs."""

from __future__ import annotations

import hashlib

from storage.officers import check_pin, hash_pin, make_officer
from vocabulary.people import Role


def test_a_pin_hash_is_scrypt_at_n_2_16_r_8_p_1() -> None:
    salt = bytes(range(16))
    expected = hashlib.scrypt(b"246810", salt=salt, n=2**16, r=8, p=1, dklen=32, maxmem=2**27)
    assert hash_pin("246810", salt) == expected
    cheap = hashlib.scrypt(b"246810", salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert hash_pin("246810", salt) != cheap, "a hash at the old cost no longer matches"


def test_an_officer_logs_in_with_the_pin_only() -> None:
    officer = make_officer("PTG-001", "Sari", Role.OFFICER, "246810")
    assert check_pin(officer, "246810")
    assert not check_pin(officer, "246811")
    assert b"246810" not in officer.pin_hash + officer.pin_salt
