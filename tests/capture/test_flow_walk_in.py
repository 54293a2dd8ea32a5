"""Walk-ins: the NIK keyed at the kit, the purpose, a temporary domicile, a KIA."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capture.prompts import prompt
from storage.model import CardKind, Domicile, Modality
from tests.capture.flows import (
    BACK,
    OK,
    PALEMBANG_KK,
    PALEMBANG_NIK,
    child_nik,
    key_nik,
    sealed_header,
    shown,
    start,
    to_kk_entry,
    to_purpose,
)
from vocabulary.purpose import Purpose

if TYPE_CHECKING:
    from conftest import Rig


def test_walk_in_with_a_valid_nik_gets_a_slip(rig: Rig) -> None:
    walk_in = next(p for p in rig.world.walk_ins if not p.fingers)
    key_nik(rig, walk_in.nik)
    assert rig.state == "confirm_person"
    assert rig.screen[:2] == ["(datang langsung)", f"NIK {walk_in.nik}"]
    draft = rig.controller.draft
    assert draft.walk_in and draft.resident.worklist_ref == f"walk-in:{walk_in.nik}"
    start(rig)
    rig.press(OK, OK)  # photo, accept
    assert rig.state == "signature"
    rig.press(OK, OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert len(rig.sim.devices.receipt_printer.printed) == 1
    assert rig.sim.devices.card_printer.printed == []
    assert rig.store.ledger.stock() == 10
    assert not sealed_header(rig, 1).print_card
    rig.press(OK)
    key_nik(rig, walk_in.nik)
    assert rig.state == "nik_entry"
    assert rig.screen[:2] == prompt("nik_recorded")


def test_walk_in_invalid_nik_is_explained_and_back_leaves(rig: Rig) -> None:
    key_nik(rig, "3505100113900001")  # month 13
    assert rig.state == "nik_entry"
    why = prompt("nik_problem.no_such_month", month="13")[0]
    assert why == "Tak ada bulan 13", "why, in full and in Bahasa Indonesia"
    assert rig.screen[:3] == [*prompt("nik_bad", reason=why), "350510011390000[1]"]
    rig.press(*[BACK] * 16)
    assert rig.state == "ready"


def test_walk_in_nik_on_the_worklist_is_refused(rig: Rig) -> None:
    key_nik(rig, rig.world.residents[0].nik)
    assert rig.state == "nik_entry"
    assert rig.screen[:2] == prompt("nik_known")
    assert rig.controller.draft is None


def test_a_walk_in_child_of_10_records_a_kia_with_a_photo_and_nothing_else(rig: Rig) -> None:
    key_nik(rig, child_nik(rig, 10))
    assert rig.state == "confirm_person"
    assert rig.controller.draft.kind is CardKind.KIA
    assert rig.screen[2].startswith("KIA lahir")
    start(rig)  # the notice, heard by the guardian; then the face
    assert rig.state == "face", rig.screen
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    rig.press(OK)  # accept: no fingers, no signature for a KIA
    assert rig.state == "review", rig.screen
    rig.press(OK)
    assert rig.state == "done"
    header = sealed_header(rig, 1)
    assert (header.kind, header.captured) == (CardKind.KIA, (Modality.FACE,))


def test_a_walk_in_child_of_3_records_a_kia_without_a_photo(rig: Rig) -> None:
    key_nik(rig, child_nik(rig, 3))
    start(rig)  # the notice, heard by the guardian; nothing to capture under 5: the review
    assert rig.state == "review", rig.screen
    rig.press(OK)
    assert rig.state == "done"
    header = sealed_header(rig, 1)
    assert (header.kind, header.captured) == (CardKind.KIA, ())


def test_a_walk_in_s_purpose_is_asked_and_recorded(rig: Rig) -> None:
    to_purpose(rig)
    rig.choose(prompt("purpose.HILANG")[0])
    rig.press(OK)
    assert rig.state == "confirm_person"
    assert rig.controller.draft.purpose is Purpose.HILANG
    start(rig)
    rig.press(OK, OK)  # photo, accept
    while rig.state == "fingers":
        rig.settle()
    rig.press(OK)
    assert rig.state == "review"
    rig.press(OK)
    assert rig.state == "done"
    assert rig.screen[2] == prompt("outcome.slip")[0]
    assert sealed_header(rig, 1).purpose is Purpose.HILANG


def test_back_at_the_purpose_leaves_the_walk_in(rig: Rig) -> None:
    to_purpose(rig)
    rig.press(BACK)
    assert rig.state == "ready" and rig.controller.draft is None


def test_a_walk_in_from_another_regency_records_at_a_temporary_domicile(rig: Rig) -> None:
    to_kk_entry(rig)
    assert rig.screen[0] == prompt("kk_entry", entry="")[0]
    rig.key_digits("99" + PALEMBANG_KK[2:])
    assert rig.state == "kk_entry"
    assert rig.screen[:2] == prompt("kk_bad", reason="Tak ada provinsi 99")
    rig.press(*[BACK] * 15)  # from the last digit back to the first, then the right number
    rig.key_digits(PALEMBANG_KK)
    assert rig.state == "confirm_person", rig.screen
    assert rig.controller.draft.domicile == Domicile(PALEMBANG_KK, "1671")
    assert rig.audit("domicile") == [{"nik": PALEMBANG_NIK, "home": "1671"}]


def test_back_at_the_kk_entry_leaves_the_walk_in(rig: Rig) -> None:
    to_kk_entry(rig)
    rig.press(BACK)
    assert rig.state == "ready" and rig.controller.draft is None
