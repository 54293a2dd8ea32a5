"""The data folder's layout: what each file is called, where it lives, how a kit is retired.

Storage alone knows these names; the firmware and the port ask for paths and for
:func:`retire`, so a change of layout happens here and nowhere else.  See docs/storage.md::

    kit/profile.cbor     what provisioning gave the kit, encrypted (replaced at a reflash)
    kit/round.cbor       the round loaded, its plan and its people, encrypted (storage.rounds)
    kit/kit.key          the kit's private key, file backend (0600, UNPROTECTED)
    kit/kit.tpm          the kit's private key wrapped by its TPM, TPM backend
    kit/data.key         the data key that encrypts the state, file backend (UNPROTECTED)
    kit/data.tpm         the data key sealed by the kit's TPM, TPM backend
    kit/new/             a key made by ``keygen`` (either backend), until the ``flash``
    records/kit.cert     the kit's certificate, which record 1 links to
    records/00000001.cose ... one immutable file per sealed record
    state.db             SQLite: journal, card ledger, audit chain, receipts, index
    retired/<time>/      a previous kit's files, moved aside by a reflash or a purge
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

from storage.datakey import PLAIN_FILE, SEALED_FILE
from storage.files import CERTIFICATE_NAME
from storage.tpm import BLOB_FILE

log = logging.getLogger(__name__)

KIT_FOLDER = "kit"
RECORDS_FOLDER = "records"
KEY_FILE = "kit.key"
STAGED_KEY_FOLDER = "new"
PROFILE_FILE = "profile.cbor"
ROUND_FILE = "round.cbor"
STATE_FILE = "state.db"
#: SQLite's files of one database: the main file, its write-ahead log, its shared memory.
STATE_SUFFIXES = ("", "-wal", "-shm")
RETIRED_FOLDER = "retired"


def kit_dir(data_dir: Path) -> Path:
    return Path(data_dir) / KIT_FOLDER


def records_dir(data_dir: Path) -> Path:
    return Path(data_dir) / RECORDS_FOLDER


def key_path(data_dir: Path) -> Path:
    return kit_dir(data_dir) / KEY_FILE


def staged_key_path(data_dir: Path) -> Path:
    """The folder a keygen's new key waits in until the flash that certifies it."""
    return kit_dir(data_dir) / STAGED_KEY_FOLDER


def kit_secret_paths(data_dir: Path) -> list[Path]:
    """The kit's keys in either backend: its signing key and its data key."""
    folder = kit_dir(data_dir)
    return [folder / name for name in (KEY_FILE, BLOB_FILE, PLAIN_FILE, SEALED_FILE)]


def profile_path(data_dir: Path) -> Path:
    return kit_dir(data_dir) / PROFILE_FILE


def round_path(data_dir: Path) -> Path:
    return kit_dir(data_dir) / ROUND_FILE


def certificate_path(data_dir: Path) -> Path:
    return records_dir(data_dir) / CERTIFICATE_NAME


def state_path(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_FILE


def state_files(data_dir: Path) -> list[Path]:
    """The state database and its companions, whether or not they exist."""
    main = state_path(data_dir)
    return [main.with_name(main.name + suffix) for suffix in STATE_SUFFIXES]


def is_provisioned(data_dir: Path) -> bool:
    return profile_path(data_dir).exists()


def retire(data_dir: Path, *, now: datetime) -> Path | None:
    """Move a kit's key, profile, round, records and state into ``retired/<time>/``.

    Nothing is deleted: a reflash or a purge keeps the old kit's files where a technician
    can still find them.  The caller has closed the store first.  Returns the folder the
    files went to, or None when there was nothing to retire.
    """
    old = [
        *kit_secret_paths(data_dir),
        profile_path(data_dir),
        round_path(data_dir),
        records_dir(data_dir),
    ]
    present = [path for path in old + state_files(data_dir) if path.exists()]
    if not present:
        return None
    target = Path(data_dir) / RETIRED_FOLDER / now.strftime("%Y%m%dT%H%M%S%f")
    target.mkdir(parents=True, mode=0o700)
    for path in present:
        shutil.move(path, target / path.name)
    log.info("retired the previous kit's files into %s", target)
    return target
