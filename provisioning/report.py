"""`jemput-prov report`: coverage per kit, per village and overall, the figure officials quote.

Why from the record headers and the worklist only: the collector counts without opening a
single body (no decryption key needed).  A header names the resident by a keyed reference
(HMAC-SHA256 of the worklist reference under the authority's reference key,
`storage.reference`; records of format 1 and 2 by the plain reference), not the village,
so villages come from the worklist CSV, each line keyed with the authority folder's
``reference.key``; a header whose reference no line has is counted under "?", never as
someone else.  Walk-ins (the header's walk-in flag) have no worklist line and are counted
in a row of their own.  A record voided by a later
one does not count.  "printed" is what the kit's signed card ledger says was printed.  Voids
and the ledger are matched within one certificate's chain: a reflashed kit numbers its
records from 1 again.  Every fact comes from a database audit that passed
(`provisioning.collector_audit`), never from a column.

The CSV is opened in spreadsheets, and a village name such as ``=HYPERLINK(...)`` must
not become a live formula there: as OWASP advises for CSV injection, a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from provisioning.collector_audit import CollectedRecord
from storage.model import Resident
from storage.reference import ReferenceKey, resident_key

WALK_IN_ROW = "(walk-in)"
OVERALL = "(overall)"


@dataclass
class Row:
    """One line of the report; ``on_worklist`` is None when no worklist was given."""

    scope: str
    name: str
    on_worklist: int | None = None
    recorded: int = 0
    printed: int = 0
    exceptions: int = 0
    walk_ins: int = 0
    not_recorded: int | None = None

    @property
    def share(self) -> float | None:
        if not self.on_worklist:
            return None
        return 100.0 * (self.on_worklist - (self.not_recorded or 0)) / self.on_worklist

    @property
    def share_text(self) -> str:
        share = self.share
        return "-" if share is None else f"{share:.1f}% sudah merekam"

    def as_map(self) -> dict[str, Any]:
        return {**asdict(self), "share": self.share, "share_text": self.share_text}


def live_records(records: list[CollectedRecord]) -> list[CollectedRecord]:
    """The records no later record voids (within one certificate's chain), voids left out."""
    voided = {(r.chain, r.voids) for r in records if r.voids is not None}
    return [r for r in records if r.voids is None and (r.chain, r.seq) not in voided]


class Collection(Protocol):
    """What a report counts: verified records, and per chain the seqs its ledger printed
    (a `provisioning.collector_audit.DatabaseAudit` that passed)."""

    @property
    def records(self) -> list[CollectedRecord]: ...

    @property
    def printed(self) -> dict[bytes, set[int]]: ...


def build_report(
    collection: Collection,
    worklist: tuple[Resident, ...] | None = None,
    references: ReferenceKey | None = None,
) -> list[Row]:
    """Rows per kit, per village (with a worklist and the authority's ``references``), and
    overall."""
    records = live_records(collection.records)
    printed = collection.printed
    kits: dict[str, Row] = {}
    villages: dict[str, Row] = {}
    overall = Row("overall", OVERALL)
    village_of: dict[bytes, str] = {}
    # each record's keyed reference, keyed once (an HMAC for a version 1 or 2 header)
    keyed_refs = [None if references is None else _keyed(r, references) for r in records]
    if worklist is not None:
        if references is None:
            raise ValueError("a report against a worklist needs the authority's reference key")
        recorded = set(keyed_refs)
        overall.on_worklist = overall.not_recorded = 0
        for resident in worklist:
            name = resident.village or "-"
            ref = resident.worklist_ref
            keyed = None if ref is None else references.keyed(ref)
            if keyed is not None:
                village_of[keyed] = name
            village = villages.setdefault(name, Row("village", name, 0, not_recorded=0))
            missing = keyed is None or keyed not in recorded
            for row in (village, overall):
                row.on_worklist = (row.on_worklist or 0) + 1
                row.not_recorded = (row.not_recorded or 0) + missing
    for record, keyed in zip(records, keyed_refs, strict=True):
        walk_in = record.walk_in
        targets = [kits.setdefault(record.kit_id, Row("kit", record.kit_id)), overall]
        if worklist is not None:
            # a reference no line has (another authority's key, or none) is nobody known
            place = WALK_IN_ROW if walk_in else village_of.get(keyed or b"", "?")
            targets.append(villages.setdefault(place, Row("village", place)))
        card = record.seq in printed.get(record.chain, ())
        for row in targets:
            row.recorded += 1
            row.printed += card
            row.exceptions += record.excepted > 0
            row.walk_ins += walk_in
    return [
        *sorted(kits.values(), key=lambda r: r.name),
        *sorted(villages.values(), key=lambda r: r.name),
        overall,
    ]


def _keyed(record: CollectedRecord, references: ReferenceKey) -> bytes | None:
    return resident_key(references, keyed_ref=record.keyed_ref, worklist_ref=record.worklist_ref)


COLUMNS = (
    "scope",
    "name",
    "on_worklist",
    "recorded",
    "printed",
    "exceptions",
    "walk_ins",
    "not_recorded",
    "share_text",
)


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """``cell`` as a spreadsheet will show it, never as a formula: numbers pass as they are,
    text that starts like a formula gets a leading quote."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def to_csv(rows: list[Row]) -> str:
    """The report as CSV; a row without a share has an empty share_text, not "-"."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR in a cell is quoted
    writer.writerow(COLUMNS)
    for row in rows:
        cells = {**row.as_map(), "share_text": None if row.share is None else row.share_text}
        writer.writerow([spreadsheet_safe("" if cells[c] is None else cells[c]) for c in COLUMNS])
    return out.getvalue()


def to_json(rows: list[Row]) -> str:
    return json.dumps([row.as_map() for row in rows], indent=2, ensure_ascii=False)
