"""Boot repair: make the records folder and the record index agree, trusting the files.

One job, apart from the store that runs it at every boot: remove what a crash left
half-written, index record files the index does not know (verifying them), report damaged
and missing records (never removing one), finish a prune a crash interrupted, and set a
damaged state database aside rather than overwrite it.  The store then writes what was
found into its audit log.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from storage.errors import RecordError
from storage.files import FileOps, record_files, record_name, remove_temporaries
from storage.layout import STATE_SUFFIXES
from storage.record import RecordHeader, record_hash
from storage.state import DamagedDatabase, SqliteIndex, open_database
from storage.verify import Certificate, Verifier

log = logging.getLogger(__name__)


def open_state(path: Path, *, now: Callable[[], datetime]) -> tuple[sqlite3.Connection, list[str]]:
    """The state database, and notes of any repair: a damaged one is kept aside, not reused."""
    try:
        return open_database(path), []
    except DamagedDatabase as exc:
        stamp = now().strftime("%Y%m%dT%H%M%S")
        for suffix in STATE_SUFFIXES:
            part = path.with_name(path.name + suffix)
            if part.exists():
                shutil.move(part, part.with_name(f"{part.name}.damaged-{stamp}"))
        note = (
            f"{exc}; kept it as state.db.damaged-{stamp}, started a fresh one and rebuilt "
            "the record index from the records. The card ledger, collection receipts and "
            "audit log start afresh: count the blank cards and load them again"
        )
        log.error(note)
        return open_database(path), [note]


@dataclass
class BootFindings:
    """What boot found: the index (seq to digest as sealed), damage, and what it repaired."""

    index: dict[int, bytes] = field(default_factory=dict)
    damaged: list[str] = field(default_factory=list)
    damaged_seqs: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Indexed:
    """What the index knows of one record: its digest and size, and whether it was pruned."""

    digest: bytes
    size: int
    pruned: bool


class BootRepair:
    """Checks ``records_dir`` against ``index`` once; :meth:`run` returns the findings.

    A file whose name and size match its index row is trusted without being read
    (thousands of records would otherwise cost gigabytes of reads at every boot); any
    other file, or every file with ``verify_files``, is read and verified in full.
    """

    def __init__(
        self,
        records_dir: Path,
        *,
        ops: FileOps,
        index: SqliteIndex,
        verifier: Verifier,
        certificate: bytes,
        verify_files: bool,
    ) -> None:
        self.records_dir = records_dir
        self._ops = ops
        self._index_table = index
        self._verifier = verifier
        self._certificate = certificate
        self._verify_files = verify_files
        self._verified_certificate: Certificate | None = None
        self._found = BootFindings()

    def run(self) -> BootFindings:
        """Half-written temporaries go; every file is indexed, or reported damaged (never
        removed); an indexed record whose file vanished is reported missing; a file a crash
        left behind in the middle of a prune is removed, as its receipt allowed.
        """
        found = self._found
        for path in remove_temporaries(self.records_dir, ops=self._ops):
            found.notes.append(f"removed {path.name}, a record a crash left half-written")
        indexed = {
            seq: _Indexed(digest, size, pruned)
            for seq, digest, size, pruned in self._index_table.rows()
        }
        fresh = [
            row
            for seq, path in record_files(self.records_dir, ops=self._ops)
            if (row := self._check_file(seq, path, indexed.pop(seq, None)))
        ]
        for seq, known in indexed.items():
            found.index[seq] = known.digest
            if not known.pruned:
                self._report_damaged(
                    seq, f"{record_name(seq)}: missing, though the index lists it as sealed"
                )
        if fresh:
            self._index_table.put(fresh)
            found.notes.append(
                f"indexed {len(fresh)} record(s) from their files "
                f"(#{fresh[0][0]}..#{fresh[-1][0]}): the index did not list them as they are"
            )
        return found

    def _check_file(
        self, seq: int, path: Path, known: _Indexed | None
    ) -> tuple[object, ...] | None:
        """Index one record file; the index row to write when the index must learn it."""
        if known is not None:
            if known.pruned:
                self._unlink_pruned(path)
                self._found.index[seq] = known.digest
                return None
            if not self._verify_files and self._ops.size(path) == known.size:
                self._found.index[seq] = known.digest
                return None
        data = self._ops.read(path)
        digest = record_hash(data)
        if known is not None and known.digest == digest:
            self._found.index[seq] = digest
            return None
        try:
            header = self._verifier.verify_record(data, self._kit_certificate())
            if header.seq != seq:
                raise RecordError(f"holds record {header.seq}", seq=seq)
        except RecordError as exc:
            self._report_damaged(seq, f"{path.name}: {exc}")
            # the index keeps the digest as sealed, so the next record still links right
            self._found.index[seq] = known.digest if known is not None else digest
            return None
        self._found.index[seq] = digest
        return _index_row(header, digest, len(data))

    def _kit_certificate(self) -> Certificate:
        """The kit's own certificate, verified once, when a record file must be checked."""
        if self._verified_certificate is None:
            self._verified_certificate = self._verifier.certificate(self._certificate)
        return self._verified_certificate

    def _report_damaged(self, seq: int, detail: str) -> None:
        log.error("damaged record: %s", detail)
        self._found.damaged.append(detail)
        self._found.damaged_seqs.add(seq)

    def _unlink_pruned(self, path: Path) -> None:
        self._ops.unlink(path)
        self._ops.fsync_dir(self.records_dir)
        self._found.notes.append(f"finished pruning {path.name}, which a receipt covers")


def _index_row(header: RecordHeader, digest: bytes, size: int) -> tuple[object, ...]:
    return (
        header.seq,
        digest,
        size,
        header.sealed_at.isoformat(),
        header.officer_id,
        header.reference,
        header.voids,
        int(header.print_card),
    )
