"""Signed updates end to end: `jemput-prov update` over a pty to the kit's real responder,
its slots in a folder laid out as ``/opt/jemput``, and the kit's next start.

A start of the kit's program here is what systemd does on a Pi: ExecStartPre
(`Slots.prestart`), then the program (a `KitHost` on the device doubles, its port on a pty,
`Updates` among its observers), which says READY at its locked screen.  The power Pico is
its own firmware under MicroPython behind the real driver, so a release's Pico firmware
goes through the maintenance commands.  Nothing on either side of the cable is mocked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from capture.machine import CaptureState
from firmware.cli import app as kit_app
from firmware.host import ENROLMENT_BUSY, KitHost
from firmware.port import KitPort
from firmware.slots import COMMITTED_LINK, CURRENT_LINK, SLOTS_FOLDER, Slots
from firmware.update import RESERVE_BYTES, STAGING_FILE, UpdateRefused, Updates, package_version
from hal.contracts import Devices
from hal.coprocessor import PowerCoprocessor
from hal.types import Button
from hw_sim.doubles import sim_devices
from hw_sim.pico import PicoSim
from hw_sim.provisioning_port import PtyPort
from hw_sim.world import World
from kitlink import messages as m
from kitlink.framing import FramedPort
from kitlink.protocol import Refusal, Refused
from kitlink.release import Version
from provisioning import update as updating
from provisioning.cli import app
from provisioning.collect import status
from simulator.kit import SimClock
from storage.keys import Authority
from storage.kit import provision
from storage.model import Policy
from tests.pico.conftest import DRIVER_TIMEOUT
from tests.provisioning.releases import NOW, PICO_NOW, bundle, release_key

#: Seconds a start may take to reach its locked screen (the doubles answer at once).
READY_SECONDS = 20.0


@dataclass
class Bench:
    """A provisioned kit installed by hand in slot a, its authority, its devices."""

    tmp: Path
    authority: Authority
    world: World
    devices: Devices
    pico: PowerCoprocessor | None = None
    #: Every restart a run asked for (the Pi's stop event).
    restarts: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.tmp / "kit"

    @property
    def root(self) -> Path:
        return self.tmp / "opt"

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--authority", str(self.tmp / "authority")])


@dataclass
class Run:
    """One run of the kit's program: its host, its updates, its port on a pty."""

    host: KitHost
    updates: Updates
    pty: PtyPort


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    provision(
        tmp_path / "kit",
        authority=authority,
        kit_id="KIT-3505-07",
        region="3505",
        officers=(),
        worklist=(),
        policy=Policy(),
        now=NOW,
    )
    world = World(1, people=4, walk_ins=0, clock_speed=0.0, start=NOW)
    devices = sim_devices(world)
    root = tmp_path / "opt"
    (root / SLOTS_FOLDER / "a" / "lib").mkdir(parents=True)  # docs/updates.md: by hand
    for link in (CURRENT_LINK, COMMITTED_LINK):
        (root / link).symlink_to(f"{SLOTS_FOLDER}/a")
    try:
        yield Bench(tmp_path, authority, world, devices)
    finally:
        devices.close()


@contextmanager
def started(bench: Bench) -> Iterator[Run]:
    """systemd's start: ExecStartPre, then the kit up to READY, its port served on a pty.

    A part that does not answer holds the kit's boot on its fault screen until someone
    presses OK, as a technician at the kit does here.
    """
    Slots(bench.root).prestart(now=NOW)
    clock = SimClock(bench.world, bench.devices)
    updates = Updates(
        Slots(bench.root),
        devices=bench.devices,
        coprocessor=bench.pico,
        restart=lambda: bench.restarts.append("restart"),
        now=clock.now,
    )
    host = KitHost(bench.data, bench.devices, clock, observers=(updates,))
    host.boot()
    kit = host.kit
    assert kit is not None
    deadline = time.monotonic() + READY_SECONDS

    def settled() -> bool:  # locked (and waiting for a finger), or showing a fault
        state, idle = kit.controller.state, not (kit.loop.busy() or kit.controller.busy)
        return state is CaptureState.LOCKED or (state is CaptureState.SELF_TEST and idle)

    kit.loop.run(until=lambda: settled() or time.monotonic() > deadline)
    if kit.controller.state is CaptureState.SELF_TEST:
        kit.press(Button.OK)  # past the fault screen
        kit.loop.run(
            until=lambda: kit.controller.state is CaptureState.LOCKED or time.monotonic() > deadline
        )
    assert kit.controller.state is CaptureState.LOCKED, "the kit reached READY"
    pty = PtyPort(KitPort(bench.data, host, updates=updates))
    try:
        yield Run(host, updates, pty)
    finally:
        pty.close()
        host.close()


