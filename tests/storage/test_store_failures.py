"""What the store does, and what the officer or technician reads, when things go wrong.

Faults reach the store the way the kernel delivers them: as OSError from a filesystem call
(through the FileOps seam), as a damaged file on disk, or as a full disk (through the
free-space probe).  Also receipts and pruning, the audit chain and the card ledger.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.blanks import SerialRange
from storage.errors import StateError, StorageFull, WriteError
from storage.files import TEMP_SUFFIX, FileOps, record_name
from storage.kit import RECORD_BUDGET_BYTES, KitStore, ReceiptError
from storage.receipt import make_receipt
from storage.record import read_header, record_hash
from storage.state import AuditBreak, SqliteLedger, open_database
from tests.storage.conftest import AUTHORITY, NOW, enrolment, now


class FaultyOps(FileOps):
    """The real filesystem, except that a named call fails with the errno it is given."""

    def __init__(self) -> None:
        self.faults: dict[str, int] = {}
        self.unlinked: list[str] = []

    def _fault(self, call: str) -> None:
        if (code := self.faults.get(call)) is not None:
            raise OSError(code, os.strerror(code))

    def open_excl(self, path: Path) -> int:
        self._fault("open_excl")
        return super().open_excl(path)

    def write(self, fd: int, data: memoryview) -> int:
        self._fault("write")
        return super().write(fd, data)

    def fsync(self, fd: int) -> None:
        self._fault("fsync")
        super().fsync(fd)

    def rename(self, src: Path, dst: Path) -> None:
        self._fault("rename")
        super().rename(src, dst)

    def fsync_dir(self, folder: Path) -> None:
        self._fault("fsync_dir")
        super().fsync_dir(folder)

    def unlink(self, path: Path) -> None:
        self._fault("unlink")
        self.unlinked.append(Path(path).name)
        super().unlink(path)


@pytest.fixture
def ops() -> FaultyOps:
    return FaultyOps()


@pytest.fixture
def faulty(kit_dir: Path, ops: FaultyOps) -> Iterator[KitStore]:
    with KitStore(kit_dir, now=now, ops=ops) as store:
        yield store


def _reopen(kit_dir: Path, **kwargs: object) -> KitStore:
    return KitStore(kit_dir, now=now, **kwargs)  # type: ignore[arg-type]


def _record_names(kit_dir: Path) -> list[str]:
    return sorted(p.name for p in (kit_dir / "records").iterdir() if p.name != "kit.cert")


# -- writes that fail -----------------------------------------------------------------------


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_a_full_disk_saves_nothing_and_the_same_seq_is_sealed_once_there_is_room(
    faulty: KitStore, ops: FaultyOps, kit_dir: Path, call: str
) -> None:
    faulty.seal(enrolment(1))
    audit_before = faulty.audit.entries()
    ops.faults[call] = errno.ENOSPC
    with pytest.raises(StorageFull) as caught:  # its own class: the kit says it in words
        faulty.seal(enrolment(2))
    assert str(caught.value) == (
        "storage full while writing 00000002.cose; the record is NOT saved: "
        "collect the records to free space, then save again"
    )
    assert _record_names(kit_dir) == [record_name(1)]
    assert faulty.status().sealed == 1 and faulty.audit.entries() == audit_before

    ops.faults.clear()
    sealed = faulty.seal(enrolment(2))
    assert sealed.seq == 2
    assert read_header(sealed.path.read_bytes()).prev == record_hash(
        (kit_dir / "records" / record_name(1)).read_bytes()
    )


def test_an_fsync_error_is_fatal_for_the_write_and_claims_nothing(
    faulty: KitStore, ops: FaultyOps, kit_dir: Path
) -> None:
    faulty.seal(enrolment(1))
    audit_before = faulty.audit.entries()
    ops.faults["fsync"] = errno.EIO
    with pytest.raises(WriteError) as caught:
        faulty.seal(enrolment(2))
    assert str(caught.value) == (
        "syncing 00000002.cose failed: Input/output error; the record is NOT saved: "
        "check the storage card, it may be failing"
    )
    assert _record_names(kit_dir) == [record_name(1)]
    assert faulty.last_seq == 1 and faulty.audit.entries() == audit_before
    with sqlite3.connect(kit_dir / "state.db") as db:
        assert db.execute("SELECT seq FROM records").fetchall() == [(1,)]


def test_a_failed_folder_sync_takes_the_name_back(
    faulty: KitStore, ops: FaultyOps, kit_dir: Path
) -> None:
    ops.faults["fsync_dir"] = errno.EIO
    with pytest.raises(WriteError, match=r"syncing the folder of 00000001\.cose failed"):
        faulty.seal(enrolment(1))
    assert _record_names(kit_dir) == []
    ops.faults.clear()
    assert faulty.seal(enrolment(1)).seq == 1


def test_a_read_only_data_folder_says_so(kit_dir: Path, ops: FaultyOps) -> None:
    records = kit_dir / "records"
    records.chmod(0o500)
    try:
        if os.geteuid() == 0:  # root writes through the mode bits: the card says EROFS
            ops.faults["open_excl"] = errno.EROFS
        with _reopen(kit_dir, ops=ops) as store, pytest.raises(WriteError) as caught:
            store.seal(enrolment(1))
    finally:
        records.chmod(0o700)
    message = str(caught.value)
    assert message.startswith(f"cannot write {records / record_name(1)}: the data folder is")
    assert "read-only" in message and "the record is NOT saved" in message
    assert "check the storage card" in message
    assert _record_names(kit_dir) == []


# -- damage found at boot -------------------------------------------------------------------


def test_a_truncated_database_is_kept_aside_and_the_state_rebuilt_from_the_records(
    store: KitStore, kit_dir: Path
) -> None:
    for n in range(3):
        store.seal(enrolment(n))
    store.ledger.receive((SerialRange("T", 1, 10),), officer_id="OFF-1")
    store.close()
    state = kit_dir / "state.db"
    original = state.read_bytes()
    state.write_bytes(original[: len(original) // 2])

    with _reopen(kit_dir) as reopened:
        status = reopened.status()
        assert status.sealed == 3 and status.last_seq == 3 and status.damaged == []
        # rebuilt from the headers, which hold keyed references only: these residents are
        # on no worklist, so the rows keep the keyed form, and membership still finds them
        refs = reopened.recorded_refs()
        assert len(refs) == 3 and "REF-3" not in refs
        assert all(f"REF-{n}" in refs for n in range(3))
        assert not any(f"REF-{n}" in str(sorted(refs)) for n in range(3))
        kept = f"state.db.damaged-{now():%Y%m%dT%H%M%S}"
        assert (kit_dir / kept).read_bytes() == original[: len(original) // 2]
        note = status.boot_notes[0]
        assert note.startswith(f"state database {state} is damaged: ")
        assert f"kept it as {kept}, started a fresh one and rebuilt the record index" in note
        assert "count the blank cards and load them again" in note
        assert status.cards["stock"] == 0
        repairs = [d["note"] for _, _, kind, d in reopened.audit.entries() if kind == "boot-repair"]
        assert note in repairs
        assert reopened.audit.check() is None
        assert reopened.seal(enrolment(3)).seq == 4


def test_a_database_from_newer_software_is_refused_not_set_aside(kit_dir: Path) -> None:
    with _reopen(kit_dir):
        pass
    with sqlite3.connect(kit_dir / "state.db") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match=r"newer than this software .*install the newer"):
        _reopen(kit_dir)
    assert not list(kit_dir.glob("state.db.damaged-*"))


def _flip_a_byte(data: bytes) -> bytes:
    """Bit rot: same size, so only a boot that reads every file finds it."""
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    return bytes(flipped)


def _cut_short(data: bytes) -> bytes:
    """A torn or truncated file: its size differs from the index, so every boot reads it."""
    return data[: len(data) // 2]


@pytest.mark.parametrize("victim", [2, 3])
@pytest.mark.parametrize(
    ("damage", "verify_files"), [(_flip_a_byte, True), (_cut_short, False)], ids=["flip", "cut"]
)
def test_a_corrupted_record_is_reported_kept_and_the_chain_carries_on(
    store: KitStore,
    kit_dir: Path,
    victim: int,
    damage: Callable[[bytes], bytes],
    verify_files: bool,
) -> None:
    sealed = [store.seal(enrolment(n)) for n in range(3)]
    store.close()
    path = kit_dir / "records" / record_name(victim)
    data = damage(path.read_bytes())
    path.write_bytes(data)

    with _reopen(kit_dir, verify_files=verify_files) as reopened:
        status = reopened.status()
        assert len(status.damaged) == 1
        assert status.damaged[0].startswith(f"{record_name(victim)}: ")
        assert status.sealed == 3
        assert path.read_bytes() == data
        damage = [
            d["detail"] for _, _, kind, d in reopened.audit.entries() if kind == "damaged-record"
        ]
        assert damage == status.damaged
        following = reopened.seal(enrolment(3))
    assert following.seq == 4
    assert read_header(following.path.read_bytes()).prev == sealed[2].digest
    assert path.exists()


class CountingOps(FileOps):
    """The real filesystem, noting which files are read."""

    def __init__(self) -> None:
        self.read_names: list[str] = []

    def read(self, path: Path) -> bytes:
        self.read_names.append(Path(path).name)
        return super().read(path)


def test_boot_reads_only_the_record_files_whose_size_disagrees_with_the_index(
    store: KitStore, kit_dir: Path
) -> None:
    for n in range(3):
        store.seal(enrolment(n))
    store.close()
    ops = CountingOps()
    with _reopen(kit_dir, ops=ops) as reopened:
        assert ops.read_names == ["kit.cert"]
        assert reopened.status().damaged == []

    path = kit_dir / "records" / record_name(2)
    path.write_bytes(_cut_short(path.read_bytes()))
    flipped = kit_dir / "records" / record_name(3)
    flipped.write_bytes(_flip_a_byte(flipped.read_bytes()))
    ops = CountingOps()
    with _reopen(kit_dir, ops=ops) as reopened:
        assert ops.read_names == ["kit.cert", record_name(2)]
        assert [d.split(":")[0] for d in reopened.status().damaged] == [record_name(2)]
    ops = CountingOps()
    with _reopen(kit_dir, ops=ops, verify_files=True) as reopened:
        assert ops.read_names == ["kit.cert", *(record_name(n) for n in (1, 2, 3))]
        assert [d.split(":")[0] for d in reopened.status().damaged] == [
            record_name(2),
            record_name(3),
        ]


def test_a_record_file_that_vanished_is_reported_and_its_seq_never_reused(
    store: KitStore, kit_dir: Path
) -> None:
    for n in range(3):
        store.seal(enrolment(n))
    store.close()
    (kit_dir / "records" / record_name(3)).unlink()
    with _reopen(kit_dir) as reopened:
        assert reopened.status().damaged == [
            "00000003.cose: missing, though the index lists it as sealed"
        ]
        assert reopened.seal(enrolment(3)).seq == 4


def test_leftover_temporaries_are_removed_and_noted(store: KitStore, kit_dir: Path) -> None:
    store.seal(enrolment(0))
    store.close()
    (kit_dir / "records" / (record_name(2) + TEMP_SUFFIX)).write_bytes(b"half a rec")
    with _reopen(kit_dir) as reopened:
        assert reopened.status().boot_notes == [
            "removed 00000002.cose.tmp, a record a crash left half-written"
        ]
        assert _record_names(kit_dir) == [record_name(1)]


#: Refuses every seal entry, as a fault of the state database would (another connection's).
_REFUSE_SEAL_ENTRIES = (
    "CREATE TRIGGER refuse_seal BEFORE INSERT ON audit WHEN NEW.kind = 'seal' "
    "BEGIN SELECT RAISE(ABORT, 'the database refused the entry'); END"
)


def _state_db(kit_dir: Path, statement: str) -> None:
    with contextlib.closing(sqlite3.connect(kit_dir / "state.db")) as db:
        db.execute(statement)


def _seal_entries(store: KitStore) -> list[int]:
    return [detail["seq"] for _, _, kind, detail in store.audit.entries() if kind == "seal"]


def test_an_index_row_is_written_with_its_seal_entry_or_waits_with_it(
    store: KitStore, kit_dir: Path
) -> None:
    """One transaction: a row is never indexed without its audit entry (before, the row
    was committed first, and a crash before the entry lost it for good)."""
    store.seal(enrolment(1))
    _state_db(kit_dir, _REFUSE_SEAL_ENTRIES)
    sealed = store.seal(enrolment(2))
    assert sealed.seq == 2 and sealed.path.exists(), "the file is durable: sealed"
    assert [row[0] for row in store.index.rows()] == [1], "no row without its entry"
    assert _seal_entries(store) == [1]
    assert "REF-2" in store.recorded_refs(), "the waiting row still counts the person"
    _state_db(kit_dir, "DROP TRIGGER refuse_seal")
    assert store.refusal() is None  # the next space check writes what waited
    assert [row[0] for row in store.index.rows()] == [1, 2]
    assert _seal_entries(store) == [1, 2]
    assert store.audit.check() is None


def test_a_kit_stopped_between_the_record_and_its_index_row_indexes_it_at_boot(
    store: KitStore, kit_dir: Path
) -> None:
    store.seal(enrolment(1))
    _state_db(kit_dir, _REFUSE_SEAL_ENTRIES)
    store.seal(enrolment(2))
    store.close()  # the power goes before the row could be written
    _state_db(kit_dir, "DROP TRIGGER refuse_seal")
    with _reopen(kit_dir) as rebooted:
        assert [row[0] for row in rebooted.index.rows()] == [1, 2]
        assert rebooted.boot_notes == [
            "indexed 1 record(s) from their files (#2..#2): the index did not list them as they are"
        ]
        assert _seal_entries(rebooted) == [1]
        assert rebooted.audit.check() is None and not rebooted.damaged
        assert "REF-2" in rebooted.recorded_refs()
        assert rebooted.seal(enrolment(3)).seq == 3, "the chain goes on after the repair"


def test_storage_nearly_full_refuses_a_new_enrolment(kit_dir: Path) -> None:
    needed = RECORD_BUDGET_BYTES + 50 * 2**20
    with _reopen(kit_dir, disk_free=lambda _: 10 * 2**20) as store:
        assert store.refusal() == (
            "storage full: 10 MB free, 52 MB needed.\n"
            "Collect the records (0 not yet collected) to free space"
        )
    with _reopen(kit_dir, disk_free=lambda _: needed) as store:
        assert store.refusal() is None


# -- the audit chain ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "UPDATE audit SET detail = '{\"seq\": 9}' WHERE id = 2",
            AuditBreak(2, "was altered after it was written"),
        ),
        ("DELETE FROM audit WHERE id = 2", AuditBreak(2, "entry 2 is missing")),
    ],
)
def test_the_audit_chain_names_an_edited_or_deleted_entry(
    store: KitStore, kit_dir: Path, tamper: str, expected: AuditBreak
) -> None:
    for n in range(3):
        store.seal(enrolment(n))
    assert store.audit.check() is None
    store.close()
    with sqlite3.connect(kit_dir / "state.db") as db:
        db.execute(tamper)
    with _reopen(kit_dir) as reopened:
        assert reopened.status().audit_break == expected


# -- the card ledger ------------------------------------------------------------------------


def test_no_card_is_taken_from_an_empty_ledger(store: KitStore) -> None:
    with pytest.raises(StateError, match="no blank cards left in the ledger: load cards first"):
        store.ledger.begin_print(1)
    assert store.ledger.counts()["stock"] == 0


def test_a_print_outcome_is_recorded_only_once(store: KitStore) -> None:
    store.ledger.receive((SerialRange("T", 1, 2),), officer_id="OFF-1")
    serial = store.ledger.begin_print(1)
    store.ledger.printed(serial)
    with pytest.raises(StateError, match=f"card {serial} is already recorded as printed"):
        store.ledger.spoiled(serial, "jam")
    with pytest.raises(StateError, match="card X-C00009 was never taken for a print"):
        store.ledger.printed("X-C00009")


ledger_steps = st.lists(
    st.one_of(
        st.tuples(st.just("load"), st.integers(1, 3)),
        st.tuples(st.sampled_from(["begin", "printed", "spoiled"]), st.integers(0, 5)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(steps=ledger_steps)
def test_stock_is_loaded_minus_taken_and_never_negative(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    db = open_database(tmp_path_factory.mktemp("ledger") / "state.db")
    ledger = SqliteLedger(db, threading.Lock(), now)
    ledger.hold((SerialRange("T", 1, 75),), officer_id="OFF-1")
    loaded = begun = 0
    serials: list[str] = []
    done: set[str] = set()
    try:
        for kind, value in steps:
            if kind == "load":
                ledger.load(value, officer_id="OFF-1")
                loaded += value
            elif kind == "begin":
                if loaded - begun == 0:
                    with pytest.raises(StateError):
                        ledger.begin_print(value)
                else:
                    serials.append(ledger.begin_print(value))
                    begun += 1
            elif serials:
                serial = serials[value % len(serials)]
                outcome = ledger.printed if kind == "printed" else ledger.spoiled
                args = () if kind == "printed" else ("smudged",)
                if serial in done:
                    with pytest.raises(StateError, match="already recorded"):
                        outcome(serial, *args)
                else:
                    outcome(serial, *args)
                    done.add(serial)
            counts = ledger.counts()
            assert counts["stock"] == loaded - begun >= 0
            assert counts["unresolved"] == begun - len(done)
    finally:
        db.close()


# -- receipts and pruning -------------------------------------------------------------------


def _receipt(store: KitStore, seq: int, *, head: bytes | None = None, kit_id: str = "") -> bytes:
    """The authority's receipt for records 1..seq of ``store``'s kit, as a collector sends it."""
    return make_receipt(
        AUTHORITY,
        kit_id=kit_id or store.kit_id,
        seq=seq,
        head=_head(store, seq) if head is None else head,
        at=NOW,
    )


def _sealed(store: KitStore, count: int, face_bytes: int = 1000) -> list[int]:
    return [store.seal(enrolment(n, face_bytes=face_bytes)).seq for n in range(count)]


def _collect(store: KitStore, up_to: int) -> None:
    store.record_receipt(_receipt(store, up_to))


def _head(store: KitStore, seq: int) -> bytes:
    """The chain head a collector holding records 1..seq reports: record seq's digest."""
    path = store.records_dir / record_name(seq)
    return record_hash(path.read_bytes()) if path.exists() else b""


