"""How the capture tests drive a kit: from the ready list to each state, and what it shows.

Every flow test runs a real kit (store on a temporary folder, event loop, device doubles,
the simulated world in front; see ``conftest.py``) and presses buttons through the rig;
these are the walks they share, and the tables that bring a kit into each state by name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from capture.layout import lay_out
from capture.notice_steps import NOTICE_PAGES, Spelling
from capture.prompts import WIDTH, Language, prompt
from hal.types import Button
from hw_sim.world import Person
from storage.files import FileOps, record_name
from storage.nik import make_nik
from storage.record import RecordHeader, read_header
from vocabulary.people import Sex
from vocabulary.purpose import Purpose

if TYPE_CHECKING:
    from conftest import Rig

OK, BACK, UP, DOWN = Button.OK, Button.BACK, Button.UP, Button.DOWN
MakeRig = Callable[..., "Rig"]


def shown(
    key: str, language: Language = Language.ID, *, rows: int = 4, **values: object
) -> list[str]:
    """Prompt ``key`` as the 4x21 display lays it out in ``rows`` lines (capture.layout)."""
    lines = prompt(key, language, **values)
    return lay_out(lines, columns=WIDTH, rows=rows, language=language)


def clean_person(rig: Rig, skip: int = 0) -> Person:
    """A worklist resident whose ten fingers all read well (no scar, bandage or gap)."""
    return [p for p in rig.world.residents if not p.fingers][skip]


def pick(rig: Rig, person: Person | None = None) -> Person:
    """From the ready list, choose ``person``: the kit asks to confirm them."""
    person = person or clean_person(rig)
    rig.choose(person.name)
    rig.press(OK)
    assert rig.state == "confirm_person", rig.screen
    return person


#: Who hears the notice for a child in these tests.
GUARDIAN = "SITI AMINAH"


def spell(rig: Rig, name: str) -> None:
    """Spell ``name`` in the guardian's letter menu, then say it is complete."""
    for letter in name:
        rig.driver.pick(letter, what=f"letter {letter!r}")
    rig.driver.pick(Spelling.DONE, what="done")


def give_notice(rig: Rig, *, guardian: str = GUARDIAN) -> None:
    """From the notice to what comes after the needs: its pages read, a child's guardian
    named, no need declared ("continue" is the needs menu's first line)."""
    assert rig.state == "notice", rig.screen
    rig.press(*[OK] * NOTICE_PAGES)
    if rig.state == "guardian":
        spell(rig, guardian)
    assert rig.state == "needs", rig.screen
    rig.press(OK)


def start(rig: Rig, *, guardian: str = GUARDIAN) -> None:
    """At confirm person: OK starts, and the notice is given before anything is captured."""
    assert rig.state == "confirm_person", rig.screen
    rig.press(OK)
    give_notice(rig, guardian=guardian)


def to_notice(rig: Rig, person: Person | None = None) -> Person:
    person = pick(rig, person)
    rig.press(OK)
    assert rig.state == "notice", rig.screen
    return person


def to_needs(rig: Rig) -> None:
    to_notice(rig)
    rig.press(*[OK] * NOTICE_PAGES)
    assert rig.state == "needs", rig.screen


def child_nik(rig: Rig, years: int) -> str:
    """The NIK of a walk-in of Kabupaten Blitar born on 1 January ``years`` years ago: a
    child under 17 records a KIA (from 5 with a photo), and a guardian hears the notice."""
    born = rig.world.clock.now().date().replace(day=1, month=1)
    return f"350510{born:%d%m}{(born.year - years) % 100:02d}0001"


def to_guardian(rig: Rig) -> None:
    key_nik(rig, child_nik(rig, 10))
    assert rig.state == "confirm_person", rig.screen
    rig.press(OK, *[OK] * NOTICE_PAGES)
    assert rig.state == "guardian", rig.screen


def to_face(rig: Rig, person: Person | None = None) -> Person:
    person = pick(rig, person)
    start(rig)
    assert rig.state == "face", rig.screen
    return person


