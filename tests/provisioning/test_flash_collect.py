"""Flash a simulated kit over a pty, enrol on it, collect: through the tool's real code paths.

The kit's responder runs on the PtyLink's thread at one end; the tool opens the other end
with pyserial, as it opens /dev/ttyACM0.  Nothing on either side is mocked.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import serial
from typer.testing import CliRunner

from firmware.port import KitPort
from hw_sim.link import PtyLink
from hw_sim.provisioning_port import PtyPort
from kitlink import framing
from kitlink import messages as m
from kitlink import protocol as p
from kitlink.framing import FrameDecoder, FramedPort, LinkClosed, encode_frame
from kitlink.protocol import Op, Refusal
from provisioning import collect as collecting
from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR, app
from provisioning.client import KitClient
from provisioning.collector import CollectorDB
from provisioning.collector_audit import audit_database
from provisioning.report import build_report
from storage.audit import AuditKind
from storage.certificate import certify_kit
from storage.keys import Authority
from storage.model import Policy
from storage.provision import KitSetup
from storage.signed_profile import sign_profile
from storage.worklist import load_worklist
from tests.provisioning.kit_bench import PEOPLE, Bench, enrol, flash_cli


def test_flash_enrol_collect_report_through_the_cli(bench: Bench) -> None:
    flashed = flash_cli(bench)
    assert flashed.exit_code == EXIT_OK, flashed.output
    assert "flashed kit KIT-3505-07" in flashed.output
    store = bench.host.store
    assert store is not None and store.kit_id == "KIT-3505-07" and not store.profile.demo
    assert store.policy.print_on_site and store.policy.finger_retries == 2
    assert len(store.worklist) == 60 and set(store.officers) == {
        "PTG-001",
        "SPV-001",
        "KDS-001",
    }  # and the official
    assert store.ledger.stock() == 20

    outcomes = enrol(bench)
    db = bench.tmp / "collector.db"
    collected = CliRunner().invoke(app, ["collect", bench.pty.port, *bench.args, "--db", str(db)])
    assert collected.exit_code == EXIT_OK, collected.output
    assert f"{PEOPLE} new record(s)" in collected.output
    assert bench.host.store.status().uncollected == 0, "the receipt reached the kit"

    again = CliRunner().invoke(app, ["collect", bench.pty.port, *bench.args, "--db", str(db)])
    assert again.exit_code == EXIT_OK and "0 new record(s)" in again.output

    verified = CliRunner().invoke(app, ["verify", str(db), *bench.args])
    assert verified.exit_code == EXIT_OK, verified.output
    assert f"all {PEOPLE} record(s) of 1 kit(s) verify" in verified.output

    with CollectorDB(db) as collector:
        audit = audit_database(collector, bench.authority.public).require_ok()
    rows = {
        row.name: row
        for row in build_report(
            audit, load_worklist(bench.tmp / "worklist.csv"), bench.authority.references
        )
    }
    overall, kit = rows["(overall)"], rows["KIT-3505-07"]
    walk_ins = sum(o.name.startswith("(walk-in)") for o in outcomes)
    cards = sum(o.printed == "card" for o in outcomes)
    hurt = sum(o.exceptions != "-" for o in outcomes)
    assert (kit.recorded, kit.walk_ins, kit.printed, kit.excepted) == (
        PEOPLE - walk_ins,
        walk_ins,
        cards,
        hurt,
    )
    assert (overall.registered, overall.recorded) == (60, PEOPLE - walk_ins)
    assert overall.missing == 60 - (PEOPLE - walk_ins)
    assert overall.share_recorded == round(100 * (PEOPLE - walk_ins) / 60, 1)

    report = CliRunner().invoke(app, ["report", "--db", str(db), *bench.args, "--format", "csv"])
    assert (
        report.exit_code == EXIT_OK
        and f"kit,KIT-3505-07,,{PEOPLE - walk_ins},{walk_ins}," in report.output
    )

    exported = CliRunner().invoke(app, ["export", "--db", str(db), "--out", str(bench.tmp / "out")])
    assert exported.exit_code == EXIT_OK, exported.output
    folders = [f for f in (bench.tmp / "out").iterdir() if f.is_dir()]
    assert len(list(folders[0].glob("*.cose"))) == PEOPLE
    check = CliRunner().invoke(app, ["verify", str(folders[0]), *bench.args])
    assert check.exit_code == EXIT_OK, check.output


def test_a_cut_cable_mid_collect_then_a_second_collect_completes_once(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, 5)
    seen: list[int] = []

    def cut_after_two(state: collecting.Progress) -> None:
        seen.append(state.done)
        if state.done == 2:
            bench.pty.close()  # the cable is pulled

    with CollectorDB(bench.tmp / "c.db") as db:
        with FramedPort(port=bench.pty.port) as link, pytest.raises(LinkClosed):
            collecting.collect(link, bench.authority, db, progress=cut_after_two)
        assert db.have(db.chains()[0]) == 2, "what arrived before the cut is kept"
        assert bench.host.store.status().uncollected == 5, "no receipt: nothing freed"
        bench.replug()
        with FramedPort(port=bench.pty.port) as link:
            done = collecting.collect(link, bench.authority, db)
        assert (done.new, done.held, done.head_seq) == (3, 5, 5)
        audit = audit_database(db, bench.authority.public)
        assert audit.ok, audit.problems
        assert [r.seq for r in audit.records] == [1, 2, 3, 4, 5]
    assert bench.host.store.status().uncollected == 0
    kinds = [kind for _, _, kind, _ in bench.host.store.audit.entries()]
    assert kinds.count(AuditKind.COLLECTION) == 1, "the receipt kept is audited once"


class KitOfRelease:
    """The kit's own responder behind a ``get`` limit of ``longest`` bytes, as a release
    before `m.GET_MAX` had (`m.CHUNK`): a longer get is refused as malformed, as that
    release's reader refused it; the length of every get asked is kept."""

    def __init__(self, kit_port: KitPort, *, longest: int) -> None:
        self.kit_port = kit_port
        self.longest = longest
        self.decoder = FrameDecoder()
        self.gets: list[int] = []

    def feed(self, data: bytes) -> bytes:
        return b"".join(encode_frame(self.answer(request)) for request in self.decoder.feed(data))

    def answer(self, payload: bytes) -> bytes:
        request = p.parse_request(payload)
        if request.op is Op.GET:
            self.gets.append(length := p.claimed_args(request)["length"])
            if length > self.longest:
                return p.refusal(
                    request.request_id,
                    Refusal.BAD_REQUEST,
                    f"get: the request is malformed: field 'length' must be 1..{self.longest}",
                )
        return self.kit_port.handle(payload)