def test_a_receipt_marks_records_collected_and_is_audited(store: KitStore) -> None:
    _sealed(store, 4)
    assert store.status().uncollected == 4
    _collect(store, 3)
    assert store.status().uncollected == 1
    kind, detail = store.audit.entries()[-1][2:]
    assert kind == "collection" and detail["up_to_seq"] == 3


@pytest.mark.parametrize(
    ("up_to", "head", "kit_id", "message"),
    [
        (5, bytes(32), "", "this kit's last record is 4: it is for another kit"),
        (3, bytes(32), "", "chain head does not match record 3 on this kit"),
        (3, None, "KIT-OTHER", "receipt is for kit 'KIT-OTHER'"),
    ],
)
def test_a_receipt_that_does_not_fit_this_kit_is_refused(
    store: KitStore, up_to: int, head: bytes | None, kit_id: str, message: str
) -> None:
    _sealed(store, 4)
    with pytest.raises(ReceiptError, match=message):
        store.record_receipt(_receipt(store, up_to, head=head, kit_id=kit_id))
    assert store.status().uncollected == 4


def test_a_receipt_whose_signature_fails_is_not_stored(store: KitStore) -> None:
    _sealed(store, 2)
    forged = bytearray(_receipt(store, 2))
    forged[-1] ^= 1
    with pytest.raises(ReceiptError, match="not signed by authority"):
        store.record_receipt(bytes(forged))
    assert store.collected_up_to() == 0