def take_face(rig: Rig) -> None:
    rig.press(OK)
    assert rig.screen == shown("face_ok")
    rig.press(OK)


def to_fingers(rig: Rig) -> Person:
    """At the first finger, which reads poorly: the machine waits for the officer."""
    person = to_face(rig)
    rig.sim.devices.fingerprint.inject("poor-image")
    take_face(rig)
    assert rig.state == "fingers", rig.screen
    return person


def to_signature(rig: Rig, person: Person | None = None) -> Person:
    person = to_face(rig, person)
    take_face(rig)
    assert rig.state == "signature", rig.screen
    assert rig.screen == shown("signature_ok")
    return person


def to_review(rig: Rig, person: Person | None = None) -> Person:
    person = to_signature(rig, person)
    rig.press(OK)
    assert rig.state == "review", rig.screen
    return person


def enrol(rig: Rig, person: Person | None = None) -> Person:
    """A whole enrolment, sealed and printed: the kit shows done."""
    person = to_review(rig, person)
    rig.press(OK)
    assert rig.state == "done", rig.screen
    return person


def enrol_and_next(rig: Rig, person: Person) -> Person:
    enrol(rig, person)
    rig.press(OK)
    assert rig.state == "ready", rig.screen
    return person


def open_admin(rig: Rig) -> None:
    rig.choose(prompt("admin")[0])
    rig.press(OK)
    assert rig.state == "admin", rig.screen


def admin_item(rig: Rig, key: str) -> None:
    open_admin(rig)
    rig.choose(prompt(f"admin.{key}", rig.controller.language)[0])
    rig.press(OK)


def lock_by_menu(rig: Rig) -> None:
    """Lock from the officer's menu, with nobody offering a finger afterwards."""
    rig.bystanders.offer_finger = False
    admin_item(rig, "lock")
    assert rig.state == "locked", rig.screen


def except_all_fingers(rig: Rig) -> None:
    """Record an exception (missing) for every finger the policy asks: approval follows."""
    to_fingers(rig)
    for _ in rig.store.policy.fingers:
        rig.press(DOWN)
        assert rig.state == "finger_exception", rig.screen
        rig.press(OK)
    assert rig.state == "approval", rig.screen


def pin_login(rig: Rig, officer_id: str, pin: str | None = None) -> None:
    """From locked: OK for PIN, choose the officer, key the PIN."""
    rig.press(OK)
    assert rig.state == "pin_entry", rig.screen
    rig.choose(rig.store.officers[officer_id].name)
    rig.press(OK)
    rig.key_digits(pin or rig.pin(officer_id))


def crash(rig: Rig, make_rig: MakeRig, **options: object) -> Rig:
    """The kit loses power and boots again on the same data folder and world."""
    return make_rig(reopen=rig, **options)


def sealed_header(rig: Rig, seq: int) -> RecordHeader:
    return read_header((rig.store.records_dir / record_name(seq)).read_bytes())


class FailingRecords(FileOps):
    """The real filesystem, but creating a record file fails with :attr:`error` (an errno)
    while it is set: a storage card locked read-only (EROFS), or a full one (ENOSPC)."""

    def __init__(self) -> None:
        self.error: int | None = None

    def open_excl(self, path: Path) -> int:
        if self.error is not None:
            raise OSError(self.error, os.strerror(self.error), str(path))
        return super().open_excl(path)


def key_nik(rig: Rig, nik: str, *, purpose: Purpose | None = Purpose.BARU) -> None:
    """Key a walk-in's NIK; once it is accepted, choose ``purpose`` (None: stay asked)."""
    rig.choose(prompt("walk_in")[0])
    rig.press(OK)
    assert rig.state == "nik_entry"
    rig.key_digits(nik)
    if rig.state == "purpose" and purpose is not None:
        rig.choose(prompt(f"purpose.{purpose.name}")[0])
        rig.press(OK)


def to_signature_exception(rig: Rig) -> None:
    to_signature(rig)
    rig.press(DOWN)  # cannot sign
    assert rig.state == "signature_exception", rig.screen
    assert rig.screen[0] == prompt("signature_exception")[0]


