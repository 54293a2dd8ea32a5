"""Each op's arguments and result survive the wire, and a map that is not one is refused
field by field: the kit reads every request, and the tool every answer, this way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kitlink import messages as m
from kitlink import protocol as p
from kitlink.framing import MAX_FRAME
from kitlink.protocol import Op
from kitlink.release import Version
from simulator.kit import demo_world, resident_of
from storage.blanks import SerialRange
from storage.codec import dumps, loads
from storage.cose import SignAlg
from storage.handover import HandoverEvent, HandoverKind, Proof
from storage.keys import Authority, KeyBackend
from storage.kitkey import create_kit_key
from storage.model import Policy
from storage.officers import make_officer
from vocabulary.people import Role

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
HASH = bytes(range(32))
OFFICER = {
    "id": "PTG-001",
    "name": "Siti",
    "role": "officer",
    "salt": b"s",
    "hash": b"h",
    "pages": [0],
}


def samples(authority: Authority) -> list[Any]:
    """One well-formed value of every op's arguments and result."""
    resident = resident_of(demo_world(1).residents[0])
    officer = make_officer("PTG-001", "Siti", Role.OFFICER, "123456", finger_pages=(0,))
    return [
        m.Hello(True, "K1", False, bytes(16), 2, HASH, 2, bytes(32), b"cert"),
        m.KeygenArgs(authority.public),
        m.KeygenResult(bytes(65), SignAlg.ES256, KeyBackend.TPM),
        m.FlashArgs(
            authority=authority.public,
            kit_id="K1",
            region="3505",
            officers=(officer,),
            policy=Policy(),
            cards=(SerialRange("B3505-25A", 1, 20),),
            worklist_transfer=bytes(16),
            cert=b"cert",
            time=NOW,
            reference_key=bytes(32),
            profile_signature=b"signature",
        ),
        m.FlashResult("K1", NOW),
        m.WorklistPartArgs(bytes(16), 1, 3, (resident,)),
        m.WorklistPartResult(401),
        m.WorklistCommitArgs(bytes(16), 3, 801, HASH),
        m.WorklistCommitResult(801),
        m.SetTimeArgs(NOW),
        m.SetTimeResult(NOW),
        m.StatusArgs(),
        m.StatusResult(
            "K1",
            False,
            3,
            1,
            3,
            {"loaded": 20},
            ("00000002.cose",),
            None,
            True,
            NOW,
            m.SoftwareStatus(
                "1.2.0",
                m.Slot.B,
                False,
                "1.1.0",
                Version(1, 1, 0),
                m.UpdateReport(m.UpdateOutcome.ROLLED_BACK, "1.3.0", NOW, "self-test failed"),
            ),
            m.BatteryStatus(82, 3950, -7),
        ),
        m.SelftestArgs(),
        m.SelftestResult((m.Verdict("camera", True, "ok", ""),)),
        m.ListArgs(1, 500),
        m.ListResult(((1, 900), (2, 1200))),
        m.GetArgs(1, 0, m.GET_MAX),
        m.GetResult(1, 0, 900, b"x" * 900),
        m.LedgerArgs(),
        m.LedgerResult(
            "K1",
            m.Head(2, HASH),
            {"loaded": 20, "printed": 1},
            ((1, "B3505-25A-0000001"),),
            (m.AuditLine(1, NOW.isoformat(), "provisioned", "{}"),),
            True,
            NOW,
            ranges=(SerialRange("B3505-25A", 1, 20),),
            spoiled=((2, "B3505-25A-0000002"),),
            begun=((3, "B3505-25A-0000003"),),
            handovers=(
                HandoverEvent(HandoverKind.ACKNOWLEDGED, "BA-1", NOW, by="KDS-001", how=Proof.PIN),
                HandoverEvent(HandoverKind.RECEIVED, "BA-1", NOW, HASH, 4, how=Proof.FINGER),
            ),
        ),
        m.HandoverKeyArgs(),
        m.HandoverKeyResult(bytes(32)),
        m.HandoverArgs(b"sealed"),
        m.HandoverResult("BA-1", 12),
        m.ReceiptArgs(b"receipt"),
        m.ReceiptResult(2, 0),
        m.PurgeArgs(),
        m.PurgeResult(True),
        m.UpdatePartArgs(bytes(16), m.CHUNK, b"bundle"),
        m.UpdatePartResult(m.CHUNK + 6),
        m.UpdateArgs(bytes(16), m.CHUNK + 6, HASH, Version(1, 2, 0), None),
        m.UpdateResult("1.2.0", m.Slot.B, "1.1.0", True),
    ]


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority.init(tmp_path_factory.mktemp("authority"), name="Dukcapil")


def test_every_message_survives_the_wire(authority: Authority) -> None:
    for sample in samples(authority):
        assert type(sample).from_map(loads(dumps(sample.to_map()))) == sample


