"""Collection receipts and pruning: what a collector has, and which files that lets go.

A record is never deleted until a collector's signed receipt covers it (DESIGN,
"Storage").  The receipt is checked against the kit's own chain before it is kept, so a
receipt for another kit's records, or for records this kit never sealed, frees nothing;
pruning then deletes only what a kept receipt covers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from storage.audit import AuditKind
from storage.chain import SealedChain
from storage.errors import StorageError
from storage.files import FileOps, record_name
from storage.state import SqliteAudit, SqliteIndex, SqliteReceipts


class ReceiptError(StorageError, ValueError):
    """A collection receipt that does not cover this kit's records as it claims."""


class Collection:
    """Receipts and pruning for the kit whose chain is ``chain`` and files ``records_dir``.

    ``damaged_seqs`` are the records boot found damaged: never pruned, the technician
    must see them.
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
    ) -> None:
        self._chain = chain
        self._receipts = receipts
        self._index = index
        self._audit = audit
        self._records_dir = records_dir
        self._ops = ops
        self._damaged_seqs = damaged_seqs

    def collected_up_to(self) -> int:
        """The highest seq a stored receipt covers (0 when nothing was collected)."""
        return self._receipts.collected_up_to()

    def uncollected(self) -> int:
        return self._chain.count_after(self.collected_up_to())

    def record_receipt(
        self, up_to_seq: int, head: bytes, receipt: bytes, *, verify: Callable[[bytes], int]
    ) -> None:
        """Keep a collector's signed receipt for records 1..``up_to_seq``.

        ``verify`` checks the receipt's signature (its format comes from provisioning) and
        returns the seq it covers; it raises if the receipt is not genuine.  ``head`` is the
        digest of record ``up_to_seq`` as the collector holds it: it must be this kit's, so
        a receipt for another kit's chain, or for records this kit never sealed, frees
        nothing.
        """
        covered = verify(receipt)
        if covered != up_to_seq:
            raise ReceiptError(
                f"the receipt covers records up to {covered}, not {up_to_seq}: "
                "nothing is marked collected; collect again"
            )
        last = self._chain.last_seq
        if not 1 <= up_to_seq <= last:
            raise ReceiptError(
                f"the receipt covers records up to {up_to_seq}, but this kit's last record is "
                f"{last}: it is for another kit or another data folder"
            )
        if head != self._chain.digest(up_to_seq):
            raise ReceiptError(
                f"the receipt's chain head does not match record {up_to_seq} on this kit: "
                "the collector holds different records; collect again"
            )
        self._receipts.add(up_to_seq, head, receipt)
        self._audit.append(AuditKind.COLLECTION, up_to_seq=up_to_seq, head=head.hex())

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
