"""The provisioning protocol: requests and answers as CBOR maps, signed both ways.

Why signed both ways: the port is a cable anyone may plug into.  Every request but
``hello`` is a COSE_Sign1 by the authority's signing key and carries the kit's current
nonce, which the kit replaces after every accepted request, so a recorded session cannot
be played back and a stranger can neither flash, purge nor read a kit.  Every answer to a
signed request is a COSE_Sign1 by the kit's own key and repeats the request's nonce, so
the tool knows the answer came from the kit the authority certified, for this request.
Refusals are not signed: forging one gains an attacker nothing a pulled cable would not.

The messages, the ops and their arguments are listed in docs/provisioning-protocol.md.
Both ends use this module: the tool (`provisioning.client.KitClient`) and the kit
(`firmware.port`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kitlink.framing import MAX_FRAME, LinkError
from storage import profile as profile_codec
from storage.codec import Tampered, dumps, loads
from storage.cose import (
    HDR_CONTENT_TYPE,
    BadSignature,
    open_sign1,
    sign1,
)
from storage.errors import KeyFileError
from storage.keys import (
    Authority,
    AuthorityPublic,
    KitSigner,
    kid_of,
    kit_public_key,
)
from storage.model import Resident
from storage.profile import resident_from_map, resident_to_map
from storage.provision import KitSetup

PROTOCOL_VERSION = 1
NONCE_BYTES = 16
#: Record bytes per ``get``: a frame stays well under MAX_FRAME with the map around it.
CHUNK = 64 * 1024
#: Records per ``list`` answer.
LIST_MAX = 500
#: Seconds the tool waits for an answer (flash makes a key and writes files; selftest runs).
TIMEOUT = 30.0

REQUEST_TYPE = "application/jemput-prov-request+cbor"
ANSWER_TYPE = "application/jemput-prov-answer+cbor"
RECEIPT_TYPE = "application/jemput-receipt+cbor"

# ops: hello is the only unsigned one
HELLO = "hello"
KEYGEN = "keygen"
FLASH = "flash"
SET_TIME = "settime"
STATUS = "status"
SELFTEST = "selftest"
LIST = "list"
GET = "get"
LEDGER = "ledger"
RECEIPT = "receipt"
PURGE = "purge"
WORKLIST_PART = "worklist-part"
WORKLIST_COMMIT = "worklist-commit"
OPS = (
    HELLO, KEYGEN, FLASH, SET_TIME, STATUS, SELFTEST, LIST, GET, LEDGER, RECEIPT, PURGE,
    WORKLIST_PART, WORKLIST_COMMIT,
)  # fmt: skip
#: Bytes of a worklist transfer's id (random, made by the tool).
TRANSFER_BYTES = 16
#: Residents per ``worklist-part``: about 370 bytes each, so a part stays under MAX_FRAME.
PART_RESIDENTS = 400

# refusal codes
UNSIGNED = "unsigned"
BAD_SIGNATURE = "bad-signature"
STALE_NONCE = "stale-nonce"
NOT_PROVISIONED = "not-provisioned"
UNCOLLECTED = "uncollected"
BAD_REQUEST = "bad-request"
FAILED = "failed"
#: The kit cannot do it now (an enrolment in progress, a device at work): try again later.
BUSY = "busy"


class MessageError(LinkError, ValueError):
    """A message that decodes but is not what the protocol allows, or fails its signature."""


class Refused(LinkError):
    """The kit refused a request; ``code`` says why (one of the refusal codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Hello:
    """What a kit says about itself before anyone proves who they are."""

    provisioned: bool
    kit_id: str | None
    demo: bool
    nonce: bytes
    head_seq: int
    head_hash: bytes | None
    uncollected: int
    public: bytes | None
    certificate: bytes | None


@dataclass(frozen=True)
class Receipt:
    """A collector's signed statement that it holds a kit's records up to ``seq``."""

    kit_id: str
    seq: int
    head: bytes
    at: datetime


#: The latest time a message may carry (seconds since 1970): 2200-01-01.
LATEST_SECONDS = 7_258_118_400


def seconds(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def moment(value: object) -> datetime:
    """A message's time in seconds since 1970; MessageError if it is no whole second in range.

    Why strict: a peer's ``2**63`` or ``inf`` must be a refusal, not an OverflowError
    from ``datetime`` deep inside an answer.
    """
    return datetime.fromtimestamp(whole(value, "time", low=0, high=LATEST_SECONDS), UTC)


def whole(value: object, name: str, *, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) in ``low .. high``; MessageError naming ``name``."""
    if type(value) is not int or not low <= value <= high:
        shown = reprlib.repr(value)
        raise MessageError(f"field {name!r} must be a whole number in {low}..{high}, not {shown}")
    return value


def decode_message(payload: bytes, what: str) -> Mapping[str, Any]:
    try:
        message = loads(payload, max_bytes=MAX_FRAME)
    except Tampered as exc:
        raise MessageError(f"{what} is not strict CBOR: {exc}") from exc
    if not isinstance(message, Mapping) or message.get("v") != PROTOCOL_VERSION:
        raise MessageError(f"{what} is not a version {PROTOCOL_VERSION} message map")
    return message


# -- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A request as the kit receives it, signature not yet checked (hello has none)."""

    op: str
    signed: bytes | None


def hello_request() -> bytes:
    return dumps({"v": PROTOCOL_VERSION, "op": HELLO})


def signed_request(
    op: str, args: Mapping[str, Any], *, nonce: bytes, authority: Authority
) -> bytes:
    """A request for ``op`` signed by the authority, bound to the kit's current ``nonce``."""
    body = dumps({"op": op, "nonce": nonce, "args": dict(args)})
    signed = sign1(body, authority.signing_key, kid=authority.kid, content_type=REQUEST_TYPE)
    return dumps({"v": PROTOCOL_VERSION, "op": op, "signed": signed})


def parse_request(payload: bytes) -> Request:
    message = decode_message(payload, "request")
    op, signed = message.get("op"), message.get("signed")
    if op not in OPS:
        raise MessageError(f"unknown op {op!r}; this kit knows {', '.join(OPS)}")
    if signed is not None and not isinstance(signed, bytes):
        raise MessageError("request field 'signed' is not a byte string")
    return Request(op, signed)


def open_request(request: Request, trusted: AuthorityPublic, *, nonce: bytes) -> dict[str, Any]:
    """The arguments of a signed request, once signature, op and nonce check out.

    Raises Refused with UNSIGNED, BAD_SIGNATURE, STALE_NONCE or BAD_REQUEST.
    """
    if request.signed is None:
        raise Refused(UNSIGNED, f"{request.op} must be signed by the authority")
    try:
        msg = open_sign1(request.signed, trusted.sign_public, kid=trusted.kid)
    except Tampered as exc:
        raise Refused(BAD_SIGNATURE, f"{request.op}: the signature does not decode: {exc}") from exc
    except BadSignature as exc:
        raise Refused(
            BAD_SIGNATURE,
            f"{request.op} is not signed by authority {trusted.name!r} ({trusted.kid.hex()}): "
            "use the authority folder this kit was flashed with",
        ) from exc
    try:
        body = loads(msg.payload)
    except Tampered as exc:
        raise Refused(BAD_REQUEST, f"{request.op}: signed body is not strict CBOR") from exc
    if (
        msg.protected.get(HDR_CONTENT_TYPE) != REQUEST_TYPE
        or not isinstance(body, Mapping)
        or body.get("op") != request.op
        or not isinstance(body.get("args"), Mapping)
    ):
        raise Refused(BAD_REQUEST, f"{request.op}: the signed body is not a request for it")
    if body.get("nonce") != nonce:
        raise Refused(
            STALE_NONCE,
            f"{request.op} carries an old nonce: a replayed or late request; say hello again",
        )
    return dict(body["args"])


# -- answers ---------------------------------------------------------------------------------


def hello_answer(hello: Hello) -> bytes:
    fields = dataclasses.asdict(hello)
    return dumps({"v": PROTOCOL_VERSION, "ok": True, "hello": fields})


def signed_answer(
    op: str, result: Mapping[str, Any], *, nonce: bytes, next_nonce: bytes, key: KitSigner
) -> bytes:
    """The kit's answer to a signed request: its result, signed by the kit's key."""
    body = dumps({"op": op, "nonce": nonce, "next": next_nonce, "result": dict(result)})
    signed = sign1(body, key, kid=key.kid, content_type=ANSWER_TYPE)
    return dumps({"v": PROTOCOL_VERSION, "ok": True, "signed": signed})


#: The longest refusal message sent: a message quoting a peer's field stays one small frame.
REFUSAL_CHARS = 1000


def refusal(code: str, message: str, *, next_nonce: bytes | None = None) -> bytes:
    if len(message) > REFUSAL_CHARS:
        message = message[: REFUSAL_CHARS - 3] + "..."
    return dumps(
        {"v": PROTOCOL_VERSION, "ok": False, "code": code, "message": message, "next": next_nonce}
    )


def check_refusal(message: Mapping[str, Any]) -> None:
    if message.get("ok") is not True:
        raise Refused(str(message.get("code")), f"the kit refused: {message.get('message')}")


def parse_hello(payload: bytes) -> Hello:
    message = decode_message(payload, "hello answer")
    check_refusal(message)
    try:
        hello = Hello(**message["hello"])
    except (KeyError, TypeError) as exc:
        raise MessageError(f"hello answer is malformed: {exc}") from exc
    if not isinstance(hello.nonce, bytes) or len(hello.nonce) != NONCE_BYTES:
        raise MessageError("hello answer carries no valid nonce")
    return hello


@dataclass(frozen=True)
class Answer:
    """A verified answer: its result, the next nonce, and the signed bytes as received."""

    result: dict[str, Any]
    next_nonce: bytes
    signed: bytes


def _verified_body(signed: Any, *, op: str, kit_public: bytes) -> Mapping[str, Any]:
    """The body of an answer signed by the kit holding ``kit_public``, for ``op``."""
    try:
        msg = open_sign1(signed, kit_public_key(kit_public), kid=kid_of(kit_public))
        body = loads(msg.payload)
    except (Tampered, BadSignature, KeyFileError, TypeError) as exc:
        raise MessageError(
            f"{op} answer is not signed by the kit's certified key: another device on the "
            f"port, or altered on the way ({exc})"
        ) from exc
    if (
        msg.protected.get(HDR_CONTENT_TYPE) != ANSWER_TYPE
        or not isinstance(body, Mapping)
        or body.get("op") != op
        or not isinstance(body.get("next"), bytes)
        or not isinstance(body.get("result"), Mapping)
    ):
        raise MessageError(f"{op} answer does not answer this request (op or nonce differ)")
    return body


def parse_answer(payload: bytes, *, op: str, nonce: bytes, kit_public: bytes) -> Answer:
    """Check that the kit holding ``kit_public`` answered this request; Refused on refusal."""
    message = decode_message(payload, f"{op} answer")
    check_refusal(message)
    signed = message.get("signed")
    if not isinstance(signed, bytes):
        raise MessageError(
            f"{op} answer carries no signed bytes: the kit runs another protocol; update its "
            "software to this jemput-prov's release, then run the command again"
        )
    body = _verified_body(signed, op=op, kit_public=kit_public)  # checks its result and next
    if body.get("nonce") != nonce:
        raise MessageError(f"{op} answer does not answer this request (op or nonce differ)")
    return Answer(dict(body["result"]), body["next"], signed)


def kept_answer(signed: Any, *, op: str, kit_public: bytes) -> dict[str, Any]:
    """The result of a signed answer kept by the collector, its signature checked again."""
    return dict(_verified_body(signed, op=op, kit_public=kit_public)["result"])


# -- receipts --------------------------------------------------------------------------------


def make_receipt(
    authority: Authority, *, kit_id: str, seq: int, head: bytes, at: datetime
) -> bytes:
    body = dumps({"kit": kit_id, "seq": seq, "head": head, "at": seconds(at)})
    return sign1(body, authority.signing_key, kid=authority.kid, content_type=RECEIPT_TYPE)


def verify_receipt(data: bytes, authority: AuthorityPublic, *, kit_id: str) -> Receipt:
    """A receipt signed by ``authority`` for ``kit_id``; MessageError otherwise."""
    try:
        msg = open_sign1(data, authority.sign_public, kid=authority.kid)
        body = loads(msg.payload)
        receipt = Receipt(body["kit"], body["seq"], body["head"], moment(body["at"]))
    except (Tampered, BadSignature, KeyError, TypeError) as exc:
        raise MessageError(f"receipt is not signed by authority {authority.name!r}: {exc}") from exc
    if msg.protected.get(HDR_CONTENT_TYPE) != RECEIPT_TYPE or receipt.kit_id != kit_id:
        raise MessageError(f"receipt is for kit {receipt.kit_id!r}, not {kit_id!r}")
    return receipt


# -- what flash carries: officers and policy in the kit profile's own codec ------------------

officer_to_map = profile_codec.officer_to_map
officer_from_map = profile_codec.officer_from_map
policy_to_map = profile_codec.policy_to_map
policy_from_map = profile_codec.policy_from_map


def setup_to_map(setup: KitSetup) -> dict[str, Any]:
    """The fields of a flash request that say who the kit is and what it is given."""
    return {
        "kit_id": setup.kit_id,
        "region": setup.region,
        "officers": [officer_to_map(officer) for officer in setup.officers],
        "worklist": [resident_to_map(resident) for resident in setup.worklist],
        "policy": policy_to_map(setup.policy),
        "cards": setup.cards,
    }


def worklist_digest(residents: Sequence[Mapping[str, Any]]) -> bytes:
    """SHA-256 of a worklist as resident maps in canonical CBOR: what a commit compares."""
    return hashlib.sha256(dumps(list(residents))).digest()


def setup_from_map(
    data: Mapping[str, Any], *, worklist: tuple[Resident, ...] | None = None
) -> KitSetup:
    """A flash request's setup, as the kit reads it (KeyError, TypeError, ValueError if bad).

    ``worklist``, when given, is the one a chunked transfer committed; the request's own
    ``worklist`` field is then ignored.
    """
    return KitSetup(
        kit_id=data["kit_id"],
        region=data["region"],
        officers=tuple(officer_from_map(o) for o in data["officers"]),
        worklist=worklist
        if worklist is not None
        else tuple(resident_from_map(dict(r)) for r in data["worklist"]),
        policy=policy_from_map(data["policy"]),
        cards=int(data.get("cards", 0)),
    )


def new_nonce(rng: Callable[[int], bytes] = os.urandom) -> bytes:
    return rng(NONCE_BYTES)
