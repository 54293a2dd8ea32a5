"""A whole scripted outreach session through the event loop, on the simulated kit."""

from __future__ import annotations

from pathlib import Path

import pytest

from hw_sim import prints
from simulator.demo import OfficerBot, _returning_and_newcomer, run_demo, run_session
from simulator.kit import open_sim_kit
from simulator.options import DOUBLES, SimOptions, SimParts
from simulator.tray import PRINTED_DIR
from storage.keys import AuthorityPublic
from storage.verify import verify_folder


def session(
    data_dir: Path, people: int, *, seed: int = 1, cases: bool = False
) -> tuple[list, list[str], object]:
    notes: list[str] = []
    with open_sim_kit(
        SimOptions(data_dir, seed=seed, clock_speed=0.0, parts=DOUBLES, cases=cases)
    ) as sim:
        outcomes = run_session(
            sim.kit,
            sim.world,
            sim.bystanders,
            people=people,
            report=lambda o: None,
            note=notes.append,
        )
        audit = sim.kit.store.audit.entries()
        status = sim.kit.store.status()
    return outcomes, notes, (audit, status)


def test_a_session_seals_every_person_and_the_records_verify(tmp_path: Path) -> None:
    outcomes, notes, (audit, status) = session(tmp_path, 8)

    assert [o.seq for o in outcomes] == list(range(1, 9))
    assert status.sealed == 8 and status.last_seq == 8 and not status.journal_open
    report = verify_folder(tmp_path / "records", AuthorityPublic.load(tmp_path / "demo-authority"))
    assert report.ok, report.problems
    assert (report.count, report.first, report.last, report.gaps) == (8, 1, 8, [])

    kinds = [kind for _, _, kind, _ in audit]
    # one enrolment is cancelled and redone; a returning person is caught and dropped
    assert kinds.count("cancel") == 2
    duplicate = next(detail for _, _, kind, detail in audit if kind == "duplicate")
    returning = next(o for o in outcomes if o.seq == duplicate["seq"])
    assert duplicate["nik"] not in {o.nik for o in outcomes}, "caught posing as someone new"
    assert any(f"#{returning.seq} OK" in n and "Sudah direkam sebagai" in n for n in notes)
    assert kinds.count("officer-finger") == 1, "the officer's own finger is refused"
    assert any("JARI PETUGAS" in n for n in notes)
    assert status.library_used > 0 and status.library_capacity > status.library_used
    assert any(kind == "login" and detail["how"] == "pin" for _, _, kind, detail in audit)
    assert sum(o.name.startswith("(walk-in)") for o in outcomes) == 1
    assert any(o.exceptions != "-" for o in outcomes), "a hurt finger was recorded as an exception"
    walk_in = next(o for o in outcomes if o.name.startswith("(walk-in)"))
    assert walk_in.printed == "slip", "a walk-in's card waits for verification: a slip instead"
    assert {o.printed for o in outcomes if o is not walk_in} == {"card"}
    assert status.cards["printed"] == 7 and status.cards["stock"] == status.cards["loaded"] - 7
    assert any("cancelled" in n for n in notes)


def test_running_again_continues_the_same_kit(tmp_path: Path) -> None:
    first, _, _ = session(tmp_path, 3)
    second, _, (_, status) = session(tmp_path, 3)

    assert [o.seq for o in second] == [4, 5, 6]
    assert {o.nik for o in first}.isdisjoint({o.nik for o in second}), "nobody is recorded twice"
    assert status.sealed == 6


