"""The kit's port refuses what the authority did not sign for this moment, and changes nothing."""

from __future__ import annotations

import pytest

from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from kitlink import messages as m
from kitlink import protocol as p
from kitlink.framing import FramedPort
from kitlink.protocol import Op, Refusal
from provisioning.collect import connect
from storage.codec import dumps
from storage.keys import Authority


def nonce_of(port: KitPort) -> bytes:
    return m.hello_of(p.decode_message(port.handle(p.hello_request(1)), "hello answer")).nonce


def refusal_code(answer: bytes) -> Refusal:
    with pytest.raises(p.Refused) as refused:
        m.hello_of(p.decode_message(answer, "answer"))
    return refused.value.code


def test_unsigned_request_is_refused(kit: tuple[KitPort, Authority, Authority]) -> None:
    port, _, _ = kit
    nonce = nonce_of(port)
    answer = port.handle(dumps({"v": p.PROTOCOL_VERSION, "id": 1, "op": Op.PURGE.value}))
    assert refusal_code(answer) == Refusal.UNSIGNED
    assert nonce_of(port) == nonce, "a refused request does not even spend the nonce"
    assert (port.data_dir / "records" / "kit.cert").exists()


def test_foreign_signed_purge_is_refused(kit: tuple[KitPort, Authority, Authority]) -> None:
    port, _, stranger = kit
    request = p.signed_request(Op.PURGE, {}, request_id=1, nonce=nonce_of(port), authority=stranger)
    assert refusal_code(port.handle(request)) == Refusal.BAD_SIGNATURE
    assert (port.data_dir / "kit" / "profile.cbor").exists() and port.host.store is not None


def test_replayed_request_is_refused(kit: tuple[KitPort, Authority, Authority]) -> None:
    port, authority, _ = kit
    request = p.signed_request(
        Op.SET_TIME, {"time": 0}, request_id=1, nonce=nonce_of(port), authority=authority
    )
    assert port.handle(request) != port.handle(request)
    assert port.handled[-2:] == [("settime", "ok"), ("settime", Refusal.STALE_NONCE)]
    audit = [kind for _, _, kind, _ in port.host.store.audit.entries()]
    assert audit.count("settime") == 1


def test_answers_are_signed_by_the_certified_kit_over_a_pty(
    kit: tuple[KitPort, Authority, Authority],
) -> None:
    port, authority, _ = kit
    with PtyPort(port) as pty, FramedPort(port=pty.port) as link:
        link.send(b"\xff not cbor")  # a frame whose payload is no request: refused, no harm
        assert refusal_code(link.receive(timeout=5.0)) == Refusal.BAD_REQUEST
        client, hello, certificate = connect(link, authority)
        assert hello.kit_id == "K1" and certificate.kit_public == hello.public
        status = client.call(m.StatusArgs()).result
        assert status.kit_id == "K1" and status.sealed == 0
        client.trust(bytes(32 * [1]))  # a tool expecting another key rejects the answer
        with pytest.raises(p.MessageError, match="not signed by the kit"):
            client.call(m.StatusArgs())


def test_an_answer_without_signed_bytes_names_what_to_do() -> None:
    unsigned = dumps({"v": p.PROTOCOL_VERSION, "ok": True, "result": {"kit_id": "K1"}})
    with pytest.raises(p.MessageError, match=r"no signed bytes: .* update its software"):
        p.verified_answer(
            p.decode_message(unsigned, "answer"),
            op=Op.STATUS,
            nonce=bytes(16),
            kit_public=bytes(32),
        )
