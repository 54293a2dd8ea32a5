"""The officer's menu: void a record, load cards, the language, back."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

import pytest

from capture.prompts import Language, prompt
from storage.blanks import SerialRange
from tests.capture.flows import (
    BACK,
    OK,
    FailingRecords,
    MakeRig,
    admin_item,
    enrol,
    open_admin,
    pick,
    sealed_header,
    shown,
    start,
    take_face,
)

if TYPE_CHECKING:
    from conftest import Rig


def test_void_a_record(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    person = enrol(rig)
    rig.press(OK)
    seal, sealed = rig.store.seal, []
    monkeypatch.setattr(rig.store, "seal", lambda e: (sealed.append(e), seal(e))[1])
    assert person.name[:20] not in rig.text
    admin_item(rig, "void")
    assert rig.state == "void_select"
    assert rig.screen == [*prompt("void_choose"), f">#1 {person.nik}"]
    rig.press(OK)
    assert rig.state == "done"  # the supervisor's finger approved, the void is sealed
    assert rig.screen[2] == prompt("outcome.void", voided=1)[0]
    header = sealed_header(rig, 2)
    assert header.voids == 1
    (void,) = sealed
    assert (void.voids, void.approvals) == (1, ("SPV-001",))
    assert void.resident.nik == person.nik and void.resident.worklist_ref is None
    assert rig.audit("approval")[0] == {
        "purpose": "void",
        "seq": 1,
        "supervisor": "SPV-001",
        "officer": "PTG-001",
        "how": "finger",
    }
    rig.press(OK)
    assert rig.state == "ready"
    rig.choose(person.name[:20])  # back on the ready list
    assert rig.store.recent() == []
    assert rig.store.sensor_pages() == {}, "the voided person's fingers left the library"
    officer_pages = {p for o in rig.store.officers.values() for p in o.finger_pages}
    assert set(rig.sim.devices.fingerprint.library) == officer_pages
    rig.press(OK)  # enrolled again: not stopped as their own duplicate
    start(rig)
    take_face(rig)
    assert rig.state == "signature", rig.screen


def test_void_refused_or_failed_returns_to_the_list(make_rig: MakeRig) -> None:
    files = FailingRecords()
    rig = make_rig(ops=files)
    admin_item(rig, "void")
    assert rig.screen == shown("void_none")
    rig.press(BACK)
    assert rig.state == "ready"
    enrol(rig)
    rig.press(OK)
    rig.bystanders.offer_finger = False
    admin_item(rig, "void")
    rig.press(OK)
    assert rig.state == "approval"
    rig.press(BACK)  # no supervisor
    assert rig.state == "ready" and rig.store.last_seq == 1

    files.error = errno.ENOSPC  # the disk is full: the void cannot be written
    rig.bystanders.offer_finger = True
    admin_item(rig, "void")
    rig.press(OK)
    assert rig.state == "ready"
    full = prompt("fault.storage_full")[0]
    assert rig.screen[:2] == shown("seal_failed", reason=full)[:2]
    assert rig.store.last_seq == 1


def test_load_cards_from_the_menu(rig: Rig) -> None:
    rig.store.ledger.hold((SerialRange("TEST", 11, 40),), officer_id="TECH")
    admin_item(rig, "load_cards")
    rig.key_digits("031")  # more than the serial ranges hold: refused, nothing loaded
    assert rig.state == "ready"
    assert rig.screen == shown("cards_too_many", left=30)
    assert rig.store.ledger.stock() == 10
    admin_item(rig, "load_cards")
    assert rig.state == "load_cards"
    rig.key_digits("000")  # zero cards: asked again
    assert rig.state == "load_cards"
    rig.key_digits("025")
    assert rig.state == "ready"
    assert rig.screen == shown("cards_loaded", count=25, stock=35)
    assert rig.store.ledger.stock() == 35
    assert rig.audit("cards-loaded") == [{"count": 25, "officer": "PTG-001"}]
    admin_item(rig, "load_cards")
    rig.press(BACK)
    assert rig.state == "ready"
    assert rig.store.ledger.stock() == 35
    rig.store.ledger.begin_print(1)
    assert rig.store.ledger.unresolved()[0].serial == "TEST-0000001"  # the serials in order


def test_admin_back_and_menu_back(rig: Rig) -> None:
    open_admin(rig)
    rig.press(BACK)
    assert rig.state == "ready"
    admin_item(rig, "back")
    assert rig.state == "ready"


def test_language_switch_to_english(rig: Rig) -> None:
    admin_item(rig, "language")
    assert rig.state == "admin"
    assert rig.controller.language is Language.EN
    assert ">" + prompt("admin.language", Language.EN)[0] in rig.screen
    rig.press(BACK)
    assert rig.screen[0].startswith("READY ")
    assert rig.controller.view.menu.choices[0].label == prompt("walk_in", Language.EN)[0]
    pick(rig)
    assert rig.screen[-1] == "OK=start BACK=back"
