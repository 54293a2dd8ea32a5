"""The kit key's backend, chosen at flash and found again at boot: a key file or the TPM."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.cose import SignAlg, parse_sign1, sign1, verify_sign1
from storage.errors import KeyFileError
from storage.keys import KeyBackend, kit_public_key
from storage.kitkey import backend_of, create_kit_key, key_files, open_kit_key
from storage.tpm import TpmError, TpmKitKey
from tests.swtpm import SoftwareTpm


def round_trip(kit_dir: Path, tcti: str) -> None:
    key = open_kit_key(kit_dir, tcti=tcti)
    try:
        signed = sign1(b"after boot", key, kid=key.kid)
    finally:
        key.close()
    verify_sign1(parse_sign1(signed), kit_public_key(key.public_bytes, key.alg))


def test_a_file_backend_kit_key_is_named_unprotected(tmp_path: Path) -> None:
    made = create_kit_key(tmp_path, KeyBackend.FILE)
    assert (made.backend, made.alg) == (KeyBackend.FILE, SignAlg.EDDSA)
    assert backend_of(tmp_path) is KeyBackend.FILE
    assert "UNPROTECTED" in made.backend.describe() and not made.backend.protected
    round_trip(tmp_path, tcti="device:/nonexistent")  # a key file needs no TPM


def test_a_tpm_backend_kit_key_leaves_no_key_file(tmp_path: Path) -> None:
    swtpm = SoftwareTpm(tmp_path / "state")
    with swtpm:
        made = create_kit_key(tmp_path / "kit", KeyBackend.TPM, tcti=swtpm.tcti)
        made.close()
    assert isinstance(made, TpmKitKey) and made.alg is SignAlg.ES256
    assert made.backend.protected and "TPM" in made.backend.describe()
    assert not key_files(tmp_path / "kit")[KeyBackend.FILE].exists()
    with swtpm:  # the kit boots again
        round_trip(tmp_path / "kit", swtpm.tcti)


def test_a_tpm_kit_without_its_tpm_fails_and_never_falls_back(tmp_path: Path) -> None:
    swtpm = SoftwareTpm(tmp_path / "state")
    with swtpm:
        create_kit_key(tmp_path, KeyBackend.TPM, tcti=swtpm.tcti).close()
        tcti = swtpm.tcti
    with pytest.raises(TpmError, match="no TPM answers"):
        open_kit_key(tmp_path, tcti=tcti)
    assert backend_of(tmp_path) is KeyBackend.TPM
    assert not key_files(tmp_path)[KeyBackend.FILE].exists()


def test_one_kit_one_key(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="holds no kit key"):
        open_kit_key(tmp_path)
    assert backend_of(tmp_path) is None
    create_kit_key(tmp_path, KeyBackend.FILE)
    with pytest.raises(KeyFileError, match="already holds a file key"):
        create_kit_key(tmp_path, KeyBackend.TPM)
    key_files(tmp_path)[KeyBackend.TPM].write_bytes(b"\xa0")
    with pytest.raises(KeyFileError, match="both a key file and a TPM key blob"):
        open_kit_key(tmp_path)