@pytest.mark.parametrize("wired", [False, True], ids=["doubles", "wired"])
def test_a_restarted_simulator_s_sensor_kept_its_library(tmp_path: Path, wired: bool) -> None:
    """A real sensor keeps its library in flash; the simulated one is rebuilt from the page
    map, so the self-test finds nothing lost and someone enrolled before is still caught
    (on the emulator behind the real driver too)."""
    first, _, _ = session(tmp_path, 3)
    with open_sim_kit(
        SimOptions(tmp_path, clock_speed=0.0, parts=SimParts(doubles=not wired))
    ) as sim:
        store = sim.kit.store
        sim.bystanders.offer_finger = True
        bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
        bot.settle()  # the self-test, with the library checked against the page map
        bot.login(by_pin=False)
        returning, posing_as = _returning_and_newcomer(sim.kit, sim.world, first)
        assert returning is not None and posing_as is not None
        shown = bot.caught(returning, posing_as)
        held = sim.kit.devices.fingerprint.held_pages()
        officers = {page for o in store.officers.values() for page in o.finger_pages}
        kinds = [kind for _, _, kind, _ in store.audit.entries()]
        pages = store.sensor_pages()
    assert "Sudah direkam sebagai" in shown[0], shown
    assert pages and held == set(pages) | officers
    assert "library-reconciled" not in kinds and kinds.count("self-test") == 2


def test_a_second_run_with_another_seed_still_enrols_the_kits_own_worklist(tmp_path: Path) -> None:
    session(tmp_path, 2, seed=1)
    outcomes, _, (_, status) = session(tmp_path, 2, seed=2)
    assert [o.seq for o in outcomes] == [3, 4] and status.sealed == 4


def test_the_demo_day_has_every_rules_case_with_its_kind_and_purpose(tmp_path: Path) -> None:
    outcomes, notes, (audit, status) = session(tmp_path, 12, cases=True)

    assert any("village official" in n for n in notes)
    by_kind = [(o.kind, o.purpose, o.fingers, o.printed) for o in outcomes]
    assert ("KIA", "BARU", "0/0", "card") in by_kind, "a child of 10: a KIA with a photo"
    assert by_kind.count(("KIA", "BARU", "0/0", "card")) == 2, "and a child of 3, no photo"
    assert ("E-KTP", "HILANG", "10/10", "slip") in by_kind, "a lost card: the office prints"
    assert any(o.purpose.startswith("BARU kartu") and o.printed == "slip" for o in outcomes)
    domicile = [o for o in outcomes if o.kind == "E-KTP (domisili)"]
    assert [(o.nik[:4], o.printed) for o in domicile] == [("1671", "slip")]
    assert any("ttd" in o.exceptions for o in outcomes), "one who cannot sign"
    kinds = [kind for _, _, kind, _ in audit]
    assert {"official-in", "corrected", "signature-exception", "domicile"} <= set(kinds)
    report = verify_folder(tmp_path / "records", AuthorityPublic.load(tmp_path / "demo-authority"))
    assert report.ok and report.count == 12
    assert status.sealed == 12


def test_a_day_longer_than_the_sensor_library_still_catches_the_returning_person(
    tmp_path: Path,
) -> None:
    """Twenty people fill the 197 pages left beside the officers' (ten fingers each), so
    the earliest rotate out; the one who comes back is someone still on the sensor."""
    outcomes, notes, (audit, status) = session(tmp_path, 22)

    assert sum(o.fingers_taken for o in outcomes) > status.library_capacity, "it rotated"
    assert status.library_used <= status.library_capacity
    duplicate = next(detail for _, _, kind, detail in audit if kind == "duplicate")
    assert duplicate["seq"] > outcomes[0].seq, "the earliest were rotated out of the library"
    assert any("Sudah direkam sebagai" in n for n in notes)


def test_a_demo_on_the_emulators_saves_every_print_though_the_printers_keep_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The printers forget all but their latest prints (the kit's memory), so the demo
    saves what they printed after each person: every card reaches ``printed/``."""
    monkeypatch.setattr(prints, "KEPT_PRINTS", 1)
    day = run_demo(
        SimOptions(tmp_path, parts=SimParts(fast=True)),
        people=3,
        report=lambda outcome: None,
        note=lambda line: None,
    )
    cards = sorted(path.name for path in (tmp_path / PRINTED_DIR).glob("card-*.png"))
    printed = day.status.cards["printed"]
    assert printed == sum(o.printed == "card" for o in day.outcomes) > prints.KEPT_PRINTS
    assert cards == [f"card-{number:04d}.png" for number in range(1, printed + 1)]