@pytest.mark.parametrize("kind", ["forged", "another kit's", "another head"])
def test_a_receipts_row_put_on_the_card_frees_nothing(kit_dir: Path, kind: str) -> None:
    """The receipts table is plain SQLite: a row added with the kit off must not let the kit
    prune records no collector holds.  Boot checks every row and names the one that fails."""
    with KitStore(kit_dir, now=lambda: NOW) as store:
        _sealed(store, 4)
        receipt = {
            "forged": b"RECEIPT 3",
            "another kit's": _receipt(store, 3, kit_id="KIT-OTHER"),
            "another head": _receipt(store, 3, head=bytes(32)),
        }[kind]
    with sqlite3.connect(kit_dir / "state.db") as db:  # the thief's edit, kit off
        db.execute(
            "INSERT INTO receipts (at, up_to_seq, head, receipt) VALUES (?, 3, ?, ?)",
            ("2025-06-02T08:30:00Z", bytes(32), receipt),
        )
    with KitStore(kit_dir, now=lambda: NOW) as store:
        assert store.collected_up_to() == 0 and store.status().uncollected == 4
        assert store.prune(10**9) == [], "nothing a receipt that checks covers"
        assert any("receipts row 1 frees nothing" in note for note in store.boot_notes)
        assert all((store.records_dir / record_name(seq)).exists() for seq in range(1, 5))
        _collect(store, 3)  # a genuine receipt still counts
        assert store.collected_up_to() == 3


