"""Collection receipts and pruning: what a collector has, and which files that lets go.

A record is never deleted until a collector's signed receipt covers it (DESIGN,
"Storage").  A receipt counts only while it checks: signed by the kit's authority, for this
kit, and for records this kit holds as the receipt names them (its head is the kit's own
digest of its last record).  It is checked when the port hands it over and again at every
boot, so a receipts row put on the card with the kit off (the table is plain SQLite) frees
nothing: it is named in the boot notes (which the audit keeps) and passed over.  Pruning
deletes only what a receipt that checks covers.
"""

from __future__ import annotations

from pathlib import Path

from storage.audit import AuditKind
from storage.chain import SealedChain
from storage.files import FileOps, record_name
from storage.keys import AuthorityPublic
from storage.receipt import Receipt, ReceiptError, read_receipt
from storage.state import SqliteAudit, SqliteIndex, SqliteReceipts


class Collection:
    """Receipts and pruning for the kit whose chain is ``chain`` and files ``records_dir``.

    ``damaged_seqs`` are the records boot found damaged: never pruned, the technician
    must see them.  ``notes`` names the kept receipts boot found that do not check.
    """

    def __init__(
        self,
        *,
        chain: SealedChain,
        receipts: SqliteReceipts,
        index: SqliteIndex,
        audit: SqliteAudit,
        records_dir: Path,
        ops: FileOps,
        damaged_seqs: set[int],
        authority: AuthorityPublic,
        kit_id: str,
    ) -> None:
        self._chain = chain
        self._receipts = receipts
        self._index = index
        self._audit = audit
        self._records_dir = records_dir
        self._ops = ops
        self._damaged_seqs = damaged_seqs
        self._authority = authority
        self._kit_id = kit_id
        self.notes: list[str] = []
        self._collected = self._checked_rows()

    def _checked_rows(self) -> int:
        """The highest seq a kept receipt that still checks covers; the others are named."""
        collected = 0
        for row, receipt in self._receipts.rows():
            try:
                collected = max(collected, self._check(receipt).seq)
            except ReceiptError as exc:
                self.notes.append(f"receipts row {row} frees nothing (audited at boot): {exc}")
        return collected

    def _check(self, receipt: bytes) -> Receipt:
        """The receipt, if the authority signed it for this kit's records as it holds them."""
        signed = read_receipt(receipt, self._authority, kit_id=self._kit_id)
        last = self._chain.last_seq
        if not 1 <= signed.seq <= last:
            raise ReceiptError(
                f"the receipt covers records up to {signed.seq}, but this kit's last record is "
                f"{last}: it is for another kit or another data folder"
            )
        if signed.head != self._chain.digest(signed.seq):
            raise ReceiptError(
                f"the receipt's chain head does not match record {signed.seq} on this kit: "
                "the collector holds different records; collect again"
            )
        return signed

    def collected_up_to(self) -> int:
        """The highest seq a receipt that checks covers (0 when nothing was collected)."""
        return self._collected

    def uncollected(self) -> int:
        return self._chain.count_after(self.collected_up_to())

    def record_receipt(self, receipt: bytes) -> Receipt:
        """Keep a collector's receipt, once it checks (ReceiptError naming why if not)."""
        signed = self._check(receipt)
        self._receipts.add(signed.seq, signed.head, receipt)
        self._audit.append(AuditKind.COLLECTION, up_to_seq=signed.seq, head=signed.head.hex())
        self._collected = max(self._collected, signed.seq)
        return signed

    def prune(self, needed_bytes: int) -> list[int]:
        """Delete record files a receipt covers, oldest first, until ``needed_bytes`` are freed.

        Never deletes an uncollected record, a damaged one (the technician must see it) or
        the newest one (the chain head the next record links to).  A pruned record keeps
        its index row (digest, worklist reference), so the chain, the sequence numbers and
        "already enrolled" survive it.  The rows are marked before the files go: a crash in
        between leaves files that boot removes.  Returns the pruned seqs.
        """
        if needed_bytes <= 0:
            return []
        with self._chain.lock:  # no seal while files go
            collected = min(self.collected_up_to(), self._chain.last_seq - 1)
            chosen, freed = [], 0
            for seq, size in self._index.prunable(collected):
                if freed >= needed_bytes:
                    break
                if seq not in self._damaged_seqs:
                    chosen.append(seq)
                    freed += size
            if not chosen:
                return []
            self._index.mark_pruned(chosen)
            for seq in chosen:
                self._ops.unlink(self._records_dir / record_name(seq))
            self._ops.fsync_dir(self._records_dir)
        self._audit.append(AuditKind.PRUNE, seqs=chosen, freed=freed, needed=needed_bytes)
        return chosen
