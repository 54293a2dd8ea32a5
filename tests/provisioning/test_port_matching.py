"""Each answer goes to its own request: a half frame, or another request's answer, never
derails the tool (issue 25, "a half frame deafens the kit's port").

The real path: the kit's responder (`firmware.port.KitPort`) behind the simulator's pty
(`hw_sim.provisioning_port.PtyPort`), the tool's real client (`provisioning.client`).
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import serial

from firmware.port import KitPort
from hw_sim.link import PtyLink
from hw_sim.provisioning_port import PtyPort
from kitlink import framing
from kitlink import messages as m
from kitlink import protocol as p
from kitlink.framing import FramedPort, LinkTimeout, encode_frame
from kitlink.protocol import Op
from provisioning.client import KitClient
from provisioning.collect import connect
from storage.codec import dumps
from storage.keys import Authority

Kit = tuple[KitPort, Authority, Authority]

#: How long a test waits for what must happen at once (a deadline, not a measurement).
WAIT_SECONDS = 5.0


def half_frame() -> bytes:
    """A header that checks out, for a frame of 1,000 bytes, and then only 20 of them:
    what a tool killed mid-write, or a cable pulled, leaves on the line."""
    fields = b"\x01" + (1000).to_bytes(4, "big")
    return b"JM" + fields + zlib.crc32(fields).to_bytes(4, "big") + bytes(20)


def test_a_request_behind_a_half_frame_is_answered_promptly(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request the tool sends next is swallowed by the half frame; the idle line gives
    the frame up after FRAME_IDLE, and the request behind it is answered then, once."""
    kit_port, authority, _ = kit
    monkeypatch.setattr(p, "TIMEOUT", framing.FRAME_IDLE + WAIT_SECONDS)
    with PtyPort(kit_port) as pty:
        with serial.Serial(pty.port) as cut_off:
            cut_off.write(half_frame())
        started = time.monotonic()
        with FramedPort(port=pty.port) as link:
            client, hello, _ = connect(link, authority)
            took = time.monotonic() - started
            assert hello.kit_id == "K1"
            assert client.call(m.StatusArgs()).result.kit_id == "K1"
    assert took < framing.FRAME_IDLE + 1.0, f"answered after {took:.1f} s"
    assert kit_port.handled[-2:] == [(Op.HELLO, "ok"), (Op.STATUS, "ok")]


STALE: dict[str, Callable[[], bytes]] = {
    "another request's answer": lambda: encode_frame(p.hello_request(7)),
    "a refusal of a request the kit cannot read": lambda: encode_frame(b"\xff not cbor"),
    "an answer to a request without an id": lambda: encode_frame(
        dumps({"v": p.PROTOCOL_VERSION, "op": Op.HELLO.value})
    ),
}


@pytest.mark.parametrize("stale", list(STALE))
def test_an_answer_to_another_request_is_dropped(
    kit: Kit, stale: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Bytes for the kit sent behind the client's back (a tool that gave up, another tool):
    the kit answers them first, and the client waits on for its own answer."""
    kit_port, authority, _ = kit
    with PtyPort(kit_port) as pty, FramedPort(port=pty.port) as link:
        client, _, _ = connect(link, authority)
        with serial.Serial(pty.port) as other:
            other.write(STALE[stale]())
        with caplog.at_level(logging.INFO, logger="provisioning.client"):
            status = client.call(m.StatusArgs()).result
    assert status.kit_id == "K1"
    assert "dropped an answer to another request" in caplog.text
    assert kit_port.handled[-1] == (Op.STATUS, "ok")


def test_answers_to_other_requests_end_at_the_deadline(tmp_path: Path) -> None:
    """A port that answers only other requests, however often, costs the client its
    timeout, and the error says so."""
    answer = p.hello_answer(7, {})
    links: list[PtyLink] = []
    authority = Authority.init(tmp_path / "authority", name="t")
    with PtyLink(lambda _: links[0].send(encode_frame(answer) * 3)) as peer:
        links.append(peer)
        with FramedPort(port=peer.port) as link:
            started = time.monotonic()
            with pytest.raises(LinkTimeout, match=r"only \d+ to other requests"):
                KitClient(link, authority, timeout=0.5).hello()
    assert time.monotonic() - started < WAIT_SECONDS


def test_what_waits_in_the_port_is_dropped_when_the_tool_opens_it(kit: Kit) -> None:
    """An answer to a tool that ran before is still in the port: the next tool never sees it
    (pyserial empties a port's input as it opens it; this keeps the tool on such a port)."""
    kit_port, _, _ = kit
    with PtyPort(kit_port) as pty:
        with serial.Serial(pty.port, timeout=0.1) as before:
            before.write(encode_frame(p.hello_request(7)))
            deadline = time.monotonic() + WAIT_SECONDS
            while not before.in_waiting and time.monotonic() < deadline:
                time.sleep(0.05)
            assert before.in_waiting, "the kit answered, and nobody read it"
        with FramedPort(port=pty.port) as link, pytest.raises(LinkTimeout):
            link.receive(timeout=0.5)
