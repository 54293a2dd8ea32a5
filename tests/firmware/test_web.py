"""The browser kit's server over real HTTP: loopback only, its own page only, every bad
request a 4xx, the kit unharmed by them, never frozen, stopped by Ctrl-C; the trays and
scenarios it keeps."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import httpx
import pytest
from PIL import Image

from capture.events import JobKind, Lane
from capture.machine import CaptureState
from capture.prompts import prompt
from hal.coprocessor import BatteryLevel, ShutdownRequest
from hal.types import Indicator
from hw_sim.fingers import Glass
from hw_sim.prints import kept_prints
from hw_sim.wired import WiredKit
from hw_sim.world import Person, World
from simulator.options import SimOptions
from simulator.power import cell_volts
from simulator.tray import OutputTray
from simulator.web import texts
from simulator.web.guard import MAX_BODY
from simulator.web.kit import WebKit, open_web_kit
from simulator.web.scenario import Progress, ScenarioError, load_scenario, shipped
from simulator.web.texts import page_catalogue
from vocabulary.people import Role


def booted(kit: WebKit, *, timeout: float = 60.0) -> WebKit:
    """The kit once it has tested its devices and locked (a bounded wait)."""
    deadline = time.monotonic() + timeout
    while str(kit.sim.kit.controller.state) != "locked":
        if time.monotonic() > deadline:
            raise AssertionError(f"the kit did not lock: {kit.sim.kit.controller.screen}")
        time.sleep(0.05)
    return kit


@contextlib.contextmanager
def booted_kit(folder: Path) -> Iterator[WebKit]:
    with open_web_kit(SimOptions(folder / "kit", seed=3), port=0) as kit:
        yield booted(kit)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebKit]:
    with booted_kit(tmp_path) as kit:
        yield kit


@pytest.fixture(scope="module")
def unharmed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebKit]:
    """One kit for the tests of refusals: each leaves it as it was, which is what they test."""
    with booted_kit(tmp_path_factory.mktemp("unharmed")) as kit:
        yield kit


def state(client: httpx.Client) -> dict:
    answer = client.get("state")
    assert answer.status_code == 200
    return answer.json()


def test_the_server_listens_on_loopback_only(web: WebKit) -> None:
    host, port = web.server.address
    assert host == "127.0.0.1"
    # every other address of this machine refuses the port
    others = {
        info[4][0]
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        if not info[4][0].startswith("127.")
    }
    for address in others:
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, port)) != 0, f"answered on {address}"
    with socket.create_connection((host, port), timeout=2):
        pass


#: What the page sends with every action.
JSON = {"Content-Type": "application/json"}
#: Another web site open in the same browser, as its requests arrive.
ELSEWHERE = "http://attacker.example"


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "says"),
    [
        ("action/press", b"not json", JSON, 400, "not JSON"),
        ("action/press", b"", JSON, 400, "not JSON"),
        ("action/battery", b'{"percent": ' + b"1" * 5000 + b"}", JSON, 400, "4300 digits"),
        ("action/press", b"[1, 2]", JSON, 422, "JSON object"),
        ("action/press", b'{"button": "sideways"}', JSON, 422, "up, down, ok, back"),
        ("action/press", b'{"button": "ok", "how": "forever"}', JSON, 422, "short, hold"),
        ("action/press", b"{}", JSON, 422, "missing field 'button'"),
        ("action/zap", b"{}", JSON, 404, "unknown action 'zap'"),
        ("action/battery", b'{"percent": 140}', JSON, 422, "from 0 to 100"),
        ("action/battery", b'{"percent": true}', JSON, 422, "from 0 to 100"),
        ("action/glass", b'{"quality": "good", "finger": "LEFT_TOE"}', JSON, 422, "LEFT_TOE"),
        ("action/fault", b'{"device": "toaster", "kind": "unplugged"}', JSON, 422, "toaster"),
        ("action/fault", b'{"device": "camera", "kind": "melted"}', JSON, 422, "melted"),
        ("action/stand-in", b'{"nik": "0000000000000000"}', JSON, 422, "nobody with NIK"),
        ("action/sign", b'{"width": 100, "height": 50, "strokes": []}', JSON, 422, "1 to 40"),
        ("action/sign", b'{"width": 100, "height": 50, "strokes": [[[500, 5]]]}', JSON, 422, "x"),
        ("action/power", b'{"how": "forever"}', JSON, 422, "short, hold"),
        ("action/signer", b'{"who": "the cat"}', JSON, 422, "resident, trainee"),
        # another site's page: a text/plain POST is sent without the browser asking first
        (
            "action/battery",
            b'{"percent": 3}',
            {"Content-Type": "text/plain", "Origin": ELSEWHERE},
            403,
            "'http://attacker.example' are refused",
        ),
        (
            "action/fault",
            b'{"device": "camera", "kind": "unplugged"}',
            {"Content-Type": "text/plain", "Origin": ELSEWHERE},
            403,
            "only the kit's own page",
        ),
        ("action/press", b'{"button": "ok"}', {**JSON, "Origin": ELSEWHERE}, 403, "refused"),
        ("action/press", b'{"button": "ok"}', {**JSON, "Origin": "null"}, 403, "'null'"),
        (
            "action/battery",
            b'{"percent": 3}',
            {"Content-Type": "text/plain"},
            415,
            "not 'text/plain'",
        ),
        ("action/battery", b'{"percent": 3}', {}, 415, "application/json, not 'nothing'"),
        # nested past the parser's recursion: refused before it is parsed
        ("action/press", b"[" * 100_000, JSON, 400, "nested deeper than 8"),
        ("action/press", b'{"a": ' * 9 + b"1" + b"}" * 9, JSON, 400, "nested deeper than 8"),
        # brackets in a string are text, not nesting
        ("action/press", b'{"button": "[[[[[[[[[[[["}', JSON, 422, "is not one of"),
    ],
)
def test_a_bad_request_is_refused_by_name_and_the_kit_goes_on(
    unharmed: WebKit, path: str, body: bytes, headers: dict[str, str], status: int, says: str
) -> None:
    with httpx.Client(base_url=unharmed.url, timeout=10) as client:
        before = state(client)
        answer = client.post(path, content=body, headers=headers)
        assert answer.status_code == status
        assert says in answer.json()["error"]
        assert len(answer.content) < 300 and b"Traceback" not in answer.content
        after = state(client)
        assert after["state"] == before["state"]
        assert after["battery"] == before["battery"]
        assert all(not kinds for kinds in after["faults"].values())
        # and a good request is still obeyed
        assert client.post("action/battery", json={"percent": 42}).status_code == 200
        assert state(client)["battery"] == 42


def test_only_the_kits_own_address_and_page_are_served(unharmed: WebKit) -> None:
    """A page whose name is re-pointed at 127.0.0.1 (DNS rebinding) arrives with its own
    name as the Host, and may neither read the kit nor act on it."""
    port = unharmed.server.address[1]
    with httpx.Client(base_url=unharmed.url, timeout=10) as client:
        for host in (f"attacker.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1"):
            for answer in (
                client.get("", headers={"Host": host}),
                client.get("state", headers={"Host": host}),
                client.post("action/battery", json={"percent": 3}, headers={"Host": host}),
            ):
                assert answer.status_code == 400
                assert "is not this kit's address" in answer.json()["error"]
        for name, percent in (("127.0.0.1", 50), ("localhost", 60)):
            own = f"{name}:{port}"
            headers = {"Host": own, "Origin": f"http://{own}"}
            assert client.get("", headers={"Host": own}).status_code == 200
            answer = client.post("action/battery", json={"percent": percent}, headers=headers)
            assert answer.status_code == 200
        other_name = {"Origin": f"http://localhost:{port}"}  # Host 127.0.0.1: another origin
        assert (
            client.post("action/battery", json={"percent": 3}, headers=other_name).status_code
            == 403
        )
        assert state(client)["battery"] == 60


def answer_to(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("framing", ["declared", "chunked"])
def test_an_oversized_body_is_refused_before_the_rest_is_sent(
    unharmed: WebKit, framing: str
) -> None:
    """400 MB announced, or a body streamed without a length: the 413 comes while the client
    still has nearly all of it to send, so the server never holds it (a server that waited
    for the whole body would time this test out)."""
    host, port = unharmed.server.address
    declared = framing == "declared"
    with socket.create_connection((host, port), timeout=5) as connection:
        connection.sendall(
            f"POST /action/sign HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\n".encode()
            + (b"Content-Length: 400000000\r\n" if declared else b"Transfer-Encoding: chunked\r\n")
            + b"\r\n"
        )
        if not declared:  # one byte past the limit, and never the last chunk
            for size in (MAX_BODY, 1):
                connection.sendall(b"%x\r\n%s\r\n" % (size, b" " * size))
        head, _, body = answer_to(connection).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body) == {"error": f"request body over {MAX_BODY} bytes"}


def test_a_click_while_back_is_held_is_answered_and_so_is_the_page(web: WebKit) -> None:
    """A held button keeps its worker thread for 1.2 s; a click queued behind it must not
    stop the server answering anything else (a thread lock awaited on the event loop froze
    it for good)."""
    with httpx.Client(base_url=web.url, timeout=5) as client, ThreadPoolExecutor(2) as hands:
        hold = hands.submit(client.post, "action/press", json={"button": "back", "how": "hold"})
        time.sleep(0.2)  # the hold is under way
        click = hands.submit(client.post, "action/press", json={"button": "ok"})
        time.sleep(0.1)  # the click waits for its turn
        assert client.get("").status_code == 200
        assert state(client)["state"]
        assert not hold.done(), "the page was answered while BACK was still held"
        assert hold.result().json() == {"ok": "back hold"}
        assert click.result().json() == {"ok": "ok short"}


class WebProcess(NamedTuple):
    """``jemput-kit sim web`` running as a developer runs it, and where it serves."""

    process: subprocess.Popen[str]
    url: str
    port: int

    def ended_cleanly(self, *, within: float) -> None:
        """The program exits 0 within ``within`` seconds, with no traceback or error."""
        assert self.process.wait(timeout=within) == 0
        assert self.process.stdout is not None
        output = self.process.stdout.read()
        assert "Traceback" not in output and "ERROR" not in output, output


@contextlib.contextmanager
def web_process(folder: Path) -> Iterator[WebProcess]:
    command = [sys.executable, "-m", "firmware.cli", "sim", "web", "--port", "0", "--fast"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(folder / "kit")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        address = re.search(r"http://([\d.]+):(\d+)/", process.stdout.readline())
        assert address, "the kit never said where it is"
        yield WebProcess(process, address.group(0), int(address.group(2)))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


#: How long Ctrl-C may take to end the browser kit: far less than the ten seconds the
#: lock screen waits for a finger at a time, or the five the loop's close would give that
#: wait to end by itself.  (A suite run as a shell's background job ignores SIGINT, and so
#: does the kit it starts: `run_web` handles SIGINT itself, or Ctrl-C did nothing.)
CTRL_C_SECONDS = 4.0


def test_ctrl_c_stops_the_server_during_a_hold(tmp_path: Path) -> None:
    """Ctrl-C while BACK is held and a click waits.  The port closes at once, the actions
    in flight are answered, and the program ends cleanly (within the kit's own bounded
    close)."""
    with (
        web_process(tmp_path) as web,
        httpx.Client(base_url=web.url, timeout=10) as client,
        ThreadPoolExecutor(2) as hands,
    ):
        hold = hands.submit(client.post, "action/press", json={"button": "back", "how": "hold"})
        time.sleep(0.2)
        click = hands.submit(client.post, "action/press", json={"button": "ok"})
        time.sleep(0.1)
        web.process.send_signal(signal.SIGINT)
        until("the port to close", lambda: port_closed(web.port), timeout=CTRL_C_SECONDS)
        assert hold.result().status_code == 200 and click.result().status_code == 200
        web.ended_cleanly(within=15)


def test_ctrl_c_at_the_lock_screen_ends_its_wait_for_a_finger(tmp_path: Path) -> None:
    """The page's kit waits in real time, ten seconds at a time, for a finger at the lock
    screen; Ctrl-C ends that wait instead of sitting it out, and the kit's folder is left
    whole: it opens again, with nothing sealed."""
    with web_process(tmp_path) as web, httpx.Client(base_url=web.url, timeout=10) as client:
        until(
            "the lock screen waiting for a finger",
            lambda: (shown := state(client))["state"] == "locked" and shown["busy"],
        )
        web.process.send_signal(signal.SIGINT)
        web.ended_cleanly(within=CTRL_C_SECONDS)
    with booted_kit(tmp_path) as again:
        assert again.sim.kit.store.last_seq == 0


def port_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_unknown_paths_and_methods_are_4xx_and_no_file_leaves_the_tray(web: WebKit) -> None:
    with httpx.Client(base_url=web.url, timeout=10) as client:
        assert client.get("printed/..%2F..%2Fstate.db").status_code == 404
        assert client.get("printed/card-0001.png").status_code == 404  # nothing printed yet
        assert client.get("nothing-here").status_code == 404
        assert client.delete("state").status_code == 405
        assert client.get("camera.jpg").status_code == 404
        assert state(client)["state"] == "locked"


def test_the_page_drives_the_world_and_the_emulators(web: WebKit) -> None:
    person = web.sim.world.residents[2]
    with httpx.Client(base_url=web.url, timeout=10) as client:
        assert client.post("action/stand-in", json={"nik": person.nik}).status_code == 200
        assert client.post("action/fault", json={"device": "card-printer", "kind": "cover-open"})
        assert client.post("action/glass", json={"quality": "none", "finger": "LEFT_RING"})
        shown = state(client)
    assert shown["in_front"] == {"name": person.name, "nik": person.nik}
    assert shown["faults"]["card-printer"] == ["cover-open"]
    assert web.sim.world.finger_on_glass() is None, "nothing on the glass"
    assert "cover-open" in web.sim.wired.card_printer.faults
    with httpx.Client(base_url=web.url, timeout=10) as client:
        client.post(
            "action/fault", json={"device": "card-printer", "kind": "cover-open", "on": False}
        )
        client.post("action/glass", json={"quality": "poor", "finger": "LEFT_RING"})
    finger = web.sim.world.finger_on_glass()
    assert finger is not None and finger.position == 9 and finger.condition.value == "scarred"
    assert not web.sim.wired.card_printer.faults


def until(what: str, condition: Callable[[], bool], *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never came: {what}")
        time.sleep(0.05)


def test_the_pages_power_button_holds_the_picos_and_the_kit_shuts_down_safely(
    web: WebKit,
) -> None:
    assert web.sim.pico is not None and web.sim.power is not None
    guard = web.sim.power.guard
    assert guard is not None
    until("a heartbeat answered", lambda: guard.status is not None)
    with httpx.Client(base_url=web.url, timeout=30) as client:
        assert client.post("action/power", json={"how": "hold"}).status_code == 200
        until("the safe shutdown", lambda: state(client)["state"] == "safe_shutdown")
    assert web.sim.kit.controller.screen == prompt("shutdown.power_button")
    assert guard.request is ShutdownRequest.BUTTON


def test_the_pages_battery_slider_reaches_the_picos_adc(web: WebKit) -> None:
    assert web.sim.power is not None and web.sim.power.guard is not None
    guard = web.sim.power.guard
    with httpx.Client(base_url=web.url, timeout=10) as client:
        assert client.post("action/battery", json={"percent": 12}).status_code == 200
    until("the Pico reads a low cell", lambda: guard.level is BatteryLevel.LOW)
    assert guard.status is not None
    assert guard.status.volts == pytest.approx(cell_volts(12), abs=0.03)


def test_the_live_view_pushes_a_snapshot_when_something_changes(web: WebKit) -> None:
    with (
        httpx.Client(base_url=web.url, timeout=10) as client,
        client.stream("GET", "events") as events,
    ):
        lines = events.iter_lines()
        first = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
        client.post("action/battery", json={"percent": 12})
        second = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
    assert first["battery"] != 12 and second["battery"] == 12


class Printer:
    """A printer as the tray sees one: its latest prints, and how many in all."""

    def __init__(self) -> None:
        self.printed = kept_prints()


def test_the_tray_keeps_every_print_private_and_numbers_on_across_runs(tmp_path: Path) -> None:
    card, receipt = Printer(), Printer()
    tray = OutputTray(tmp_path, card=card, receipt=receipt)
    card.printed += [Image.new("1", (8, 8)), Image.new("1", (8, 8))]
    receipt.printed.append(Image.new("1", (8, 8)))
    assert [i.name for i in tray.collect()] == ["card-0001.png", "card-0002.png", "slip-0001.png"]
    assert tray.collect() == []
    folder = tmp_path / "printed"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}

    next_card = Printer()  # the next run: new emulators, the same data folder
    again = OutputTray(tmp_path, card=next_card, receipt=Printer())
    next_card.printed.append(Image.new("1", (8, 8)))
    assert [i.name for i in again.collect()] == ["card-0003.png"]
    assert again.find("../state.db") is None
    assert os.path.exists(folder / "card-0001.png")


def test_every_shipped_scenario_loads(tmp_path: Path) -> None:
    world = World(1, people=20, walk_ins=2)
    assert len(shipped()) >= 3
    for name in shipped():
        scenario = load_scenario(name, world)
        assert scenario.arrivals and scenario.name


#: A scenario with its one arrival, and the start of a fault, for the fault cases.
ONE = 'name = "x"\n[[arrivals]]\nresident = 1\n'
FAULT = '[[faults]]\ndevice = "fingerprint"\nkind = "unplugged"\n'


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name = ", "not valid TOML"),
        ('about = "x"\n[[arrivals]]\nresident = 1', "give the scenario a name"),
        ('name = "x"', "at least one [[arrivals]]"),
        ('name = "x"\n[[arrivals]]\nresident = 99', "resident must be 1 to 20"),
        ('name = "x"\n[[arrivals]]\nnik = "1"', "give resident = N or the nik"),
        (ONE + '[[faults]]\ndevice = "toaster"\nkind = "x"\nafter_records = 1', "toaster"),
        (ONE + '[[faults]]\ndevice = "camera"\nkind = "hang"', "say when"),
        (ONE + FAULT + "arrival = 1", "say when"),
        (ONE + FAULT + 'step = "fingers"', "say when"),
        (ONE + FAULT + 'arrival = 2\nstep = "fingers"', "whole number from 1 to 1"),
        (ONE + FAULT + 'arrival = 1\nstep = "lunch"', "'lunch' is not one of face, fingers"),
        (ONE + FAULT + "at = 20", 'arrival = N and step = "fingers"'),
        (ONE + FAULT + "after_records = 1\nclear_after = -3", "0 or more"),
        ('name = "x"\nabout = 3\n[[arrivals]]\nresident = 1', "about must be text"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_entry(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "day.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=says.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(str(path), World(1, people=20, walk_ins=2))


def test_a_missing_scenario_names_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match="kartu-habis"):
        load_scenario("no-such-day", World(1))


def test_the_idle_lock_screen_logs_nothing(web: WebKit, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock screen waits for a finger over and over; each wait that ends with no finger
    is the ordinary day, not a failure for the event log."""
    sensor = web.sim.kit.controller.devices.fingerprint
    waits: list[float] = []
    identify = sensor.identify

    def counted(*, timeout: float) -> object:
        waits.append(timeout)
        return identify(timeout=timeout)

    monkeypatch.setattr(sensor, "identify", counted)
    before = web.log.count
    until("three waits for a finger that ended with none", lambda: len(waits) >= 3)
    assert web.sim.kit.controller.state == "locked"
    assert web.log.count == before, web.log.tail()