def test_the_longest_get_answer_is_one_frame_and_a_longer_get_is_refused(
    authority: Authority, tmp_path: Path
) -> None:
    """A kit's signed answer to a get of GET_MAX bytes still fits a frame (it goes out as
    one); a get of a byte more, asked or answered, is malformed and named."""
    key = create_kit_key(tmp_path, KeyBackend.FILE)
    result = m.GetResult(1, 0, m.GET_MAX + 9, bytes(m.GET_MAX))
    answer = p.signed_answer(
        7,
        Op.GET,
        result.to_map(),
        nonce=bytes(p.NONCE_BYTES),
        next_nonce=bytes(p.NONCE_BYTES),
        key=key,
    )
    assert len(answer) <= MAX_FRAME
    verified = p.verified_answer(
        p.decode_message(answer, "get answer"),
        op=Op.GET,
        nonce=bytes(p.NONCE_BYTES),
        kit_public=key.public_bytes,
    )
    assert m.GetResult.from_map(verified.result) == result
    with pytest.raises(p.MessageError, match="'length' must be"):
        m.GetArgs.from_map({"seq": 1, "offset": 0, "length": m.GET_MAX + 1})
    longer = {**result.to_map(), "data": bytes(m.GET_MAX + 1)}
    with pytest.raises(p.MessageError, match="'data' must be"):
        m.GetResult.from_map(longer)


def test_a_field_of_the_wrong_type_is_refused_by_name(authority: Authority) -> None:
    """A float is no field's value anywhere: each field replaced by one is named."""
    for sample in samples(authority):
        wire = sample.to_map()
        for name in wire:
            with pytest.raises(p.MessageError, match=f"malformed: .*{name}"):
                type(sample).from_map({**wire, name: 1.5})


def test_a_missing_or_unknown_field_is_refused(authority: Authority) -> None:
    for sample in samples(authority):
        wire = sample.to_map()
        with pytest.raises(p.MessageError, match=r"unknown field.*'extra'"):
            type(sample).from_map({**wire, "extra": 1})
        for name in set(wire) - set(getattr(type(sample), "ADDED_LATER", ())):
            with pytest.raises(p.MessageError, match=f"field '{name}' is missing"):
                type(sample).from_map({key: value for key, value in wire.items() if key != name})


def test_a_status_of_the_release_before_reads_without_its_battery(authority: Authority) -> None:
    status = next(sample for sample in samples(authority) if isinstance(sample, m.StatusResult))
    wire = {key: value for key, value in status.to_map().items() if key != "battery"}
    assert m.StatusResult.from_map(wire).battery is None
    with pytest.raises(p.MessageError, match=r"field 'percent' must be a whole number in 0\.\.100"):
        m.StatusResult.from_map({**wire, "battery": {"percent": 101, "millivolts": 1, "rate": 0}})


def test_a_ledger_signed_before_serial_ranges_reads_them_as_empty(authority: Authority) -> None:
    ledger = next(sample for sample in samples(authority) if isinstance(sample, m.LedgerResult))
    wire = ledger.to_map()
    before = {key: value for key, value in wire.items() if key not in m.LedgerResult.ADDED_LATER}
    read = m.LedgerResult.from_map(before)
    assert (read.ranges, read.spoiled, read.begun) == ((), (), ())
    assert read.printed == ledger.printed


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"cards": [["b-lower", 1, 2]]}, "batch 'b-lower'"),
        ({"cards": [["B1", 5, 2]]}, "first before last"),
        ({"cards": [["B1", 1, 5], ["B1", 5, 9]]}, "overlap"),
        ({"time": True}, "whole number"),
        ({"time": 2**63}, "whole number"),
        ({"reference_key": b""}, "no reference key"),
        ({"kit_id": "../etc"}, "kit id"),
        ({"authority": b"\xa0"}, "authority public key data is malformed"),
        ({"policy": {"finger_retries": -1}}, r"finger_retries = -1: allowed"),
        ({"policy": {1: 2}}, "not a map of keys to values"),
        ({"officers": [{**OFFICER, "pages": [500]}]}, "sensor_library_pages = 200: allowed 501"),
        ({"officers": [{**OFFICER, "role": "boss"}]}, "officer 0 is malformed: 'boss'"),
    ],
)
def test_a_flash_that_cannot_be_names_why(
    authority: Authority, change: dict[str, Any], said: str
) -> None:
    flash = next(sample for sample in samples(authority) if isinstance(sample, m.FlashArgs))
    with pytest.raises(p.MessageError, match=said):
        m.FlashArgs.from_map({**flash.to_map(), **change})


def test_a_refusal_code_this_tool_does_not_know_is_named() -> None:
    refusal = {"v": p.PROTOCOL_VERSION, "id": 1, "ok": False, "code": "later", "message": "m"}
    with pytest.raises(p.MessageError, match="code 'later', which this jemput-prov"):
        p.check_refusal(refusal)
    with pytest.raises(p.Refused) as refused:
        p.check_refusal({**refusal, "code": p.Refusal.BUSY.value})
    assert refused.value.code is p.Refusal.BUSY


def test_a_message_of_another_version_says_so() -> None:
    with pytest.raises(p.MessageError, match=r"protocol version 1, not 2: .* update"):
        p.decode_message(dumps({"v": 1, "ok": True}), "status answer")
