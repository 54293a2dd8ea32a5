"""A stolen card after a crash: kill `jemput-kit sim demo` mid-enrolment, read every byte left.

The demo runs in a subprocess (as tests/torture.py runs it) and is killed with SIGKILL
while its journal holds a person's photo and fingerprints and at least one other person
is already sealed.  Then every file in the data folder is read as a thief would: no JPEG
or PNG, no fragment of the journal's photo, finger images or templates, no resident's
name, and no NIK, in cleartext anywhere, the records included: their bodies are
encrypted, and their headers name the resident by a keyed reference
(`storage.reference`), which matches the worklist only under the authority's key.  Every
file is 0600 and every folder 0700.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.kit import DEMO_AUTHORITY, demo_world
from simulator.tray import PRINTED_DIR
from storage import codec
from storage.datakey import open_data_key
from storage.layout import kit_dir, records_dir, state_path
from storage.model import walk_in_ref
from storage.record import RECORD_VERSION, read_header
from storage.reference import ReferenceKey

#: How long the demo may take to reach a journal with a photo after a first seal.
REACH_SECONDS = 240.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: JPEG's start of image and its usual first markers (APP0 JFIF, APP1 Exif, DQT).
JPEG_STARTS = (b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb")
#: A fragment this long from a journal's biometric field found on the card is a leak.
FRAGMENT = 32


def _journal(data_dir: Path) -> dict[str, Any] | None:
    """The running kit's journal, decrypted with its (file backend) data key."""
    if not state_path(data_dir).exists() or not (kit_dir(data_dir) / "data.key").exists():
        return None
    cipher = open_data_key(kit_dir(data_dir)).cipher()
    try:
        with sqlite3.connect(f"file:{state_path(data_dir)}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT state FROM journal").fetchone()
    except sqlite3.Error:
        return None  # not created yet, or busy for a moment
    return dict(codec.loads(cipher.decrypt(row[0], context=b"journal"))) if row else None


def _blobs(value: object) -> Iterator[bytes]:
    """Every bytes value in a decoded journal: the photo, finger images, templates."""
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _blobs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _blobs(item)


def _distinctive(blob: bytes) -> bytes | None:
    """A window of ``blob`` unlike padding (many distinct bytes), to look for on the card."""
    for start in range(0, len(blob) - FRAGMENT, FRAGMENT):
        window = blob[start : start + FRAGMENT]
        if len(set(window)) >= FRAGMENT // 2:
            return window
    return None


def _photo_and_finger(journal: dict[str, Any]) -> bool:
    blobs = [blob for blob in _blobs(journal) if len(blob) >= 2 * FRAGMENT]
    return len(blobs) >= 2 and any(blob.startswith(b"\xff\xd8\xff") for blob in blobs)


def _kill_mid_enrolment(data_dir: Path) -> dict[str, Any]:
    """Run the demo until one person is sealed and the next one's photo and a finger are
    journaled; then kill it."""
    command = [sys.executable, "-m", "firmware.cli", "sim", "demo", "--people", "30"]
    command += ["--data-dir", str(data_dir), "--seed", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + REACH_SECONDS
    try:
        while time.monotonic() < deadline and process.poll() is None:
            sealed = (records_dir(data_dir) / "00000001.cose").exists()
            journal = _journal(data_dir) if sealed else None
            if journal and _photo_and_finger(journal):
                process.send_signal(signal.SIGKILL)
                process.wait()
                return journal
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    raise AssertionError(f"the demo never journaled a photo and a finger (exit {process.poll()})")


def _headers_name_residents_by_keyed_reference(data_dir: Path, people: list[Any]) -> None:
    """The sealed headers hold keyed references that the demo authority's key matches to
    residents, and no plain one: the scan above did not pass because nothing was sealed."""
    references = ReferenceKey.load(data_dir / DEMO_AUTHORITY)
    keyed = {references.keyed(p.nik): p.nik for p in people}
    keyed |= {references.keyed(walk_in_ref(p.nik)): p.nik for p in people}
    headers = [read_header(path.read_bytes()) for path in records_dir(data_dir).glob("*.cose")]
    assert headers, "at least one record was sealed before the kill"
    for header in headers:
        assert (header.version, header.worklist_ref) == (RECORD_VERSION, None)
        assert header.voids is not None or header.keyed_ref in keyed


def test_a_kit_killed_mid_enrolment_leaves_nothing_personal_in_cleartext(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "kit"
    journal = _kill_mid_enrolment(data_dir)
    world = demo_world(1)
    people = world.residents + world.walk_ins
    fragments = [f for blob in _blobs(journal) if (f := _distinctive(blob)) is not None]
    assert len(fragments) >= 2, "the journal held a photo and a finger at the kill"
    everywhere = [*JPEG_STARTS, PNG_SIGNATURE, *fragments]
    everywhere += [p.name.encode() for p in people]
    everywhere += [p.nik.encode() for p in people]
    leaks: list[tuple[str, bytes]] = []
    modes: dict[str, int] = {}
    for path in [data_dir, *data_dir.rglob("*")]:
        where = str(path.relative_to(data_dir))
        modes[where] = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir() or path.relative_to(data_dir).parts[0] == PRINTED_DIR:
            continue  # printed/ is the simulated printers' paper: cards are handed out
        data = path.read_bytes()
        leaks += [(where, secret[:24]) for secret in everywhere if secret in data]
    assert {"state.db", "state.db-wal", "kit/profile.cbor", "records"} <= set(modes)
    assert leaks == []
    _headers_name_residents_by_keyed_reference(data_dir, people)
    wrong = {
        where: oct(mode)
        for where, mode in modes.items()
        if mode != (0o700 if (data_dir / where).is_dir() else 0o600)
    }
    assert wrong == {}
    assert os.path.getsize(state_path(data_dir)) > 0
