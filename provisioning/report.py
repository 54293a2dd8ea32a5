"""`jemput-prov report`: coverage per kit, per village and overall, the figure officials quote.

Why from the record headers and the worklist only: the collector counts without opening a
single body (no decryption key needed).  A header names the resident by a keyed reference
(HMAC-SHA256 of the worklist reference under the authority's reference key,
`storage.reference`; records of format 1 and 2 by the plain reference), not the village,
so villages come from the worklist CSV, each line keyed with the authority folder's
``reference.key``; a header whose reference no line has is counted under "?", never as
someone else.  A record voided by a later one does not count.  "printed" is what the kit's
signed card ledger says was printed.  Voids and the ledger are matched within one
certificate's chain: a reflashed kit numbers its records from 1 again.  Every fact comes
from a database audit that passed (`provisioning.collector_audit`), never from a column.

Why the figures mean what the district's mean (`provisioning.columns`): a technician
compares this report with the district's, so *recorded* counts registered residents with
a live record, once each, and never a walk-in; *walk-ins* count apart.  Per kit, each
record counts (a resident recorded by two kits counts on both kits' rows).  The "?" row
(references no line has: a worklist other than the kit's) is not in the overall row, as
the district counts only residents its worklists name.

The CSV is opened in spreadsheets, and a village name such as ``=HYPERLINK(...)`` must
not become a live formula there: as OWASP advises for CSV injection, a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from provisioning.collector_audit import CollectedRecord
from provisioning.columns import COVERAGE, DESA, Column, Kind, Table
from storage.model import Resident
from storage.reference import ReferenceKey, resident_key
from vocabulary.language import Language, Words

WALK_IN_ROW = "(walk-in)"
UNKNOWN_ROW = "?"
OVERALL = "(overall)"


class Scope(enum.StrEnum):
    KIT = "kit"
    VILLAGE = "village"
    OVERALL = "overall"


@dataclass
class Row:
    """One line of the report; ``registered`` and ``missing`` are None without a worklist
    (and on kit rows, and on the walk-in and "?" rows, which no worklist line names)."""

    scope: Scope
    name: str
    registered: int | None = None
    recorded: int = 0
    walk_ins: int = 0
    printed: int = 0
    excepted: int = 0

    @property
    def missing(self) -> int | None:
        return None if self.registered is None else self.registered - self.recorded

    @property
    def share_recorded(self) -> float | None:
        """Recorded of registered, in percent to one decimal, as the district rounds it."""
        if not self.registered:
            return None
        return round(100.0 * self.recorded / self.registered, 1)

    def count(self, *, card: bool, excepted: bool) -> None:
        self.printed += card
        self.excepted += excepted

    def as_map(self) -> dict[str, Any]:
        return {**asdict(self), "missing": self.missing, "share_recorded": self.share_recorded}


TITLE = Words("Cakupan perekaman", "Enrolment coverage")
NAME = Column(
    "name",
    Words("nama", "name"),
    Kind.TEXT,
    values={
        WALK_IN_ROW: Words("(di luar daftar)", "(walk-ins)"),
        UNKNOWN_ROW: Words("(tidak di daftar ini)", "(not on this worklist)"),
        OVERALL: Words("(seluruh)", "(overall)"),
    },
)
#: The report as CSV and JSON carry it.
TABLE = Table(
    "coverage",
    TITLE,
    (
        Column(
            "scope",
            Words("tingkat", "scope"),
            Kind.TEXT,
            values={
                Scope.KIT: Words("kit", "kit"),
                Scope.VILLAGE: DESA,
                Scope.OVERALL: Words("seluruh", "overall"),
            },
        ),
        NAME,
        *COVERAGE,
    ),
)
#: The report as a terminal shows it: one column names the kit or the kelurahan/desa
#: (indented, as the office store's table indents its villages).
READ_TABLE = Table(
    "coverage",
    TITLE,
    (Column("place", Words("kit / wilayah", "kit / place"), Kind.TEXT), *COVERAGE),
)


def read_rows(rows: list[Row], language: Language) -> list[dict[str, Any]]:
    """``rows`` as `READ_TABLE` shows them."""
    indent = {Scope.KIT: "", Scope.VILLAGE: "  ", Scope.OVERALL: ""}
    return [
        {**row.as_map(), "place": indent[row.scope] + NAME.cell(row.name, language)} for row in rows
    ]


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
    if worklist is not None and references is None:
        raise ValueError("a report against a worklist needs the authority's reference key")
    printed = collection.printed
    kits: dict[str, Row] = {}
    villages: dict[str, Row] = {}
    overall = Row(Scope.OVERALL, OVERALL)
    place_of: dict[bytes | str, str] = {}
    if worklist is not None and references is not None:
        overall.registered = 0
        for resident in worklist:
            name = resident.village or "-"
            village = villages.setdefault(name, Row(Scope.VILLAGE, name, registered=0))
            village.registered = (village.registered or 0) + 1
            overall.registered += 1
            if resident.worklist_ref is not None:
                place_of[references.keyed(resident.worklist_ref)] = name
    # each resident once: printed or excepted if any of their live records is
    residents: dict[bytes | str, tuple[bool, bool]] = {}
    for record in live_records(collection.records):
        card = record.seq in printed.get(record.chain, ())
        excepted = record.excepted > 0
        kit = kits.setdefault(record.kit_id, Row(Scope.KIT, record.kit_id))
        kit.count(card=card, excepted=excepted)
        if record.walk_in:
            kit.walk_ins += 1
            rows = [overall]
            if worklist is not None:
                rows.append(villages.setdefault(WALK_IN_ROW, Row(Scope.VILLAGE, WALK_IN_ROW)))
            for row in rows:
                row.walk_ins += 1
                row.count(card=card, excepted=excepted)
            continue
        kit.recorded += 1
        who = _identity(record, references)
        if worklist is not None and who not in place_of:
            # a reference no line has (another authority's key, or none) is nobody known
            unknown = villages.setdefault(UNKNOWN_ROW, Row(Scope.VILLAGE, UNKNOWN_ROW))
            unknown.recorded += 1
            unknown.count(card=card, excepted=excepted)
            continue
        was_card, was_excepted = residents.get(who, (False, False))
        residents[who] = (was_card or card, was_excepted or excepted)
    for who, (card, excepted) in residents.items():
        rows = [overall] if worklist is None else [overall, villages[place_of[who]]]
        for row in rows:
            row.recorded += 1
            row.count(card=card, excepted=excepted)
    return [
        *sorted(kits.values(), key=lambda r: r.name),
        *sorted(villages.values(), key=lambda r: r.name),
        overall,
    ]


def _identity(record: CollectedRecord, references: ReferenceKey | None) -> bytes | str:
    """Who a record names: the keyed reference under the authority's key, or without the
    key the reference the header holds (keyed in format 3, plain before)."""
    if references is not None:
        keyed = resident_key(
            references, keyed_ref=record.keyed_ref, worklist_ref=record.worklist_ref
        )
        if keyed is not None:
            return keyed
    return record.keyed_ref or record.worklist_ref or f"{record.kit_id}#{record.seq}"


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """``cell`` as a spreadsheet will show it, never as a formula: numbers pass as they are,
    text that starts like a formula gets a leading quote."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def to_csv(rows: list[Row]) -> str:
    """The report as CSV, keyed as the JSON is; a figure there is none of is an empty cell."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR in a cell is quoted
    writer.writerow(TABLE.keys)
    for cells in TABLE.raw([row.as_map() for row in rows]):
        writer.writerow([spreadsheet_safe("" if cell is None else cell) for cell in cells])
    return out.getvalue()


def to_json(rows: list[Row]) -> str:
    return json.dumps([row.as_map() for row in rows], indent=2, ensure_ascii=False)