def test_prune_never_deletes_an_uncollected_record(store: KitStore, kit_dir: Path) -> None:
    _sealed(store, 4)
    assert store.prune(10**9) == []
    _collect(store, 2)
    assert store.prune(10**9) == [1, 2]
    assert _record_names(kit_dir) == [record_name(3), record_name(4)]


def test_prune_deletes_oldest_first_only_as_many_as_needed(store: KitStore, kit_dir: Path) -> None:
    _sealed(store, 5)
    _collect(store, 4)
    size = (kit_dir / "records" / record_name(1)).stat().st_size
    assert store.prune(size + 1) == [1, 2]
    assert store.prune(0) == []
    kind, detail = store.audit.entries()[-1][2:]
    assert kind == "prune" and detail["seqs"] == [1, 2]
    assert _record_names(kit_dir) == [record_name(n) for n in (3, 4, 5)]


def test_prune_keeps_the_newest_record_and_the_chain_carries_on(
    store: KitStore, kit_dir: Path
) -> None:
    _sealed(store, 3)
    _collect(store, 3)
    assert store.prune(10**9) == [1, 2]
    store.close()
    with _reopen(kit_dir) as reopened:
        status = reopened.status()
        assert (status.sealed, status.pruned, status.uncollected) == (3, 2, 0)
        assert status.damaged == [] and status.boot_notes == []
        assert reopened.recorded_refs() == {"REF-0", "REF-1", "REF-2"}
        newest = (kit_dir / "records" / record_name(3)).read_bytes()
        following = reopened.seal(enrolment(3))
    assert following.seq == 4
    assert read_header(following.path.read_bytes()).prev == record_hash(newest)


