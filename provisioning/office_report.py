"""What the Disdukcapil office must do after an outreach day: counts by kind and purpose,
the corrections to make, and the cards the office prints, each with its slip's reference.

Why a report of its own beside the coverage (`provisioning.report`): coverage is what
officials quote; this is the office's worklist for the next morning.  Like coverage it comes
from the verified headers only (record format version 2 names the kind, the purpose, which
enumerated fields the village official approved corrections of and which free-text fields
were flagged, never their values), so it needs no private key: the values are in the
bodies, which the office opens at its desk.  A card is "printed by the office" when the
record does not ask for one on site: a lost, damaged or changed card, a resident at a
temporary domicile (their home office prints), an early first-time voter, a flagged error,
or a kit without on-site printing.  Each is found by the slip's reference
(`storage.model.slip_reference`), the QR code the person takes home.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from provisioning.report import Collection, live_records
from storage.model import CardKind, FlaggedError, slip_reference
from vocabulary.purpose import Purpose


class OfficeReason(enum.StrEnum):
    """Why the office, not the kit, prints a card (technician's report: Bahasa Indonesia)."""

    HOME_OFFICE = "domisili sementara: dicetak Disdukcapil asal"
    PURPOSE = "keperluan: dicetak di Disdukcapil"
    BIRTHDAY = "menunggu ulang tahun ke-17"
    DATA_TO_CORRECT = "data dikoreksi di kantor"
    NOT_ON_SITE = "tidak dicetak di lokasi"


@dataclass(frozen=True)
class OfficeCard:
    """A card the office prints: the record, the slip's reference, and why."""

    kit_id: str
    seq: int
    reference: str
    kind: CardKind
    purpose: Purpose
    reason: OfficeReason


@dataclass(frozen=True)
class OfficeCorrection:
    """A record whose data the office corrects: fields approved by the village official
    (values in the body), and free-text fields flagged with their reason."""

    kit_id: str
    seq: int
    reference: str
    corrected: tuple[str, ...]
    flagged: tuple[tuple[str, str], ...]


@dataclass
class OfficeReport:
    counts: Counter[tuple[CardKind, Purpose]] = field(default_factory=Counter)
    cards: list[OfficeCard] = field(default_factory=list)
    corrections: list[OfficeCorrection] = field(default_factory=list)

    def as_map(self) -> dict[str, Any]:
        return {
            "counts": [
                {"kind": kind.value, "purpose": purpose.value, "records": count}
                for (kind, purpose), count in sorted(
                    self.counts.items(), key=lambda item: (item[0][0].value, item[0][1].value)
                )
            ],
            "office_prints": [
                {
                    "kit": c.kit_id,
                    "seq": c.seq,
                    "slip": c.reference,
                    "kind": c.kind.value,
                    "purpose": c.purpose.value,
                    "reason": c.reason.value,
                }
                for c in self.cards
            ],
            "corrections": [
                {
                    "kit": c.kit_id,
                    "seq": c.seq,
                    "slip": c.reference,
                    "corrected": list(c.corrected),
                    "flagged": [list(pair) for pair in c.flagged],
                }
                for c in self.corrections
            ],
        }


class RecordFacts(Protocol):
    """What a verified header says that decides who prints the card (a `CollectedRecord`
    or a `storage.record.RecordHeader`)."""

    @property
    def domicile(self) -> bool: ...

    @property
    def purpose(self) -> Purpose: ...

    @property
    def kind(self) -> CardKind: ...

    @property
    def early(self) -> bool: ...

    @property
    def flagged(self) -> tuple[FlaggedError, ...]: ...


def office_reason(record: RecordFacts) -> OfficeReason:
    """Why the office, not the kit, prints the card of a record that got none on site."""
    if record.domicile:
        return OfficeReason.HOME_OFFICE
    if not (record.purpose.prints_on_site or record.kind is CardKind.KIA):
        return OfficeReason.PURPOSE
    if record.early:
        return OfficeReason.BIRTHDAY
    if record.flagged:
        return OfficeReason.DATA_TO_CORRECT
    return OfficeReason.NOT_ON_SITE


def build_office_report(collection: Collection) -> OfficeReport:
    """Counts, the office's cards and its corrections, from the live (unvoided) records."""
    report = OfficeReport()
    for record in sorted(live_records(collection.records), key=lambda r: (r.kit_id, r.seq)):
        report.counts[(record.kind, record.purpose)] += 1
        reference = slip_reference(record.kit_id, record.seq)
        if not record.print_card:
            report.cards.append(
                OfficeCard(
                    record.kit_id,
                    record.seq,
                    reference,
                    record.kind,
                    record.purpose,
                    office_reason(record),
                )
            )
        if record.corrected or record.flagged:
            report.corrections.append(
                OfficeCorrection(
                    record.kit_id,
                    record.seq,
                    reference,
                    tuple(f.value for f in record.corrected),
                    tuple((f.field.value, f.reason.value) for f in record.flagged),
                )
            )
    return report


def to_text(report: OfficeReport) -> list[str]:
    """The report as lines for the technician's terminal (Bahasa Indonesia)."""
    lines = ["Rekaman per jenis dan keperluan:"]
    lines += [
        f"  {kind.value:<6} {purpose.value:<15} {count}"
        for (kind, purpose), count in sorted(
            report.counts.items(), key=lambda item: (item[0][0].value, item[0][1].value)
        )
    ]
    lines.append(f"Kartu dicetak kantor ({len(report.cards)}):")
    lines += [
        f"  {c.reference}  {c.kind.value} {c.purpose.value}: {c.reason.value}" for c in report.cards
    ]
    lines.append(f"Koreksi data oleh kantor ({len(report.corrections)}):")
    for c in report.corrections:
        fields = [f"{name} (disetujui pejabat desa)" for name in c.corrected]
        fields += [f"{name}: {reason}" for name, reason in c.flagged]
        lines.append(f"  {c.reference}  " + "; ".join(fields))
    return lines


def to_json(report: OfficeReport) -> str:
    return json.dumps(report.as_map(), indent=2, ensure_ascii=False)