@pytest.mark.parametrize("longest", [m.GET_MAX, m.CHUNK], ids=["this release", "earlier"])
def test_records_come_in_the_longest_pieces_the_kit_serves(bench: Bench, longest: int) -> None:
    """A kit of this release is asked GET_MAX bytes a piece; one of a release that served
    CHUNK refuses the first such get, and is then asked CHUNK at a time."""
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, 2)
    kit = KitOfRelease(bench.kit_port, longest=longest)
    with (
        PtyPort(kit) as cable,
        FramedPort(port=cable.port) as link,
        CollectorDB(bench.tmp / "c.db") as db,
    ):
        done = collecting.collect(link, bench.authority, db)
        assert (done.new, done.held, done.receipted) == (2, 2, True)
        assert audit_database(db, bench.authority.public).ok
        sizes = [len(data) for _, data in db.record_bytes(db.chains()[0])]
    assert min(sizes) > m.CHUNK, "records of several pieces"
    refused = [m.GET_MAX] if longest < m.GET_MAX else []
    pieces = sum(-(-size // longest) for size in sizes)
    assert kit.gets == refused + [longest] * pieces
    assert bench.host.store.status().uncollected == 0


def copy_card(bench: Bench, to: Path) -> Path:
    """The kit's records folder as a technician copies it from the card of a dead kit."""
    store = bench.host.store
    assert store is not None
    shutil.copytree(store.records_dir, to)
    return to


def test_a_card_import_lands_in_the_collector_db_and_verifies(bench: Bench) -> None:
    """A kit whose TPM died answers no port: its card's records folder is collected instead,
    checked as from the port, and the port later finds nothing new."""
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, 4)
    card = copy_card(bench, bench.tmp / "card" / "records")
    db = bench.tmp / "collector.db"
    imported = CliRunner().invoke(
        app, ["collect", "--from-card", str(card.parent), *bench.args, "--db", str(db)]
    )
    assert imported.exit_code == EXIT_OK, imported.output
    assert "4 new record(s) from the card folder" in imported.output
    assert "no receipt sent" in imported.output
    verified = CliRunner().invoke(app, ["verify", str(db), *bench.args])
    assert verified.exit_code == EXIT_OK, verified.output
    assert "all 4 record(s) of 1 kit(s) verify" in verified.output
    assert bench.host.store.status().uncollected == 4, "the kit got no receipt"
    again = CliRunner().invoke(app, ["collect", bench.pty.port, *bench.args, "--db", str(db)])
    assert again.exit_code == EXIT_OK and "0 new record(s)" in again.output
    assert bench.host.store.status().uncollected == 0, "the port's collection receipts them"


def test_a_tampered_file_in_a_card_folder_is_named_and_not_stored(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, 3)
    card = copy_card(bench, bench.tmp / "card")
    victim = card / "00000002.cose"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    db = bench.tmp / "collector.db"
    refused = CliRunner().invoke(
        app, ["collect", "--from-card", str(card), *bench.args, "--db", str(db)]
    )
    assert refused.exit_code == EXIT_PROBLEMS, refused.output
    assert "00000002.cose: " in refused.output
    assert "1 new record(s) before it were stored, none from record 2 on" in refused.output
    with CollectorDB(db) as collector:
        assert [seq for seq, _ in collector.record_bytes(collector.chains()[0])] == [1]
        assert audit_database(collector, bench.authority.public).ok


def test_collect_wants_a_port_or_a_card_not_both(bench: Bench, tmp_path: Path) -> None:
    for where in ([], [bench.pty.port, "--from-card", str(tmp_path)]):
        answered = CliRunner().invoke(
            app, ["collect", *where, *bench.args, "--db", str(tmp_path / "c.db")]
        )
        assert answered.exit_code == EXIT_USER_ERROR, answered.output
        assert "give the kit's PORT, or --from-card DIR" in answered.output
    empty = CliRunner().invoke(
        app, ["collect", "--from-card", str(tmp_path), *bench.args, "--db", str(tmp_path / "c.db")]
    )
    assert empty.exit_code == EXIT_USER_ERROR and "has no kit.cert" in empty.output


def test_reflash_with_uncollected_records_is_refused_and_changes_nothing(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    enrol(bench, 2)
    key_before = (bench.tmp / "kit" / "kit" / "kit.key").read_bytes()

    refused = flash_cli(bench)
    assert refused.exit_code == EXIT_PROBLEMS
    assert "2 record(s) no collector has receipted" in refused.output
    # a tool that skips its own check still meets the kit's refusal
    with FramedPort(port=bench.pty.port) as link:
        client = KitClient(link, bench.authority)
        client.hello()
        with pytest.raises(p.Refused) as refusal:
            client.keygen()
    assert refusal.value.code == Refusal.UNCOLLECTED
    assert (bench.tmp / "kit" / "kit" / "kit.key").read_bytes() == key_before
    assert bench.host.store.last_seq == 2

    with FramedPort(port=bench.pty.port) as link, CollectorDB(bench.tmp / "c.db") as db:
        collecting.collect(link, bench.authority, db)
    again = flash_cli(bench)
    assert again.exit_code == EXIT_OK, again.output
    assert bench.host.store.last_seq == 0, "a new chain starts"
    retired = list((bench.tmp / "kit" / "retired").iterdir())
    assert len(list((retired[0] / "records").glob("*.cose"))) == 2, "old records kept aside"


def test_a_flash_without_a_reference_key_is_refused_and_flashes_nothing(bench: Bench) -> None:
    """A tool from before keyed references sends none: the kit would have nothing to key
    its headers with, so it refuses rather than writing NIKs into them."""
    setup = KitSetup("KIT-3505-07", "3505", (), (), Policy())
    public_keys = bench.authority.public.to_cbor()
    with FramedPort(port=bench.pty.port) as link:
        client = KitClient(link, bench.authority)
        client.hello()
        key = client.keygen()
        moment = datetime.now(UTC)
        certificate = certify_kit(
            bench.authority, kit_id=setup.kit_id, region=setup.region, kit_public=key.public,
            now=moment, alg=key.alg, backend=key.store,
        )  # fmt: skip
        profile = setup.profile(public_keys, demo=False, reference_key=b"")
        args = m.FlashArgs.of(
            setup,
            authority=bench.authority.public,
            worklist_transfer=bytes(m.TRANSFER_BYTES),
            cert=certificate,
            time=moment,
            reference_key=b"",
            profile_signature=sign_profile(profile, bench.authority),
        )
        with pytest.raises(p.Refused) as refusal:
            client.call(args)
        assert not client.hello().provisioned
    assert refusal.value.code == Refusal.BAD_REQUEST
    assert "no reference key" in str(refusal.value)


def test_status_settime_and_selftest_over_the_port(bench: Bench) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    status = CliRunner().invoke(app, ["status", bench.pty.port, *bench.args])
    assert status.exit_code == EXIT_OK and "KIT-3505-07" in status.output
    assert "stok blangko" in status.output and "20 (dimuat 20, dicetak 0" in status.output
    assert "{" not in status.output, "the card counts in words, not a Python dict"
    gauge = bench.host.devices.battery.read()  # the simulated MAX17048 behind its driver
    assert f"{round(gauge.percent)}%  {round(gauge.voltage * 1000)} mV" in status.output
    shown = re.search(r"jam kit\s+│ (\d\d-\d\d-\d{4} \d\d:\d\d:\d\d) (\S+)", status.output)
    assert shown is not None and shown[2] == datetime.now().astimezone().tzname(), "local time"
    settime = CliRunner().invoke(app, ["settime", bench.pty.port, *bench.args, "--language", "en"])
    assert settime.exit_code == EXIT_OK and "kit clock set to" in settime.output
    selftest = CliRunner().invoke(app, ["selftest", bench.pty.port, *bench.args])
    assert selftest.exit_code == EXIT_OK, selftest.output
    assert "fingerprint" in selftest.output and "uji mandiri kit di" in selftest.output


def test_another_authority_cannot_collect(bench: Bench, tmp_path: Path) -> None:
    assert flash_cli(bench).exit_code == EXIT_OK
    Authority.init(tmp_path / "stranger", name="stranger")
    result = CliRunner().invoke(
        app,
        [
            "collect",
            bench.pty.port,
            "--authority",
            str(tmp_path / "stranger"),
            "--db",
            str(tmp_path / "s.db"),
        ],
    )
    assert result.exit_code == EXIT_PROBLEMS
    assert bench.kit_port.handled[-1][0] == "hello", "the stranger got no further than hello"


def test_a_header_of_garbage_on_the_kits_port_costs_seconds(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One header that checks out, then silence: the kit gives it up and answers."""
    assert flash_cli(bench).exit_code == EXIT_OK
    monkeypatch.setattr(framing, "FRAME_IDLE", 0.2)
    monkeypatch.setattr(p, "TIMEOUT", 5.0)
    fields = b"\x01" + framing.MAX_FRAME.to_bytes(4, "big")
    with serial.Serial(bench.pty.port) as raw:
        raw.write(b"JM" + fields + zlib.crc32(fields).to_bytes(4, "big"))
        raw.flush()
    time.sleep(0.3)  # the line falls silent, as after a pulled cable
    status = CliRunner().invoke(app, ["status", bench.pty.port, *bench.args])
    assert status.exit_code == EXIT_OK, status.output
    assert "KIT-3505-07" in status.output


def pull_the_cable(link: PtyLink) -> None:
    threading.Thread(target=link.close).start()  # not from the link's own thread


@pytest.mark.parametrize(
    ("peer", "said"),
    [(lambda link: None, "no answer on"), (pull_the_cable, "went away")],
    ids=["silent kit", "cable pulled"],
)
def test_link_errors_exit_1_as_the_docs_say(
    monkeypatch: pytest.MonkeyPatch,
    peer: Callable[[PtyLink], None],
    said: str,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(p, "TIMEOUT", 0.5)
    Authority.init(tmp_path / "authority", name="t")
    links: list[PtyLink] = []
    with PtyLink(lambda _: peer(links[0])) as link:
        links.append(link)
        result = CliRunner().invoke(
            app, ["status", link.port, "--authority", str(tmp_path / "authority")]
        )
    assert result.exit_code == EXIT_PROBLEMS, result.output
    assert said in result.stderr and "Traceback" not in result.output