def correct(rig: Rig, field: str, value: str) -> None:
    rig.choose(prompt(f"field.{field}")[0])
    rig.press(OK)
    rig.choose(value)
    rig.press(OK)


# -- every state by its name ---------------------------------------------------------------


def _at_pin_entry(rig: Rig) -> None:
    lock_by_menu(rig)
    rig.press(OK)


def at_approval(rig: Rig) -> None:
    rig.bystanders.offer_finger = False  # no supervisor comes
    except_all_fingers(rig)


#: How to bring a logged-in kit at the ready list into each state the idle lock may end.


#: How to bring a logged-in kit at the ready list into each state the idle lock may end.
TO_LOCKABLE: dict[str, Callable[[Rig], object]] = {
    "ready": lambda rig: None,
    "admin": open_admin,
    "load_cards": lambda rig: admin_item(rig, "load_cards"),
    "void_select": lambda rig: admin_item(rig, "void"),
    "pin_entry": _at_pin_entry,
    "nik_entry": lambda rig: rig.press(OK),
    "confirm_person": pick,
    "notice": to_notice,
    "guardian": to_guardian,
    "needs": to_needs,
    "face": to_face,
    "fingers": to_fingers,
    "finger_exception": lambda rig: (to_fingers(rig), rig.press(DOWN)),
    "approval": at_approval,
    "signature": to_signature,
    "review": to_review,
    "done": enrol,
}


TO_CAPTURE_STATE: dict[str, Callable[[Rig], object]] = {
    "confirm_person": pick,
    "notice": to_notice,
    "guardian": to_guardian,
    "needs": to_needs,
    "face": to_face,
    "fingers": to_fingers,
    "finger_exception": TO_LOCKABLE["finger_exception"],
    "signature": to_signature,
    "review": to_review,
}


def _at_resume_offer(rig: Rig) -> None:
    to_face(rig)
    rig.tick(rig.store.policy.idle_lock_seconds)
    rig.settle()  # the officer's finger logs in again


def _at_print_question(rig: Rig) -> None:
    rig.store.ledger.begin_print(1)
    admin_item(rig, "lock")  # the officer's finger logs in again


def _at_locked(rig: Rig) -> None:
    lock_by_menu(rig)


#: Every state the battery may end, reached from a logged-in kit at the ready list.


#: Every state the battery may end, reached from a logged-in kit at the ready list.
TO_POWERED: dict[str, Callable[[Rig], object]] = {
    **TO_LOCKABLE,
    "locked": _at_locked,
    "resume_offer": _at_resume_offer,
    "print_question": _at_print_question,
}

# -- the rules of an outreach day: purpose, domicile, official, corrections ------------------

#: A NIK of Kota Palembang: a walk-in from another regency than the kit's (Kabupaten Blitar).
PALEMBANG_NIK = make_nik("167101", date(1990, 1, 5), Sex.FEMALE, 1)
PALEMBANG_KK = "1671010101200007"


def to_purpose(rig: Rig) -> None:
    key_nik(rig, rig.world.walk_ins[0].nik, purpose=None)
    assert rig.state == "purpose", rig.screen
    assert rig.screen[0] == prompt("purpose")[0]


def to_kk_entry(rig: Rig) -> None:
    key_nik(rig, PALEMBANG_NIK)
    assert rig.state == "kk_entry", rig.screen


def to_official_login(rig: Rig) -> None:
    rig.bystanders.offer_finger = False
    admin_item(rig, "official")
    assert rig.state == "official_login", rig.screen


def to_correction(rig: Rig) -> None:
    to_review(rig)
    rig.press(DOWN)
    assert rig.state == "correction", rig.screen


TO_RULE_STATE: dict[str, Callable[[Rig], object]] = {
    "purpose": to_purpose,
    "kk_entry": to_kk_entry,
    "official_login": to_official_login,
    "signature_exception": to_signature_exception,
    "correction": to_correction,
}

#: Every state above by its name: how a test that is given a state's name reaches it.
TO_STATE: dict[str, Callable[[Rig], object]] = {**TO_POWERED, **TO_RULE_STATE}