class Wires:
    """The fault switches as a scenario drives them: what is on now."""

    def __init__(self) -> None:
        self.on: list[tuple[str, str]] = []

    def inject(self, device: str, kind: str) -> None:
        self.on.append((device, kind))

    def clear_faults(self, device: str | None = None) -> None:
        self.on = [fault for fault in self.on if device not in (None, fault[0])]


def two_arrivals(tmp_path: Path, fault: str) -> Progress:
    path = tmp_path / "day.toml"
    path.write_text(ONE + "[[arrivals]]\nresident = 2\n" + FAULT + fault)
    return Progress(load_scenario(str(path), World(1, people=20, walk_ins=2)))


def kit_at(
    state: CaptureState,
    person: Person | None = None,
    seq: int | None = None,
    *,
    printing: bool = False,
) -> object:
    """The controller as a scenario reads it: the state, who is recorded, what was sealed,
    whether its print still runs behind the done screen."""
    return SimpleNamespace(
        state=state,
        draft=SimpleNamespace(resident=person) if person else None,
        sealed=SimpleNamespace(seq=seq) if seq else None,
        working_behind=printing,
    )


def test_a_fault_waits_for_its_arrivals_step_however_long_the_login_takes(
    tmp_path: Path,
) -> None:
    progress = two_arrivals(tmp_path, 'arrival = 2\nstep = "fingers"\nclear_after = 30\n')
    first, second = progress.scenario.arrivals
    wires = Wires()

    def tick(now: float, *at: object) -> list[str]:
        notes = progress.tick(now=now, controller=kit_at(*at), wired=wires)  # type: ignore[arg-type]
        return [note.key for note in notes]

    tick(0, CaptureState.LOCKED)
    tick(600, CaptureState.PIN_ENTRY)  # ten minutes on the PIN: no clock runs out
    tick(601, CaptureState.FINGERS, first)  # fingers, but not the second arrival's
    assert tick(602, CaptureState.DONE, first, 1) == ["scenario.recorded"]
    tick(603, CaptureState.FACE, second)
    assert wires.on == [] and progress.enrolled == [first.nik]
    assert tick(604, CaptureState.FINGERS, second) == ["scenario.fault"]
    assert wires.on == [("fingerprint", "unplugged")]
    tick(633, CaptureState.FINGERS, second)
    assert wires.on, "cleared 30 s after it started, not before"
    assert tick(634, CaptureState.FINGERS, second) == ["scenario.repaired"]
    assert tick(640, CaptureState.DONE, second, 2) == ["scenario.recorded", "scenario.finished"]
    assert progress.finished


