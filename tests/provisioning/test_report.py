"""Coverage numbers: the share officials quote, and the formats scripts read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from firmware.sim import demo_world, resident_of
from provisioning.collector import CollectorDB
from provisioning.report import Row, build_report, to_csv, to_json


def test_share_is_worklist_residents_recorded() -> None:
    row = Row("village", "SAWENTAR", on_worklist=500, recorded=499, not_recorded=1)
    assert row.share_text == "99.8% sudah merekam"
    assert Row("kit", "K1", recorded=3).share_text == "-", "no worklist, no share"


def test_an_empty_database_reports_every_resident_not_yet_recorded(tmp_path: Path) -> None:
    worklist = tuple(resident_of(person) for person in demo_world(1).residents)
    with CollectorDB(tmp_path / "c.db") as db:
        rows = build_report(db, worklist)
    overall = rows[-1]
    assert (overall.on_worklist, overall.recorded, overall.not_recorded) == (60, 0, 60)
    villages = [row for row in rows if row.scope == "village"]
    assert sum(row.on_worklist or 0 for row in villages) == 60
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[-1]["share_text"] == "0.0% sudah merekam"
    assert json.loads(to_json(rows))[-1]["not_recorded"] == 60
