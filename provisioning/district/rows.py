"""Each table's columns as signed bytes determine them: written by sync, derived by the audit.

Why one function per table for both ends: a column that sync writes one way and the audit
derives another would be a finding in every honest store, or a check that misses an edit.
With one function each, the value written and the value checked cannot drift apart.

Worklist lines are the one thing no kit signs, so they are chained instead: each line's
``link`` is the SHA-256 of the link before it and the line's columns, the list is named by
the link of its last line (its digest), and a sync statement signed by the authority names
that digest and the number of lines (`provisioning.district.sync_log`).  A line edited,
removed, reordered or added then no longer hashes to the signed digest.
"""

from __future__ import annotations

import hashlib
from typing import Any

from provisioning.district import schema as s
from provisioning.district.arrival import KitStatusAt, Ledger
from storage.certificate import Certificate
from storage.codec import dumps
from storage.record import RecordHeader, record_hash
from storage.reference import ReferenceKey, resident_key
from storage.rounds import Round
from vocabulary.rounds import Group

#: The ``link`` before a worklist's first line: SHA-256 of this label, so no other chain's
#: start (a record chain's certificate digest, the sync log's zero bytes) can pose as one.
LIST_GENESIS = hashlib.sha256(b"jemput-district-worklist\0").digest()
#: The columns of a worklist line that its link covers, in the order they are hashed.
LINE_COLUMNS = ("province", "ref_digest", "regency_code", "regency", "district", "village")
#: The ``records`` column of each group (record format 4; false for older formats).
GROUP_COLUMNS = {
    Group.PEMILIH_PEMULA: "first_voter",
    Group.KIA: "kia",
    Group.DOMISILI: "domicile",
    Group.DISABILITAS: "disability",
}


def chain_values(certificate: Certificate) -> dict[str, Any]:
    """A ``chains`` row's columns, all from the kit certificate the authority signed."""
    return {
        "province": s.province_of(certificate.region),
        "cert_digest": certificate.digest,
        "kit_id": certificate.kit_id,
        "region": certificate.region,
        "cert": certificate.data,
    }


def record_values(
    header: RecordHeader, digest: bytes, region: str, references: ReferenceKey
) -> dict[str, Any]:
    """A ``records`` row's columns from its verified header (``digest``: the record's SHA-256).

    ``region`` is the certificate's; ``ref_digest`` the keyed reference (`storage.reference`),
    keyed here for a record of format 1 or 2, None for a walk-in.
    """
    keyed = resident_key(references, keyed_ref=header.keyed_ref, worklist_ref=header.worklist_ref)
    return {
        "seq": header.seq,
        "digest": digest,
        "sealed_at": header.sealed_at,
        "day": header.sealed_at.date(),
        "region": region,
        "officer": header.officer_id,
        "ref_digest": None if header.walk_in else keyed,
        "walk_in": header.walk_in,
        "excepted": len(header.excepted),
        "voids": header.voids,
        "print_card": header.print_card,
        "round_code": None if header.round is None else header.round.code,
        "venue": None if header.round is None else header.round.venue.value,
        **{column: group in header.groups for group, column in GROUP_COLUMNS.items()},
        "notice": header.notice,
    }


def round_values(plan: Round, signed: bytes) -> dict[str, Any]:
    """A ``rounds`` row's columns, all from the plan the authority signed (``signed``)."""
    return {
        "province": plan.province,
        "code": plan.code,
        "plan": signed,
        "venue": plan.venue.value,
        "place": plan.place,
        "regency_code": plan.regency,
        "kecamatan": plan.kecamatan,
        "day": plan.day,
        "election_day": plan.election_day,
        "listed": plan.listed,
        "left_out": plan.left_out,
        "no_nik": plan.no_nik,
    }


def ledger_values(ledger: Ledger) -> dict[str, Any]:
    """A ``ledgers`` row's columns from the head and card ledger the kit signed."""
    return {
        "signed_digest": record_hash(ledger.signed),
        "signed": ledger.signed,
        "signed_at": ledger.at,
        "head_seq": ledger.head_seq,
        "head": ledger.head,
        "loaded": ledger.loaded,
        "printed": ledger.printed,
        "spoiled": ledger.spoiled,
        "unresolved": ledger.unresolved,
    }


def status_values(kept: KitStatusAt) -> dict[str, Any]:
    """A ``statuses`` row's columns from the status the kit signed and the laptop's time the
    collector's statement signed."""
    status = kept.status
    battery = status.battery
    return {
        "status_digest": record_hash(kept.signed),
        "status": kept.signed,
        "statement": kept.statement,
        "collected_at": kept.collected_at,
        "kit_time": status.time,
        "drift": kept.drift_seconds,
        "version": status.software.version,
        "pico_version": status.software.pico_version,
        "minimum": None if status.software.minimum is None else str(status.software.minimum),
        "stock": status.cards.get("stock"),
        "battery_percent": None if battery is None else battery.percent,
        "battery_millivolts": None if battery is None else battery.millivolts,
    }


def line_link(before: bytes, line: dict[str, Any]) -> bytes:
    """The link through ``line`` (its `LINE_COLUMNS`) after the link ``before``."""
    return hashlib.sha256(before + dumps([line[column] for column in LINE_COLUMNS])).digest()