def software_of(bench: Bench, run: Run) -> m.SoftwareStatus:
    with FramedPort(port=run.pty.port) as link:
        return status(link, bench.authority).software


def tree(root: Path) -> dict[str, object]:
    """Every file's bytes and every link's target under ``root``: what "nothing changed" means."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = ("->", str(path.readlink()))
        elif path.is_file():
            found[name] = path.read_bytes()
    return found


def test_an_update_is_installed_committed_and_carries_the_picos_firmware(bench: Bench) -> None:
    key = release_key(bench.tmp, bench.authority)
    release = bundle(bench.tmp, key, "1.2.0", pico="1.2.0")
    with PicoSim() as pico, PowerCoprocessor(port=pico.port, timeout=DRIVER_TIMEOUT) as driver:
        bench.pico = driver
        with started(bench) as run:
            before = software_of(bench, run)
            assert (before.version, before.slot, before.pico_version) == (
                package_version(),
                m.Slot.A,
                PICO_NOW,
            )
            sent = bench.cli(
                "update", run.pty.port, "--release", str(release.path), "--minimum", "1.2.0"
            )
            assert sent.exit_code == 0, sent.output
            assert "installed 1.2.0 in slot b" in sent.output
            assert bench.restarts == ["restart"], "the kit restarts into it"
        older = bundle(bench.tmp, key, "1.1.0")
        with started(bench) as run:  # ExecStartPre starts slot b on trial; READY; self-test
            software = software_of(bench, run)
            shown = bench.cli("status", run.pty.port)
            refused = bench.cli("update", run.pty.port, "--release", str(older.path))
        assert bench.restarts == ["restart"], "committed: no second restart"
        assert software.version == "1.2.0" and software.slot is m.Slot.B
        assert not software.on_trial and software.pico_version == "1.2.0"
        assert software.minimum == Version(1, 2, 0)
        assert refused.exit_code == 1 and "1.1.0, is below the minimum 1.2.0" in refused.output
        report = software.last_update
        assert report is not None and report.outcome is m.UpdateOutcome.COMMITTED
        assert (report.version, report.reason) == ("1.2.0", "")
        assert (pico.flash / "active").read_text() == "b" and not (pico.flash / "trial").exists()
        assert "1.2.0 diterapkan" in shown.stdout, shown.stdout
        assert (bench.root / CURRENT_LINK).readlink() == Path("slots/b")
        assert (bench.root / COMMITTED_LINK).readlink() == Path("slots/b")
        assert not (bench.root / STAGING_FILE).exists()
        probe = bench.root / "slots/b/lib/jemput_probe/__init__.py"
        assert probe.read_text() == "VERSION = '1.2.0'\n" and probe.stat().st_mode & 0o777 == 0o600


def test_a_version_that_fails_its_self_test_is_rolled_back_and_status_says_why(
    bench: Bench,
) -> None:
    key = release_key(bench.tmp, bench.authority)
    release = bundle(bench.tmp, key, "1.3.0")
    with started(bench) as run:
        assert bench.cli("update", run.pty.port, "--release", str(release.path)).exit_code == 0
    bench.devices.fingerprint.inject("unplugged")  # the new drivers lose the sensor
    with started(bench):
        assert bench.restarts == ["restart", "restart"], "rolled back: restart into slot a"
    bench.devices.fingerprint.clear_faults()
    with started(bench) as run:
        software = software_of(bench, run)
        shown = bench.cli("status", run.pty.port)
    assert software.slot is m.Slot.A and software.version == package_version()
    report = software.last_update
    assert report is not None and report.outcome is m.UpdateOutcome.ROLLED_BACK
    assert report.version == "1.3.0"
    assert report.reason == (
        "self-test failed: fingerprint answered the version before and do not answer this one"
    )
    assert (
        "1.3.0 DIKEMBALIKAN ke versi sebelumnya" in shown.stdout and "fingerprint" in shown.stdout
    )


def test_a_version_that_never_reaches_ready_is_rolled_back_by_the_next_starts(
    bench: Bench,
) -> None:
    key = release_key(bench.tmp, bench.authority)
    release = bundle(bench.tmp, key, "1.4.0")
    with started(bench) as run:
        assert bench.cli("update", run.pty.port, "--release", str(release.path)).exit_code == 0
    for left in (2, 1, 0):  # each start hangs or dies before READY: systemd starts it again
        prestart = CliRunner().invoke(kit_app, ["prestart", "--slots", str(bench.root)])
        assert prestart.exit_code == 0, prestart.output
        assert f"starting slot b (1.4.0, on trial ({left} start(s) left))" in prestart.output
    with started(bench) as run:  # the fourth start: ExecStartPre goes back to slot a
        software = software_of(bench, run)
    report = software.last_update
    assert software.slot is m.Slot.A and report is not None
    assert report.outcome is m.UpdateOutcome.ROLLED_BACK and report.version == "1.4.0"
    assert report.reason == "it did not reach ready and pass its self-test in 3 starts"


@pytest.mark.parametrize("fault", ["foreign release key", "altered file", "below the minimum"])
def test_a_bundle_the_kit_must_not_trust_is_refused_and_changes_nothing(
    bench: Bench, fault: str
) -> None:
    key = release_key(bench.tmp, bench.authority)
    minimum = None
    if fault == "foreign release key":
        stranger = Authority.init(bench.tmp / "stranger", name="stranger")
        path = bundle(bench.tmp, release_key(bench.tmp, stranger, "foreign"), "1.5.0").path
        expected = "signed by key"
    elif fault == "altered file":
        path = bundle(bench.tmp, key, "1.5.0").path
        data = bytearray(path.read_bytes())
        data[-100] ^= 0x01  # a bit of the last file, after the signed header
        path.write_bytes(bytes(data))
        expected = "does not match the SHA-256 its manifest signed"
    else:
        path = bundle(bench.tmp, key, "1.5.0").path
        minimum = Version.parse("2.0.0")
        expected = "1.5.0, is below the minimum 2.0.0 the authority set"
    before = tree(bench.root)
    with started(bench) as run:
        with FramedPort(port=run.pty.port) as link, pytest.raises(Refused) as refused:
            updating.send(link, bench.authority, path, minimum=minimum)
        assert refused.value.code is Refusal.BAD_REQUEST
        assert expected in str(refused.value)
        assert software_of(bench, run).last_update is None
    assert tree(bench.root) == before, "the slots, the state and the links are as they were"
    assert bench.restarts == []


def test_no_update_is_installed_during_an_enrolment(bench: Bench) -> None:
    key = release_key(bench.tmp, bench.authority)
    release = bundle(bench.tmp, key, "1.6.0")
    before = tree(bench.root)
    with started(bench) as run:
        store = run.host.store
        assert store is not None
        store.journal.save({"resident": "an enrolment under way"})
        refused = bench.cli("update", run.pty.port, "--release", str(release.path))
        assert refused.exit_code == 1
        assert ENROLMENT_BUSY in refused.output
    assert tree(bench.root) == before and bench.restarts == []


def test_a_second_update_waits_for_the_version_on_trial(bench: Bench) -> None:
    key = release_key(bench.tmp, bench.authority)
    first, second = bundle(bench.tmp, key, "1.7.0"), bundle(bench.tmp, key, "1.8.0")
    with started(bench) as run:
        assert bench.cli("update", run.pty.port, "--release", str(first.path)).exit_code == 0
        with FramedPort(port=run.pty.port) as link, pytest.raises(Refused) as refused:
            updating.send(link, bench.authority, second.path)
    assert refused.value.code is Refusal.BUSY
    assert "version 1.7.0 is on trial" in str(refused.value)


def test_a_bundle_that_would_fill_the_card_is_refused_before_it_is_staged(bench: Bench) -> None:
    updates = Updates(
        Slots(bench.root),
        devices=bench.devices,
        coprocessor=None,
        restart=lambda: bench.restarts.append("restart"),
        now=lambda: NOW,
        free_bytes=lambda _: RESERVE_BYTES,
    )
    with pytest.raises(UpdateRefused, match="would keep less than 256 MiB free"):
        updates.receive(m.UpdatePartArgs(bytes(16), 0, b"bundle"))
    assert not (bench.root / STAGING_FILE).exists()


def test_prestart_names_a_kit_outside_slots_and_starts_one_whose_state_is_damaged(
    bench: Bench,
) -> None:
    outside = CliRunner().invoke(kit_app, ["prestart", "--slots", str(bench.tmp / "none")])
    assert outside.exit_code == 0 and "holds no slots" in outside.output
    (bench.root / "slots.state").write_bytes(b"\xff damaged")
    damaged = CliRunner().invoke(kit_app, ["prestart", "--slots", str(bench.root)])
    assert damaged.exit_code == 0, "the kit still starts what current leads to"
    assert "slots.state is damaged" in damaged.output
