"""Which backend holds the kit's signing key: made once at flash, found again at every boot.

Why one place: the kit's host (boot, the provisioning port's keygen and flash) must not
know how a key is stored, only that it signs (`storage.keys.KitSigner`).  The kit folder
holds either ``kit.tpm`` (the TPM backend: a wrapped blob that opens only in this kit's
TPM) or ``kit.key`` (the file backend: simulator and developers only, UNPROTECTED); never
both.  A kit configured for a TPM that finds none fails at boot with the TPM's advice: it
never falls back to a key file on its own, since that would leave a real kit forgeable.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from storage.errors import KeyFileError
from storage.keys import KeyBackend, KitKey, KitSigner
from storage.tpm import BLOB_FILE, DEFAULT_TCTI, TpmKitKey, shared_tpm

KEY_FILE = "kit.key"


@dataclass(frozen=True)
class KeySettings:
    """Where the kit's keys are made (kit.toml's ``[kit] key_backend``) and its TPM's TCTI."""

    backend: KeyBackend = KeyBackend.FILE
    tcti: str = DEFAULT_TCTI

    def describe(self) -> str:
        """For status and selftest, in Bahasa Indonesia: a file key is unprotected."""
        return describe_backend(self.backend)


def describe_backend(backend: KeyBackend) -> str:
    """ "kunci: TPM" or "kunci: file, TIDAK TERLINDUNGI" (the technician's words)."""
    return "kunci: TPM" if backend is KeyBackend.TPM else "kunci: file, TIDAK TERLINDUNGI"


def move_kit_key(source_dir: str | os.PathLike[str], kit_dir: str | os.PathLike[str]) -> None:
    """Move the key a keygen staged in ``source_dir`` into the kit folder (holding none)."""
    backend = backend_of(source_dir)
    if backend is None:
        raise KeyFileError(f"{source_dir} holds no staged kit key: run keygen first")
    if backend_of(kit_dir) is not None:
        raise KeyFileError(f"{kit_dir} already holds a kit key; retire it first")
    os.replace(key_files(source_dir)[backend], key_files(kit_dir)[backend])
    shutil.rmtree(source_dir, ignore_errors=True)


def key_files(kit_dir: str | os.PathLike[str]) -> dict[KeyBackend, Path]:
    """The file each backend keeps in the kit folder."""
    folder = Path(kit_dir)
    return {KeyBackend.FILE: folder / KEY_FILE, KeyBackend.TPM: folder / BLOB_FILE}


def backend_of(kit_dir: str | os.PathLike[str]) -> KeyBackend | None:
    """The backend whose file the kit folder holds; None before the first flash."""
    present = [backend for backend, path in key_files(kit_dir).items() if path.exists()]
    if len(present) > 1:
        raise KeyFileError(
            f"{kit_dir} holds both a key file and a TPM key blob: a kit has one key; reflash it"
        )
    return present[0] if present else None


def create_kit_key(
    kit_dir: str | os.PathLike[str], backend: KeyBackend, *, tcti: str = DEFAULT_TCTI
) -> KitSigner:
    """Generate the kit's key in ``backend`` (the folder must hold no key yet)."""
    existing = backend_of(kit_dir)
    if existing is not None:
        raise KeyFileError(f"{kit_dir} already holds a {existing.value} key; not replacing it")
    Path(kit_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    path = key_files(kit_dir)[backend]
    if backend is KeyBackend.FILE:
        return KitKey.create(path)
    return TpmKitKey.create(shared_tpm(tcti), path)


def open_kit_key(kit_dir: str | os.PathLike[str], *, tcti: str = DEFAULT_TCTI) -> KitSigner:
    """The kit's key, in whichever backend made it; close it when the kit stops."""
    backend = backend_of(kit_dir)
    if backend is None:
        raise KeyFileError(f"{kit_dir} holds no kit key: flash the kit")
    path = key_files(kit_dir)[backend]
    if backend is KeyBackend.FILE:
        return KitKey.load(path)
    return TpmKitKey.load(shared_tpm(tcti), path)