def test_prune_never_deletes_a_damaged_record(store: KitStore, kit_dir: Path) -> None:
    _sealed(store, 3)
    _collect(store, 2)
    store.close()
    path = kit_dir / "records" / record_name(1)
    path.write_bytes(path.read_bytes()[:-10])
    with _reopen(kit_dir) as reopened:
        assert reopened.prune(10**9) == [2]
    assert path.exists()


def test_a_prune_cut_short_by_a_crash_is_finished_at_boot(kit_dir: Path, ops: FaultyOps) -> None:
    with _reopen(kit_dir, ops=ops) as store:
        _sealed(store, 3)
        _collect(store, 2)
        ops.faults["unlink"] = errno.EIO  # stands for the power going before the unlink
        with pytest.raises(OSError):
            store.prune(10**9)
    with _reopen(kit_dir) as reopened:
        assert reopened.status().boot_notes == [
            "finished pruning 00000001.cose, which a receipt covers",
            "finished pruning 00000002.cose, which a receipt covers",
        ]
        assert reopened.status().damaged == []
    assert _record_names(kit_dir) == [record_name(3)]


class SmallDisk:
    """A free-space probe for a disk ``short`` bytes too small, less what records take."""

    def __init__(self, records: Path, short: int) -> None:
        self.records = records
        self.free_now = RECORD_BUDGET_BYTES + 50 * 2**20 - short + self._used()

    def _used(self) -> int:
        return sum(path.stat().st_size for path in self.records.glob("*.cose"))

    def __call__(self, _: Path) -> int:
        return self.free_now - self._used()


@pytest.mark.parametrize(("short", "pruned"), [(1500, [1]), (10**6, [1, 2, 3])])
def test_refusal_prunes_collected_records_before_refusing(
    store: KitStore, kit_dir: Path, short: int, pruned: list[int]
) -> None:
    _sealed(store, 4, face_bytes=2000)
    _collect(store, 3)
    store.close()
    with _reopen(kit_dir, disk_free=SmallDisk(kit_dir / "records", short)) as reopened:
        refusal = reopened.refusal()
        assert [n for n in range(1, 5) if not (kit_dir / "records" / record_name(n)).exists()] == (
            pruned
        )
    if short < 2000:
        assert refusal is None
    else:
        assert refusal == (
            "storage full: 51 MB free, 52 MB needed.\n"
            "Collect the records (1 not yet collected) to free space"
        )
