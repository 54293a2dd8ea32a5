"""The office's list from verified headers: counts by kind and purpose, corrections, cards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from provisioning.collector_audit import CollectedRecord
from provisioning.office_report import OfficeReason, build_office_report, to_json, to_text
from storage.keys import AuthorityPublic
from storage.model import CardKind
from storage.verify import Verifier
from vocabulary.purpose import Purpose

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@dataclass
class Collected:
    records: list[CollectedRecord]
    printed: dict[bytes, set[int]] = field(default_factory=dict)


def collected_v2() -> Collected:
    """The format-2 vector chain, verified, as the collector's audit would list it."""
    verifier = Verifier(AuthorityPublic.load(VECTORS / "authority.pub.cbor"))
    certificate = verifier.certificate((VECTORS / "v2" / "kit.cert").read_bytes())
    records = []
    for path in sorted((VECTORS / "v2").glob("*.cose")):
        h = verifier.verify_record(path.read_bytes(), certificate)
        records.append(
            CollectedRecord(
                certificate.digest,
                h.kit_id,
                h.seq,
                h.worklist_ref,
                h.walk_in,
                len(h.excepted),
                h.voids,
                h.print_card,
                h.kind,
                h.purpose,
                h.corrected,
                h.flagged,
                h.domicile,
                h.early,
                h.signature_excepted,
            )
        )
    return Collected(records)


def test_counts_by_kind_and_purpose() -> None:
    report = build_office_report(collected_v2())
    assert dict(report.counts) == {
        (CardKind.KIA, Purpose.BARU): 1,
        (CardKind.EKTP, Purpose.HILANG): 1,
        (CardKind.EKTP, Purpose.BARU): 2,
    }


def test_the_office_prints_what_the_kit_did_not_each_with_its_slip() -> None:
    report = build_office_report(collected_v2())
    assert [(c.seq, c.reference, c.reason) for c in report.cards] == [
        (2, "JEMPUT:JMP-1671-0001:2", OfficeReason.PURPOSE),
        (3, "JEMPUT:JMP-1671-0001:3", OfficeReason.HOME_OFFICE),
        (4, "JEMPUT:JMP-1671-0001:4", OfficeReason.BIRTHDAY),
    ]


def test_corrections_list_the_fields_not_their_values() -> None:
    report = build_office_report(collected_v2())
    [correction] = report.corrections
    assert (correction.seq, correction.corrected, correction.flagged) == (
        2,
        ("pekerjaan",),
        (("tempat lahir", "salah ejaan"),),
    )
    text = "\n".join(to_text(report))
    assert (
        "JEMPUT:JMP-1671-0001:2  pekerjaan (disetujui pejabat desa); tempat lahir: salah ejaan"
        in text
    )
    assert "PEDAGANG" not in text and "PEDAGANG" not in to_json(report)
    assert json.loads(to_json(report))["office_prints"][1]["reason"] == OfficeReason.HOME_OFFICE


def test_a_voided_record_is_not_on_the_office_list() -> None:
    collection = collected_v2()
    first = collection.records[0]
    void = CollectedRecord(first.chain, first.kit_id, 5, None, False, 0, 2, False)
    report = build_office_report(Collected([*collection.records, void]))
    assert [c.seq for c in report.cards] == [3, 4]
    assert report.corrections == []
