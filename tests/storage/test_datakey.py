"""The data key for state at rest: sealed by a real swtpm, opened only by it; the file
backend named; the state cipher binding each ciphertext to what it is."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storage import datakey
from storage.datakey import DataKey, StateCipher, StateDecryptError
from storage.errors import KeyFileError
from storage.keys import KeyBackend
from storage.tpm import Tpm, TpmError, TpmKeyBlob
from tests.swtpm import SoftwareTpm


def test_a_sealed_data_key_unseals_to_the_same_key_after_a_reboot(tmp_path: Path) -> None:
    swtpm = SoftwareTpm(tmp_path / "state")
    with swtpm, Tpm(swtpm.tcti) as tpm:
        made = datakey.create_sealed(tpm, tmp_path)
    with swtpm, Tpm(swtpm.tcti) as tpm:
        opened = datakey.unseal(tpm, tmp_path)
    assert opened.key == made.key and len(made.key) == 32
    assert opened.backend is KeyBackend.TPM


def test_the_sealed_file_holds_no_key_and_opens_on_no_other_tpm(tmp_path: Path) -> None:
    with SoftwareTpm(tmp_path / "kit-tpm") as kit_tpm, Tpm(kit_tpm.tcti) as tpm:
        made = datakey.create_sealed(tpm, tmp_path)
    sealed = tmp_path / datakey.SEALED_FILE
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    assert made.key not in sealed.read_bytes()
    assert not (tmp_path / datakey.PLAIN_FILE).exists()
    with (
        SoftwareTpm(tmp_path / "thief-tpm") as thief_tpm,
        Tpm(thief_tpm.tcti) as tpm,
        pytest.raises(TpmError, match="is this the kit's own TPM"),
    ):
        datakey.unseal(tpm, tmp_path)


def test_a_signing_key_blob_is_not_taken_for_a_sealed_data_key(
    software_tpm: SoftwareTpm, tmp_path: Path
) -> None:
    from storage.tpm import TpmKitKey

    with Tpm(software_tpm.tcti) as tpm:
        key = TpmKitKey.create(tpm, tmp_path / "kit.tpm")
        (tmp_path / datakey.SEALED_FILE).write_bytes(key.blob.to_cbor())
        with pytest.raises(KeyFileError, match="not a data key sealed"):
            datakey.unseal(tpm, tmp_path)


def test_an_altered_sealed_blob_does_not_unseal(software_tpm: SoftwareTpm, tmp_path: Path) -> None:
    with Tpm(software_tpm.tcti) as tpm:
        datakey.create_sealed(tpm, tmp_path)
        blob = TpmKeyBlob.load(tmp_path / datakey.SEALED_FILE)
        private = bytearray(blob.private)
        private[-1] ^= 0x01
        damaged = TpmKeyBlob(public=blob.public, private=bytes(private))
        (tmp_path / datakey.SEALED_FILE).write_bytes(damaged.to_cbor())
        with pytest.raises(TpmError, match="load the sealed data key"):
            datakey.unseal(tpm, tmp_path)


def test_sealing_twice_is_refused(software_tpm: SoftwareTpm, tmp_path: Path) -> None:
    with Tpm(software_tpm.tcti) as tpm:
        datakey.create_sealed(tpm, tmp_path)
        with pytest.raises(KeyFileError, match="already exists"):
            datakey.create_sealed(tpm, tmp_path)


def test_the_file_backend_is_a_private_file_and_says_what_it_is(tmp_path: Path) -> None:
    made = datakey.create_file_key(tmp_path)
    path = tmp_path / datakey.PLAIN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert datakey.load_file_key(tmp_path) == made
    assert made.backend is KeyBackend.FILE and not made.backend.protected
    assert "UNPROTECTED" in made.backend.describe()
    assert made.key.hex() not in repr(made)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by group or others"):
        datakey.load_file_key(tmp_path)
    path.chmod(0o600)
    path.write_bytes(b"short")
    with pytest.raises(KeyFileError, match="holds 5 bytes"):
        datakey.load_file_key(tmp_path)
    with pytest.raises(KeyFileError, match="missing"):
        datakey.load_file_key(tmp_path / "nowhere")


def test_state_ciphertext_opens_only_with_its_key_and_context() -> None:
    key = DataKey(bytes(range(32)), KeyBackend.FILE)
    cipher = key.cipher()
    sealed = cipher.encrypt(b"NIK 3505014501900001 SITI", context=b"journal:7")
    assert b"3505014501900001" not in sealed
    assert cipher.decrypt(sealed, context=b"journal:7") == b"NIK 3505014501900001 SITI"
    assert sealed != cipher.encrypt(b"NIK 3505014501900001 SITI", context=b"journal:7")
    with pytest.raises(StateDecryptError, match="'journal:8' does not open"):
        cipher.decrypt(sealed, context=b"journal:8")
    with pytest.raises(StateDecryptError):
        StateCipher(bytes(32)).decrypt(sealed, context=b"journal:7")
    damaged = bytearray(sealed)
    damaged[20] ^= 1
    with pytest.raises(StateDecryptError):
        cipher.decrypt(bytes(damaged), context=b"journal:7")
    with pytest.raises(StateDecryptError, match="truncated"):
        cipher.decrypt(sealed[:27], context=b"journal:7")
    with pytest.raises(ValueError, match="32 bytes"):
        StateCipher(b"short")
