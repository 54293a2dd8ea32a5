"""The kit's data key: what encrypts its state at rest, sealed by its TPM.

Why a data key: the journal of the enrolment in progress, the profile's worklist and
officers, and the audit details sit on the SD card between seals; they must be ciphertext
there.  One random 32-byte key encrypts them (ChaCha20/Poly1305, `StateCipher`), and the
key itself is *sealed* by the TPM: a keyed-hash object under the TPM's storage primary
key, so ``kit/data.tpm`` opens only inside this kit's TPM, as the signing key's blob does
(`storage.tpm`).  It is unsealed over a session encrypted to that primary key, so the key
does not cross the SPI bus in clear.  With the file backend (simulator, developers) the key
is ``kit/data.key``, a plain file next to what it protects: `DataKey.backend` says so, and
`status` must say it is unprotected.

What it does not do: a thief with the whole kit (TPM and card together) boots it and the
kit unseals its key, as it must to work; the officers' PINs and the PIN back-off guard
that case.  The sealed key is bound to no PCR, so a kernel or firmware update does not
lock the kit out of its own state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from storage.errors import KeyFileError, StorageError
from storage.files import write_atomic
from storage.keys import KeyBackend
from storage.tpm import DEFAULT_TCTI, Tpm, TpmKeyBlob, shared_tpm

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
#: The data key's files, in the kit folder: one or the other, by backend.
SEALED_FILE = "data.tpm"
PLAIN_FILE = "data.key"


class StateDecryptError(StorageError, ValueError):
    """State ciphertext that does not open: altered, from another kit, or another context."""


@dataclass(frozen=True, repr=False)
class DataKey:
    """The unsealed data key and where it came from; never printed."""

    key: bytes
    backend: KeyBackend

    def cipher(self) -> StateCipher:
        return StateCipher(self.key)

    def __repr__(self) -> str:
        return f"DataKey(backend={self.backend.value})"


class StateCipher:
    """ChaCha20/Poly1305 for state at rest: ``nonce || ciphertext+tag``, bound to a context.

    ``context`` names what the bytes are (``b"journal:7"``, ``b"profile"``...), so one
    ciphertext cannot be passed off as another: moving it fails to open.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != DATA_KEY_BYTES:
            raise ValueError(f"a data key is {DATA_KEY_BYTES} bytes, not {len(key)}")
        self._aead = ChaCha20Poly1305(key)

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, data: bytes, *, context: bytes) -> bytes:
        if len(data) < NONCE_BYTES + 16:
            raise StateDecryptError(f"state ciphertext of {len(data)} bytes is truncated")
        try:
            return self._aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context)
        except InvalidTag as exc:
            raise StateDecryptError(
                f"state for {context.decode(errors='replace')!r} does not open: altered, "
                "from another kit, or not this record's"
            ) from exc


def _sealed_attributes(tss: Any) -> Any:
    """A sealed data object: never leaves this TPM, opens without a password, no lockout."""
    a = tss.constants.TPMA_OBJECT
    return a.FIXEDTPM | a.FIXEDPARENT | a.USERWITHAUTH | a.NODA


def create_sealed(tpm: Tpm, kit_dir: str | os.PathLike[str]) -> DataKey:
    """Make a data key and seal it by ``tpm`` into ``kit_dir/data.tpm`` (must not exist)."""
    path = Path(kit_dir) / SEALED_FILE
    if os.path.lexists(path):
        raise KeyFileError(f"sealed data key {path} already exists; refusing to replace it")
    tss = tpm.tss
    key = os.urandom(DATA_KEY_BYTES)
    sensitive = tss.types.TPM2B_SENSITIVE_CREATE(
        tss.types.TPMS_SENSITIVE_CREATE(data=tss.types.TPM2B_SENSITIVE_DATA(key))
    )
    template = tss.types.TPM2B_PUBLIC.parse("keyedhash", objectAttributes=_sealed_attributes(tss))
    with tpm.primary() as parent:
        private, public, *_ = tpm.call(
            "seal the data key", lambda: tpm.esapi.create(parent, sensitive, template)
        )
    blob = TpmKeyBlob(public=public.marshal(), private=private.marshal())
    write_atomic(path, blob.to_cbor())
    return DataKey(key, KeyBackend.TPM)


