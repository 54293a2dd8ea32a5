"""The handover of printed cards on the kit: the official takes the batch, residents take
their cards, confirmed 1:1 by finger or by signature; a finger that does not match leaves
the card with the official."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from capture.prompts import prompt, word
from hw_sim.fingerprints import template_of
from hw_sim.world import Person
from storage.handover import HandoverBatch, HandoverCard, HandoverKind, Proof
from tests.capture.flows import BACK, OK, admin_item, clean_person, shown

if TYPE_CHECKING:
    from conftest import Rig

CHAIN = bytes(range(32))
VILLAGE = "SAWENTAR"


def card(
    person: Person, seq: int, *, templates_of: Person | None = None, signs: bool = False
) -> HandoverCard:
    """The card of ``person``'s record ``seq``; its templates are ``templates_of``'s fingers
    (someone else's: the wrong person at the kit), none where the fingers were excepted."""
    owner = templates_of or person
    templates = () if signs else tuple((pos, template_of(owner.seed, pos)) for pos in (2, 7))
    return HandoverCard(CHAIN, seq, "KIT-3505-01", person.name, f"B3505-25A-{seq:07d}", templates)


def give_batch(rig: Rig, *cards: HandoverCard) -> HandoverBatch:
    batch = HandoverBatch("BA-3505-SAWENTAR-1", "DUKCAPIL-3505", VILLAGE, "KANIGORO", cards)
    rig.store.handovers.keep(batch)
    return batch


def at_handover(rig: Rig) -> None:
    admin_item(rig, "handover")
    assert rig.state == "handover", rig.screen


def acknowledged(rig: Rig) -> None:
    """The official takes the batch by finger: the kit lists its cards."""
    at_handover(rig)
    rig.choose(f"{VILLAGE} ({len(rig.store.handovers.batches()[0].cards)})")
    rig.press(OK)
    assert rig.state == "handover", rig.screen  # the official's finger came at once
    rig.press(OK)  # the notice read


def at_resident(rig: Rig, person: Person) -> None:
    acknowledged(rig)
    rig.choose(person.name)
    rig.press(OK)


def test_without_a_batch_the_kit_says_how_to_send_one(rig: Rig) -> None:
    at_handover(rig)
    assert rig.screen == shown("handover_none")
    rig.press(BACK)
    assert rig.state == "ready", rig.screen


def test_the_official_takes_the_batch_then_residents_take_their_cards(rig: Rig) -> None:
    fingers, signer = clean_person(rig), clean_person(rig, 1)
    batch = give_batch(rig, card(fingers, 1), card(signer, 2, signs=True))
    at_handover(rig)
    assert rig.screen[0] == prompt("handover_batches")[0]
    rig.choose(f"{VILLAGE} (2)")
    rig.press(OK)
    assert rig.state == "handover", rig.screen
    assert rig.screen == shown("handover_acked", name=rig.bystanders.official.name)
    rig.press(OK)
    assert rig.screen[:2] == shown("handover_cards", village=VILLAGE, left=2)[:2]

    rig.choose(fingers.name)
    rig.press(OK)  # the resident's finger comes and matches their own template
    assert rig.state == "handover", rig.screen
    assert rig.screen == shown("handover_given", name=fingers.name)
    rig.press(OK)
    rig.choose(signer.name)
    rig.press(OK)
    assert rig.state == "handover_resident", rig.screen
    assert rig.screen == shown("handover_signed")
    rig.press(OK)
    assert rig.screen == shown("handover_given", name=signer.name)
    rig.press(OK)
    assert rig.screen == shown("handover_all", village=VILLAGE)

    events = rig.store.handovers.events()
    assert [(e.kind, e.card, e.how) for e in events] == [
        (HandoverKind.ACKNOWLEDGED, None, Proof.FINGER),
        (HandoverKind.RECEIVED, (CHAIN, 1), Proof.FINGER),
        (HandoverKind.RECEIVED, (CHAIN, 2), Proof.SIGNATURE),
    ]
    assert events[0].by == rig.bystanders.official.officer_id
    assert events[2].evidence and events[1].evidence is None
    assert all(e.batch == batch.batch for e in events)
    rig.press(BACK)  # back to the batches, then to the ready list
    rig.press(BACK)
    assert rig.state == "ready", rig.screen


def test_a_finger_that_is_not_the_residents_leaves_the_card_with_the_official(rig: Rig) -> None:
    resident, other = clean_person(rig), clean_person(rig, 1)
    give_batch(rig, card(resident, 1, templates_of=other))
    at_resident(rig, resident)
    assert rig.state == "handover", rig.screen
    assert rig.screen == shown("handover_refused")
    kinds = [e.kind for e in rig.store.handovers.events()]
    assert kinds == [HandoverKind.ACKNOWLEDGED, HandoverKind.NOT_MATCHED]
    assert rig.audit("handover-not-matched") == [{"batch": "BA-3505-SAWENTAR-1", "seq": 1}]
    rig.press(OK)
    assert rig.screen[:2] == shown("handover_cards", village=VILLAGE, left=1)[:2]


def test_a_sensor_fault_at_the_resident_is_named_and_hands_nothing_over(rig: Rig) -> None:
    resident = clean_person(rig)
    give_batch(rig, card(resident, 1))
    acknowledged(rig)
    rig.sim.devices.fingerprint.inject("unplugged")
    rig.choose(resident.name)
    rig.press(OK)
    assert rig.state == "handover_resident", rig.screen
    problem, check = prompt("fault.absent")
    device = word("device.fingerprint")
    assert rig.screen == shown("device_error", device=device, problem=problem, check=check)
    assert [e.kind for e in rig.store.handovers.events()] == [HandoverKind.ACKNOWLEDGED]


def test_back_leaves_the_official_and_the_resident_without_a_record(rig: Rig) -> None:
    resident = clean_person(rig)
    give_batch(rig, card(resident, 1, signs=True))
    rig.bystanders.offer_finger = False  # the official is not there yet
    at_handover(rig)
    rig.choose(f"{VILLAGE} (1)")
    rig.press(OK)
    assert rig.state == "handover_official", rig.screen
    assert rig.screen[:3] == shown("handover_ack")
    rig.press(BACK)
    assert rig.state == "handover", rig.screen
    assert rig.screen[0] == prompt("handover_batches")[0]  # no card of it without the official
    rig.bystanders.offer_finger = True
    rig.press(OK)  # the official came
    rig.press(OK)
    rig.choose(resident.name)
    rig.press(OK)
    assert rig.state == "handover_resident", rig.screen
    assert rig.screen == shown("handover_signed")
    rig.press(BACK)  # the officer doubts the signature: the card stays with the official
    assert rig.state == "handover", rig.screen
    assert [e.kind for e in rig.store.handovers.events()] == [HandoverKind.ACKNOWLEDGED]


def test_a_batch_the_official_took_at_the_office_is_not_asked_for_again(rig: Rig) -> None:
    resident = clean_person(rig)
    batch = give_batch(rig, card(resident, 1))
    rig.store.handovers.keep(replace(batch, acknowledged="KDS-001"))  # taken at the office
    rig.bystanders.offer_finger = False  # no official at the kit
    at_handover(rig)
    rig.choose(f"{VILLAGE} (1)")
    rig.press(OK)
    assert rig.screen[:2] == shown("handover_cards", village=VILLAGE, left=1)[:2]
    rig.bystanders.offer_finger = True
    rig.choose(resident.name)
    rig.press(OK)
    assert rig.screen == shown("handover_given", name=resident.name)
    assert [e.kind for e in rig.store.handovers.events()] == [HandoverKind.RECEIVED]


def _at_official(rig: Rig) -> None:
    give_batch(rig, card(clean_person(rig), 1))
    rig.bystanders.offer_finger = False
    at_handover(rig)
    rig.choose(f"{VILLAGE} (1)")
    rig.press(OK)


def _at_resident(rig: Rig) -> None:
    resident = clean_person(rig)
    give_batch(rig, card(resident, 1, signs=True))
    at_resident(rig, resident)  # they signed: the officer has yet to hand the card


TO_HANDOVER_STATE = {
    "handover": at_handover,
    "handover_official": _at_official,
    "handover_resident": _at_resident,
}


@pytest.mark.parametrize("state", sorted(TO_HANDOVER_STATE))
def test_the_idle_lock_ends_a_handover(rig: Rig, state: str) -> None:
    TO_HANDOVER_STATE[state](rig)
    assert rig.state == state, rig.screen
    rig.bystanders.offer_finger = False
    rig.tick(rig.store.policy.idle_lock_seconds)
    assert rig.state == "locked", rig.screen
    assert rig.audit("idle-lock")[-1]["state"] == state
    assert rig.controller.session.handover_batch is None  # names and templates left memory


@pytest.mark.parametrize("state", sorted(TO_HANDOVER_STATE))
def test_a_critical_battery_switches_off_from_a_handover(rig: Rig, state: str) -> None:
    TO_HANDOVER_STATE[state](rig)
    assert rig.state == state, rig.screen
    rig.world.battery.set_percent(4)
    rig.tick(31)
    assert rig.state == "safe_shutdown", rig.screen
