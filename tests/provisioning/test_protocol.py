"""The kit's port refuses what the authority did not sign for this moment, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from kitlink import protocol as p
from kitlink.framing import FramedPort
from provisioning.collect import connect
from simulator.kit import open_sim_kit
from simulator.options import DOUBLES, Provisioning, SimOptions
from storage.codec import dumps
from storage.keys import Authority
from storage.kit import provision
from storage.model import Policy

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[tuple[KitPort, Authority, Authority]]:
    authority = Authority.init(tmp_path / "auth", name="Dukcapil")
    stranger = Authority.init(tmp_path / "stranger", name="stranger")
    provision(
        tmp_path / "kit",
        authority=authority,
        kit_id="K1",
        region="3505",
        officers=(),
        worklist=(),
        policy=Policy(),
        now=NOW,
    )
    with open_sim_kit(
        SimOptions(
            tmp_path / "kit", clock_speed=0.0, parts=DOUBLES, provisioning=Provisioning.UNFLASHED
        )
    ) as sim:
        sim.host.set_clock(NOW)
        yield KitPort(tmp_path / "kit", sim.host), authority, stranger


def nonce_of(port: KitPort) -> bytes:
    return p.parse_hello(port.handle(p.hello_request())).nonce


def refusal_code(answer: bytes) -> str:
    with pytest.raises(p.Refused) as refused:
        p.parse_hello(answer)
    return refused.value.code


def test_unsigned_request_is_refused(kit: tuple[KitPort, Authority, Authority]) -> None:
    port, _, _ = kit
    nonce = nonce_of(port)
    answer = port.handle(dumps({"v": 1, "op": p.PURGE}))
    assert refusal_code(answer) == p.UNSIGNED
    assert nonce_of(port) == nonce, "a refused request does not even spend the nonce"
    assert (port.data_dir / "records" / "kit.cert").exists()


def test_foreign_signed_purge_is_refused(kit: tuple[KitPort, Authority, Authority]) -> None:
    port, _, stranger = kit
    request = p.signed_request(p.PURGE, {}, nonce=nonce_of(port), authority=stranger)
    assert refusal_code(port.handle(request)) == p.BAD_SIGNATURE
    assert (port.data_dir / "kit" / "profile.cbor").exists() and port.host.store is not None


def test_replayed_request_is_refused(kit: tuple[KitPort, Authority, Authority]) -> None:
    port, authority, _ = kit
    request = p.signed_request(p.SET_TIME, {"time": 0}, nonce=nonce_of(port), authority=authority)
    assert port.handle(request) != port.handle(request)
    assert port.handled[-2:] == [("settime", "ok"), ("settime", p.STALE_NONCE)]
    audit = [kind for _, _, kind, _ in port.host.store.audit.entries()]
    assert audit.count("settime") == 1


def test_answers_are_signed_by_the_certified_kit_over_a_pty(
    kit: tuple[KitPort, Authority, Authority],
) -> None:
    port, authority, _ = kit
    with PtyPort(port) as pty, FramedPort(port=pty.port) as link:
        link.send(b"\xff not cbor")  # a frame whose payload is no request: refused, no harm
        assert refusal_code(link.receive(timeout=5.0)) == p.BAD_REQUEST
        client, hello, certificate = connect(link, authority)
        assert hello.kit_id == "K1" and certificate.kit_public == hello.public
        status = client.call(p.STATUS).result
        assert status["kit_id"] == "K1" and status["sealed"] == 0
        client.trust(bytes(32 * [1]))  # a tool expecting another key rejects the answer
        with pytest.raises(p.MessageError, match="not signed by the kit"):
            client.call(p.STATUS)


def test_an_answer_without_signed_bytes_names_what_to_do() -> None:
    unsigned = dumps({"v": p.PROTOCOL_VERSION, "ok": True, "result": {"kit_id": "K1"}})
    with pytest.raises(p.MessageError, match=r"no signed bytes: .* update its software"):
        p.parse_answer(unsigned, op=p.STATUS, nonce=bytes(16), kit_public=bytes(32))
