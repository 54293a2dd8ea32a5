"""Officer PINs, kept only as salted scrypt hashes.

scrypt rather than a plain hash because a stolen SD card must not give up six-digit PINs
to a laptop in seconds.  The cost is paid once per login, on the kit: n = 2^16, r = 8 takes
64 MiB and, on a Pi 4, an estimated 0.3-0.5 s (docs/keys.md, "PIN hash cost"); at 2^14 it
was a quarter of that, and all 10^6 PINs fell in under 7 core-hours.  Hashes made at
another cost do not match: a kit flashed before this cost was raised is flashed again.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from storage.model import Officer
from vocabulary.people import Role

PIN_DIGITS = 6
#: 128 * r * n bytes of memory per hash (64 MiB); maxmem leaves room above OpenSSL's 32 MiB default.
_SCRYPT = {"n": 2**16, "r": 8, "p": 1, "dklen": 32, "maxmem": 2**27}


def hash_pin(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)


def check_pin(officer: Officer, pin: str) -> bool:
    return hmac.compare_digest(hash_pin(pin, officer.pin_salt), officer.pin_hash)


def make_officer(
    officer_id: str, name: str, role: Role, pin: str, *, finger_pages: tuple[int, ...] = ()
) -> Officer:
    """An officer record from a plain PIN, which is then forgotten."""
    if pin.isdigit() and not pin.isascii():
        raise ValueError(
            f"officer {officer_id}: the PIN {pin!r} has digits that are not ASCII 0-9 "
            "(full-width or Arabic-Indic): the kit's buttons type only 0-9; retype it"
        )
    if len(pin) != PIN_DIGITS or not pin.isdigit():
        raise ValueError(f"officer {officer_id}: the PIN must be {PIN_DIGITS} digits")
    salt = os.urandom(16)
    return Officer(officer_id, name, role, salt, hash_pin(pin, salt), finger_pages)