def test_a_fault_after_a_record_waits_for_its_print(tmp_path: Path) -> None:
    """The card prints behind the done screen: "after 1 record" must not hit that card."""
    path = tmp_path / "after.toml"
    path.write_text(
        ONE + '[[faults]]\ndevice = "card-printer"\nkind = "out-of-cards"\nafter_records = 1\n'
    )
    progress = Progress(load_scenario(str(path), World(1, people=20, walk_ins=2)))
    (first,) = progress.scenario.arrivals
    wires = Wires()
    at_done = kit_at(CaptureState.DONE, first, 1, printing=True)
    progress.tick(now=0, controller=at_done, wired=wires)  # type: ignore[arg-type]
    assert wires.on == [], "the first card still prints"
    printed = kit_at(CaptureState.READY, first, 1)
    progress.tick(now=1, controller=printed, wired=wires)  # type: ignore[arg-type]
    assert wires.on == [("card-printer", "out-of-cards")]


@pytest.mark.parametrize(
    ("seen", "fires"),
    [
        ((CaptureState.FACE,), False),
        ((CaptureState.SIGNATURE,), True),  # fingers passed between two looks, or none taken
        ((CaptureState.DONE, 1), True),  # recorded without a step the ticker saw
    ],
)
def test_a_step_seen_late_still_fires_its_fault(
    tmp_path: Path, seen: tuple[object, ...], fires: bool
) -> None:
    progress = two_arrivals(tmp_path, 'arrival = 1\nstep = "fingers"\n')
    wires = Wires()
    first = progress.scenario.arrivals[0]
    state, *seq = seen
    progress.tick(now=0, controller=kit_at(state, first, *seq), wired=wires)  # type: ignore[arg-type]
    assert bool(wires.on) is fires


