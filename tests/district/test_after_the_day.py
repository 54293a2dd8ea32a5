"""After the day, on the simulator: three kits and one office.

The field day's three kits (`conftest.field_day`, collected onto two laptops) recorded;
on a copy of kit 1, the next morning brings five residents of two villages who lost their
cards, whose cards the office prints.  The district registers its batch of blank cards and
hands each kit and the office its range; the office desk prints every card waiting for it
on the office's card printer (the emulator, through the real driver), batches two villages,
writes the handover document, and hands the batches over: one village's official takes
theirs at the office, with a card missing from it; the other's on the kit.  Residents take
their cards on the kit, confirmed 1:1 by finger, one by signature (their fingers were
excepted), and one finger that is not the resident's is refused.  The district report then
shows every stage per village, every serial of the batch is accounted for, and every
finding is named with what to do.
"""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from capture.machine import CaptureState as KitState
from capture.menu_steps import AdminItem
from firmware.port import KitPort
from hal.types import Button
from hw_sim.card_printer_emulator import CardPrinterEmulator
from hw_sim.fingerprints import template_of
from hw_sim.provisioning_port import PtyPort
from hw_sim.world import Person
from kitlink.framing import FramedPort
from office.desk import OfficeDesk
from provisioning import collect as collecting
from provisioning.cli import app
from provisioning.collector import CollectorDB
from provisioning.district.card_states import CardState
from provisioning.district.store import DistrictStore
from provisioning.office_log import CardRef, OfficeDB
from simulator.demo import OfficerBot
from simulator.kit import open_sim_kit, resident_of
from simulator.options import Provisioning, SimOptions, SimParts
from storage.certificate import verify_certificate
from storage.keys import Authority
from storage.kit import KitStore
from storage.model import Enrolment, FingerRecord
from tests.district.conftest import BATCH, KITS, FieldDay
from vocabulary.fingers import TEN_FINGERS
from vocabulary.purpose import Purpose

#: The field day's three kits are made once per session, by whichever test asks first.
pytestmark = pytest.mark.timeout(600)

OFFICE = "DUKCAPIL-3505"
SUPERVISOR = "SPV-001"


def run(*args: object, stdin: str | None = None) -> str:
    done = CliRunner().invoke(app, [str(arg) for arg in args], input=stdin)
    assert done.exit_code == 0, done.output
    return done.output


def refused(*args: object) -> str:
    """What the command said when it refused (exit 1: the desk cannot do it)."""
    done = CliRunner().invoke(app, [str(arg) for arg in args])
    assert done.exit_code == 1, done.output
    return " ".join(done.output.split())


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 400), (196, 170, 150)).save(out, "JPEG")
    return out.getvalue()


def lost_card(person: Person, now: datetime, *, excepted: bool) -> Enrolment:
    """A resident who lost their card records again: the office prints the new one."""
    fingers = tuple(
        FingerRecord(pos, exception="missing", approved_by=SUPERVISOR)
        if excepted
        else FingerRecord(pos, b"\x89PNG", template_of(person.seed, pos), quality=80)
        for pos in TEN_FINGERS
    )
    return Enrolment(
        resident=replace(resident_of(person), purpose=Purpose.HILANG),
        officer_id="PTG-001",
        started_at=now,
        face_jpeg=photo(),
        fingers=fingers,
        purpose=Purpose.HILANG,
        approvals=(SUPERVISOR,) if excepted else (),
    )


def newcomers(store: KitStore, people: list[Person]) -> tuple[list[Person], list[Person]]:
    """Two villages' residents not recorded yesterday, whose fingers and signature the
    kit reads: two of one, three of another."""
    recorded = store.recorded_refs()
    by_village: dict[str, list[Person]] = {}
    for person in people:
        if person.nik not in recorded and not person.fingers and person.signature:
            by_village.setdefault(person.village, []).append(person)
    ample = sorted((v for v in by_village.values() if len(v) >= 3), key=lambda v: v[0].village)
    return ample[0][:2], ample[1][:3]


def waiting_cards(url: str, office_file: Path, authority: Authority) -> int:
    """How many cards wait for the office, as its desk sees them."""
    with DistrictStore.open(url) as district, OfficeDB.open(office_file) as office:
        desk = OfficeDesk(district, office, authority, where="district")
        with desk.survey() as survey:
            return len(survey.in_state(CardState.WAITING))


def office_serials(url: str, office_file: Path, authority: Authority) -> Iterator[str]:
    """The office's blank cards its ledger has not used, as its desk sees them."""
    with DistrictStore.open(url) as district, OfficeDB.open(office_file) as office:
        desk = OfficeDesk(district, office, authority, where="district")
        with desk.survey() as survey:
            yield from list(desk.next_serials(survey))