def unseal(tpm: Tpm, kit_dir: str | os.PathLike[str]) -> DataKey:
    """The data key sealed in ``kit_dir/data.tpm``; only the TPM that sealed it opens it."""
    path = Path(kit_dir) / SEALED_FILE
    blob = TpmKeyBlob.load(path)
    tss = tpm.tss
    try:
        public, _ = tss.types.TPM2B_PUBLIC.unmarshal(blob.public)
        private, _ = tss.types.TPM2B_PRIVATE.unmarshal(blob.private)
    except (tss.TSS2_Exception, ValueError, TypeError) as exc:
        raise KeyFileError(f"sealed data key {path} does not unmarshal: {exc}") from exc
    need = int(_sealed_attributes(tss))
    area = public.publicArea
    if area.type != tss.constants.TPM2_ALG.KEYEDHASH or int(area.objectAttributes) & need != need:
        raise KeyFileError(f"{path} is not a data key sealed to this kit's TPM: reflash the kit")
    with (
        tpm.primary() as parent,
        tpm.flushed(
            "load the sealed data key (is this the kit's own TPM?)",
            lambda: tpm.esapi.load(parent, private, public),
        ) as handle,
        _encrypted_session(tpm, parent) as session,
    ):
        data = tpm.call("unseal the data key", lambda: tpm.esapi.unseal(handle, session1=session))
    key = bytes(data)
    if len(key) != DATA_KEY_BYTES:
        raise KeyFileError(f"{path} unsealed to {len(key)} bytes, not a data key")
    return DataKey(key, KeyBackend.TPM)


@contextmanager
def _encrypted_session(tpm: Tpm, salt_key: Any) -> Iterator[Any]:
    """An HMAC session salted by ``salt_key`` (the primary) whose responses are
    AES-encrypted, flushed when the block ends."""
    tss = tpm.tss
    c = tss.constants
    symmetric = tss.types.TPMT_SYM_DEF(
        algorithm=c.TPM2_ALG.AES,
        keyBits=tss.types.TPMU_SYM_KEY_BITS(aes=128),
        mode=tss.types.TPMU_SYM_MODE(aes=c.TPM2_ALG.CFB),
    )
    with tpm.flushed(
        "open an encrypted session",
        lambda: tpm.esapi.start_auth_session(
            tpm_key=salt_key,
            bind=c.ESYS_TR.NONE,
            session_type=c.TPM2_SE.HMAC,
            symmetric=symmetric,
            auth_hash=c.TPM2_ALG.SHA256,
        ),
    ) as session:
        attributes = c.TPMA_SESSION.ENCRYPT | c.TPMA_SESSION.CONTINUESESSION
        tpm.call(
            "set the session to encrypt",
            lambda: tpm.esapi.trsess_set_attributes(session, attributes),
        )
        yield session


def create_file_key(kit_dir: str | os.PathLike[str]) -> DataKey:
    """The file backend: a data key in ``kit_dir/data.key`` (0600) — UNPROTECTED."""
    path = Path(kit_dir) / PLAIN_FILE
    if os.path.lexists(path):
        raise KeyFileError(f"data key {path} already exists; refusing to replace it")
    key = os.urandom(DATA_KEY_BYTES)
    write_atomic(path, key)
    return DataKey(key, KeyBackend.FILE)


def load_file_key(kit_dir: str | os.PathLike[str]) -> DataKey:
    path = Path(kit_dir) / PLAIN_FILE
    try:
        if path.stat().st_mode & 0o077:
            raise KeyFileError(f"data key {path} is readable by group or others: chmod 600 it")
        key = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileError(f"data key {path} is missing: flash the kit") from exc
    if len(key) != DATA_KEY_BYTES:
        raise KeyFileError(f"data key {path} holds {len(key)} bytes, not {DATA_KEY_BYTES}")
    return DataKey(key, KeyBackend.FILE)


def data_key_backend(kit_dir: str | os.PathLike[str]) -> KeyBackend | None:
    """The backend whose data key file the kit folder holds; None before the first flash."""
    folder = Path(kit_dir)
    present = [
        backend
        for backend, name in ((KeyBackend.TPM, SEALED_FILE), (KeyBackend.FILE, PLAIN_FILE))
        if (folder / name).exists()
    ]
    if len(present) > 1:
        raise KeyFileError(f"{folder} holds both a sealed and a plain data key: reflash the kit")
    return present[0] if present else None


def create_data_key(
    kit_dir: str | os.PathLike[str], backend: KeyBackend, *, tcti: str = DEFAULT_TCTI
) -> DataKey:
    """Make the kit's data key in ``backend``: sealed by the TPM, or a plain file."""
    Path(kit_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    if backend is KeyBackend.FILE:
        return create_file_key(kit_dir)
    return create_sealed(shared_tpm(tcti), kit_dir)


def open_data_key(kit_dir: str | os.PathLike[str], *, tcti: str = DEFAULT_TCTI) -> DataKey:
    """The kit's data key, from whichever backend holds it; KeyFileError before a flash."""
    backend = data_key_backend(kit_dir)
    if backend is None:
        raise KeyFileError(
            f"{kit_dir} holds no data key (data.tpm or data.key): flash the kit again"
        )
    if backend is KeyBackend.FILE:
        return load_file_key(kit_dir)
    return unseal(shared_tpm(tcti), kit_dir)