def test_every_text_of_the_page_is_in_both_languages() -> None:
    """The page names its texts by key; each key, every part and every fault kind the page
    offers has its words in Bahasa Indonesia and English."""
    catalogue = page_catalogue()
    page = (Path(texts.__file__).parent / "page.html").read_text("utf-8")
    keys = set(re.findall(r'data-t(?:-title|-alt)?="([^"]+)"', page))
    keys |= {key for key in re.findall(r'\bt\("([\w.-]+)"', page) if not key.endswith(".")}
    keys |= {f"device.{device}" for device in WiredKit.DEVICE_FAULTS}
    keys |= {f"fault.{kind}" for kinds in WiredKit.DEVICE_FAULTS.values() for kind in kinds}
    keys |= {f"glass.{glass.value}" for glass in Glass} | {f"role.{role.value}" for role in Role}
    keys |= {f"led.{indicator.value}" for indicator in Indicator}
    keys |= {f"behind.{kind}" for kind in JobKind if kind.lane is Lane.PRINTERS}
    assert len(keys) > 70, "the page was read"
    for language in ("id", "en"):
        missing = keys - set(catalogue[language])
        assert not missing, f"{language}: {sorted(missing)}"
        assert all(catalogue[language][key].strip() for key in keys)
    assert catalogue["id"]["section.faults"] != catalogue["en"]["section.faults"]