def collect(port: PtyPort, authority: Authority, laptop: Path) -> None:
    with FramedPort(port=port.port) as link, CollectorDB(laptop) as db:
        collecting.collect(link, authority, db)


def hand_over(bot: OfficerBot, village: str, residents: list[Person]) -> None:
    """At the kit: the batch of ``village`` (its official gives their finger, unless they
    took it at the office), then each of ``residents`` comes for their card."""
    bot.admin(AdminItem.HANDOVER)
    bot.driver.choose(lambda c: c.label.startswith(village), what=village)
    if bot.screen.opens_with("handover_acked"):
        bot.press(Button.OK)  # the notice read
    for person in residents:
        bot.driver.choose(lambda c, name=person.name: c.label == name, what=person.name)
        if bot.screen.state is KitState.HANDOVER_RESIDENT:  # they signed on the pad
            bot.press(Button.OK)
        bot.press(Button.OK)  # the notice read
    bot.press(Button.BACK)  # out of the batch
    bot.press(Button.BACK)  # out of the batches
    assert bot.screen.state is KitState.READY, bot.screen


def test_after_the_day_every_card_and_every_serial_is_followed(
    field_day: FieldDay, store_url: str, tmp_path: Path
) -> None:
    day, authority = field_day, field_day.authority
    folder = tmp_path / "KIT-3505-01"
    shutil.copytree(day.folder / "KIT-3505-01", folder)
    laptops = {name: tmp_path / path.name for name, path in day.laptops.items()}
    for name, path in day.laptops.items():
        shutil.copy(path, laptops[name])
    office_file = tmp_path / "office.db"
    auth = ("--authority", day.folder / "authority")
    desk_args = ("--db", store_url, "--office", office_file, *auth)
    options = SimOptions(
        folder,
        seed=1,
        clock_speed=0.0,
        provisioning=Provisioning.UNFLASHED,
        parts=SimParts(doubles=True, time_scale=0.0),
    )
    with (
        open_sim_kit(options) as sim,
        PtyPort(KitPort(folder, sim.host)) as port,
        CardPrinterEmulator(hopper=40, out_dir=tmp_path / "printed") as printer,
    ):
        store = sim.host.store
        assert store is not None
        # later that day: after everything the field day's kits signed (their clocks were
        # stepped a few minutes per person), before the battery runs down
        sim.host.set_clock(datetime.now(UTC) + timedelta(hours=2))
        village_a, village_b = newcomers(store, sim.world.residents)
        now = sim.world.clock.now()
        sealed = {
            person.nik: store.seal(lost_card(person, now, excepted=person is village_a[1])).seq
            for person in village_a + village_b
        }
        chain = verify_certificate((folder / "records" / "kit.cert").read_bytes(), authority.public)
        collect(port, authority, laptops["laptop-a"])

        # the district: both laptops, the worklists, and the blank cards by serial
        run("district", "init", store_url)
        for name, path in laptops.items():
            worklists = [arg for w in day.worklists for arg in ("--worklist", w)]
            run("sync", "--db", path, "--to", store_url, *auth, "--source", name, *worklists)
        run("district", "cards", "register", store_url, *auth, "--range", f"{BATCH}:1-100",
            "--regency", "3505")  # fmt: skip
        for kit_id, serials, _ in KITS:
            run("district", "cards", "assign", store_url, *auth, "--to", kit_id,
                "--regency", "3505", "--range", serials.text)  # fmt: skip
        run("district", "cards", "assign", store_url, *auth, "--to", OFFICE, "--regency",
            "3505", "--count", 27)  # fmt: skip
        run("district", "cards", "return", store_url, *auth, "--from", "KIT-3505-01",
            "--regency", "3505", "--range", f"{BATCH}:18-20")  # fmt: skip

        # the office desk prints every card waiting for it, and batches two villages
        run("office", "init", office_file, "--office", OFFICE, "--regency", "3505")
        listed = run("office", "list", *desk_args)
        waiting = waiting_cards(store_url, office_file, authority)
        assert waiting >= len(sealed), listed
        run("office", "print", *desk_args, "--printer", printer.port)
        assert printer.cards_printed == waiting
        # a scratched blank: the office spoils one of its own serials, once; never a kit's
        spare = next(office_serials(store_url, office_file, authority))
        run("office", "spoil", *desk_args, "--serial", spare, "--reason", "kartu tergores")
        again = refused("office", "spoil", *desk_args, "--serial", spare, "--reason", "x")
        assert f"nomor seri {spare} sudah tercatat rusak" in again
        kit_id, serials, _ = KITS[1]
        theirs = refused("office", "spoil", *desk_args, "--serial",
                         serials.serial(serials.first), "--reason", "x")  # fmt: skip
        assert f"bukan milik kantor {OFFICE}" in theirs and f"held by {kit_id}" in theirs
        assert "bukan nomor seri" in refused(
            "office", "spoil", *desk_args, "--serial", "B1-12", "--reason", "x"
        )
        name_a = run("office", "batch", *desk_args, "--village", village_a[0].village)
        name_b = run("office", "batch", *desk_args, "--village", village_b[0].village)
        batch_a, batch_b = (text.split()[1].rstrip(":") for text in (name_a, name_b))
        document = tmp_path / "berita-acara.html"
        run("office", "document", *desk_args, "--batch", batch_a, "--out", document)
        page = document.read_text(encoding="utf-8")
        assert "BERITA ACARA SERAH TERIMA" in page
        assert all(person.name in page for person in village_a)

        # village B's official takes their batch at the office: one card is not in it
        with OfficeDB.open(office_file) as office:
            batched = next(e for e in office.entries(authority.public) if e.batch == batch_b)
        lost = CardRef(chain.digest, sealed[village_b[2].nik])
        missing = next(card.serial for card in batched.cards if card.card == lost)
        run("office", "acknowledge", "--office", office_file, *auth, "--batch", batch_b,
            "--official", "KDS-001", "--officers", day.folder / "officers-1.csv",
            "--missing", missing, stdin="112233\n")  # fmt: skip
        for batch in (batch_a, batch_b):
            run("office", "send", port.port, *desk_args, "--batch", batch)

        # at the kit, its clock an hour fast and set right (its next ledger's time is earlier
        # than the last one's): village A's official by finger; residents by finger, one by
        # signature
        sim.host.set_clock(now - timedelta(hours=1))
        bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
        bot.settle()
        if bot.screen.state is KitState.SELF_TEST:
            bot.press(Button.OK)
        bot.login(by_pin=False)  # the officer's finger
        hand_over(bot, village_a[0].village, village_a)
        hand_over(bot, village_b[0].village, village_b[:1])
        sim.bystanders.stand_in = village_a[0]  # not village B's second resident
        hand_over(bot, village_b[0].village, village_b[1:2])
        sim.bystanders.stand_in = None
        collect(port, authority, laptops["laptop-a"])
    run("sync", "--db", laptops["laptop-a"], "--office", office_file, "--to", store_url, *auth)

    # a month later the office takes back what no resident came for
    with (
        DistrictStore.open(store_url) as district,
        OfficeDB.open(office_file) as office,
    ):
        later = OfficeDesk(
            district, office, authority, where="district", now=lambda: now + timedelta(days=31)
        )
        with later.survey() as survey:
            returned = later.return_unclaimed(survey)
    assert returned, "a card handed over and never taken comes back"
    run("sync", "--office", office_file, "--to", store_url, *auth)
    run("verify", "--db", store_url, *auth)

    figures = json.loads(run("district", "report", store_url, *auth, "--format", "json"))
    rows = {row["village"]: row for row in figures["pipeline"]}
    a, b = rows[village_a[0].village], rows[village_b[0].village]
    assert a["recorded"] >= 2 and a["printed"] >= 2 and a["handed"] >= 2 and a["received"] >= 2, a
    assert b["handed"] >= 2 and b["received"] >= 1, b
    assert b["oldest_waiting_days"] is not None  # the missing card, the refused one
    assert sum(row["recorded"] for row in figures["pipeline"]) == figures["records"]
    kinds = Counter(finding["kind"] for finding in figures["findings"])
    assert kinds == {"missing-from-batch": 1, "finger-not-matched": 1}, figures["findings"]
    assert all(finding["todo"] for finding in figures["findings"])
    (regency,) = figures["regency_cards"]
    assert regency["registered"] == 100 and regency["handed_out"] == 60
    assert (
        regency["printed"]
        == sum(kit["printed"] for kit in figures["cards"] if kit["kit_id"]) + waiting
    )
    holders = {row["holder"]: row for row in figures["blank_holders"]}
    for holder in holders.values():
        states = ("printed", "spoiled", "unknown", "held", "returned")
        assert holder["assigned"] == sum(holder[s] for s in states), holder
    assert holders["KIT-3505-01"]["returned"] == 3
    assert holders[OFFICE]["printed"] == waiting
    assert holders[OFFICE]["spoiled"] == 1
    reconciled = run("district", "cards", "reconcile", store_url, *auth)
    assert "all 100 serial(s) accounted for" in reconciled
    html = run("district", "report", store_url, *auth, "--format", "html")
    assert 'id="pipeline"' in html and 'id="regency_cards"' in html and 'id="findings"' in html
