"""A training kit: its certificate says so, what it prints is marked LATIHAN, what it seals
never counts as coverage, and every shipped scenario runs to its end on the timed wires."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from capture.card import TRAINING_RED
from capture.machine import CaptureState
from capture.print_plan import PrintOutcome
from firmware.port import KitPort
from hal.types import Button
from hw_sim.doubles import SimPrinter
from hw_sim.provisioning_port import PtyPort
from hw_sim.timing import TIMING_VARIABLE
from hw_sim.world import Person
from kitlink.framing import FramedPort
from provisioning import collect as collecting
from provisioning.cli import EXIT_PROBLEMS, app
from provisioning.collector import CollectorDB
from simulator.demo import OfficerBot, run_session
from simulator.kit import DEMO_AUTHORITY, NotATrainingKit, open_sim_kit
from simulator.options import DOUBLES, Provisioning, SimOptions
from simulator.web.scenario import Progress, load_scenario, shipped
from storage.certificate import (
    MalformedCertificate,
    certify_kit,
    issue_certificate,
    verify_certificate,
)
from storage.codec import dumps, loads
from storage.cose import parse_sign1, sign1
from storage.keys import Authority, KitKey
from storage.verify import TrainingKit

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_training_certificate_says_so_and_others_do_not(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    key = KitKey.create(tmp_path / "kit.key")
    now = NOW
    made = {
        training: certify_kit(
            authority,
            kit_id="LATIH-1",
            region="3505",
            kit_public=key.public_bytes,
            now=now,
            training=training,
        )
        for training in (False, True)
    }
    assert verify_certificate(made[True], authority.public).training
    assert not verify_certificate(made[False], authority.public).training
    assert "training" not in loads(parse_sign1(made[False]).payload), "others are as before"


def test_a_training_claim_that_is_not_true_is_refused(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    key = KitKey.create(tmp_path / "kit.key")
    now = NOW
    good = issue_certificate(
        authority,
        kit_id="LATIH-1",
        region="3505",
        kit_public=key.public_bytes,
        not_before=now,
        not_after=now.replace(year=2030),
        training=True,
    )
    claims = dict(loads(parse_sign1(good).payload))
    claims["training"] = False
    forged = sign1(
        dumps(claims),
        authority.signing_key,
        kid=authority.kid,
        content_type="application/jemput-kit-cert+cbor",
    )
    with pytest.raises(MalformedCertificate, match="only as true"):
        verify_certificate(forged, authority.public)


def test_what_a_training_kit_seals_is_never_collected(tmp_path: Path) -> None:
    kit_dir = tmp_path / "training"
    with open_sim_kit(
        SimOptions(
            kit_dir, seed=2, clock_speed=0.0, parts=DOUBLES, provisioning=Provisioning.TRAINING
        )
    ) as sim:
        assert sim.kit.store.training and sim.kit.store.kit_id.startswith("LATIH")
        outcomes = run_session(
            sim.kit, sim.world, sim.bystanders, people=2, report=lambda _: None, note=print
        )
        assert len(outcomes) == 2
        cards = sim.kit.controller.devices.card_printer
        assert isinstance(cards, SimPrinter) and cards.printed, "the session printed a card"
        for card in cards.printed:  # the card printer's and the kit's own: marked LATIHAN
            assert card.getpixel((4, 4)) == TRAINING_RED
        authority = Authority.load(kit_dir / DEMO_AUTHORITY)
        db_path = tmp_path / "collector.db"
        with (
            PtyPort(KitPort(kit_dir, sim.host)) as pty,
            FramedPort(port=pty.port) as port,
            CollectorDB(db_path) as db,
        ):
            with pytest.raises(TrainingKit, match=r"training kit .* never count"):
                collecting.collect(port, authority, db)
            assert db.chains() == [], "nothing of it is kept"
        assert sim.kit.store.status().uncollected == 2, "and no receipt reached the kit"
        with PtyPort(KitPort(kit_dir, sim.host)) as pty:
            said = CliRunner().invoke(
                app,
                [
                    "collect",
                    pty.port,
                    "--authority",
                    str(kit_dir / DEMO_AUTHORITY),
                    "--db",
                    str(db_path),
                ],
            )
    assert said.exit_code == EXIT_PROBLEMS, said.output
    assert "training kit" in said.output and "Traceback" not in said.output


def test_training_is_refused_on_a_kit_whose_records_count(tmp_path: Path) -> None:
    with open_sim_kit(SimOptions(tmp_path / "kit", seed=2, clock_speed=0.0, parts=DOUBLES)):
        pass  # a demo kit, whose records count
    with (
        pytest.raises(NotATrainingKit, match="fresh data folder"),
        open_sim_kit(
            SimOptions(
                tmp_path / "kit",
                seed=2,
                clock_speed=0.0,
                parts=DOUBLES,
                provisioning=Provisioning.TRAINING,
            )
        ),
    ):
        pass


@dataclass
class Day:
    """What a scenario run left: how it went, and the kit's paper and count."""

    finished: bool
    cleared: set[int]  # the faults repaired
    printed: list[PrintOutcome]
    cards: int
    slips: list[Image.Image]
    stock: tuple[int, int]  # the ledger's before and after
    states_at_faults: list[CaptureState]


def run_scenario(name: str, folder: Path) -> Day:
    """A trainee at the buttons (the demo's officer bot) through scenario ``name`` on a
    training kit; the scenario ticks between every step of the kit's loop, as the page's
    ticker does.  The trainee does what the lessons teach: when a part the scenario broke
    will be repaired, they wait for it, then retry; they never cancel."""
    options = SimOptions(folder, seed=3, clock_speed=0.0, provisioning=Provisioning.TRAINING)
    with open_sim_kit(options) as sim:
        assert sim.wired is not None
        wired, kit, ctl = sim.wired, sim.kit, sim.kit.controller
        progress = Progress(load_scenario(name, sim.world))
        states: list[CaptureState] = []

        def tick() -> None:
            for note in progress.tick(now=time.monotonic(), controller=ctl, wired=wired):
                if note.key == "scenario.fault":
                    states.append(ctl.state)

        def repair_coming() -> bool:
            return any(
                fault.clear_after is not None and index in progress.fired
                for index, fault in enumerate(progress.scenario.faults)
                if index not in progress.cleared
            )

        bot = OfficerBot(kit, sim.world, sim.bystanders, safe_point=tick)
        stock = kit.store.ledger.stock()
        bot.settle()
        bot.login(by_pin=False)
        printed = []
        for person in progress.scenario.arrivals:

            def act(person: Person = person) -> None:
                while repair_coming():
                    kit.loop.step(timeout=0.1)
                    tick()
                bot.act(person)

            bot.select_resident(person)
            bot.press(Button.OK)  # the right person
            bot.until(lambda: ctl.state is CaptureState.DONE, act)
            printed.append(bot.outcome(person).printed)
        return Day(
            progress.finished,
            progress.cleared,
            printed,
            wired.card_printer.cards_printed,
            list(wired.receipt_printer.printed),
            (stock, kit.store.ledger.stock()),
            states,
        )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_shipped_scenario_runs_to_its_end_on_the_timed_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wires at their real rates (a person takes about a minute, most of it the
    fingerprint images at 57600 baud), the three scenarios at once, each kit its own
    program as on three tables: their time is the wires', not the processor's.  Each lesson
    happens as its instructions say."""
    monkeypatch.setenv(TIMING_VARIABLE, "real")  # inherited by the kits' processes
    names = sorted(shipped())
    assert names == ["hari-pertama", "kabel-sensor", "kartu-habis"]
    spawn = multiprocessing.get_context("spawn")  # fresh programs, no threads forked
    with ProcessPoolExecutor(len(names), mp_context=spawn) as tables:
        runs = {name: tables.submit(run_scenario, name, tmp_path / name) for name in names}
        days = {name: run.result() for name, run in runs.items()}
    for name, day in days.items():
        assert day.finished, name

    first = days["hari-pertama"]  # nothing breaks: three cards
    assert first.printed == [PrintOutcome.CARD] * 3 and first.cards == 3
    assert first.stock[1] == first.stock[0] - 3

    cable = days["kabel-sensor"]  # unplugged at the resident's fingers, plugged back, recorded
    assert cable.states_at_faults == [CaptureState.FINGERS]
    assert cable.cleared == {0} and cable.printed == [PrintOutcome.CARD]

    empty = days["kartu-habis"]  # one card, then a LATIHAN slip, and the ledger counts one card
    assert empty.cards == 1 and empty.stock[1] == empty.stock[0] - 1
    assert empty.printed == [PrintOutcome.CARD, PrintOutcome.SLIP], "the slip printed"
    (slip,) = empty.slips
    assert slip.convert("L").crop((0, 0, slip.width, 4)).getextrema() == (0, 0), "LATIHAN band"
