"""The provisioning protocol: requests and answers as CBOR maps, signed both ways.

Why signed both ways: the port is a cable anyone may plug into.  Every request but
``hello`` is a COSE_Sign1 by the authority's signing key and carries the kit's current
nonce, which the kit replaces after every accepted request, so a recorded session cannot
be played back and a stranger can neither flash, purge nor read a kit.  Every answer to a
signed request is a COSE_Sign1 by the kit's own key and repeats the request's nonce, so
the tool knows the answer came from the kit the authority certified, for this request.
Refusals are not signed: forging one gains an attacker nothing a pulled cable would not.

Why every message carries an id: a request the tool gave up on (a timeout, a killed
``jemput-prov``, a half frame the kit dropped late) may still be answered, and that answer
would otherwise be read as the answer to the next request.  The tool numbers each request
at random, the kit echoes the number in whatever it answers (refusals too), and the tool
drops answers to other numbers until its deadline.  The id is for matching only: what
binds a signed answer to its request is the nonce inside the signature.

This module is the envelope (versions, ids, signatures, nonces, refusals, receipts) and
the strict field reader; what each op carries is typed in `kitlink.messages`.  The
messages, the ops and their arguments are listed in docs/provisioning-protocol.md.  Both
ends use it: the tool (`provisioning.client.KitClient`) and the kit (`firmware.port`).
"""

from __future__ import annotations

import os
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any, Generic, NoReturn, TypeVar

from kitlink.framing import MAX_FRAME, LinkError
from storage.codec import Tampered, dumps, loads
from storage.cose import (
    HDR_CONTENT_TYPE,
    BadSignature,
    open_sign1,
    parse_sign1,
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
from storage.receipt import Receipt, ReceiptError, read_receipt

#: 2: every request carries an id that its answer echoes (version 1 had none).
PROTOCOL_VERSION = 2
NONCE_BYTES = 16
#: Seconds the tool waits for an answer (flash makes a key and writes files; selftest runs).
TIMEOUT = 30.0
#: Request ids are whole numbers in 0 .. REQUEST_ID_MAX, drawn at random for each request.
REQUEST_ID_MAX = 2**63 - 1
#: The highest record number or byte offset a message may name (records are numbered 1, 2, ...).
SEQ_MAX = 2**31 - 1
#: Bytes of a SHA-256 digest: a record's hash, a chain's head, a worklist's digest.
DIGEST_BYTES = 32
#: The longest text a field may hold (a name, an address, a device's verdict).
TEXT_MAX = 1_000

REQUEST_TYPE = "application/jemput-prov-request+cbor"
ANSWER_TYPE = "application/jemput-prov-answer+cbor"


class Op(StrEnum):
    """What a request asks of the kit; the value is the op's name on the wire."""

    HELLO = "hello"  # the only unsigned one
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
    #: The next round: its signed plan and its people (a committed worklist transfer).
    ROUND = "round"
    HANDOVER_KEY = "handover-key"
    HANDOVER = "handover"
    UPDATE_PART = "update-part"
    UPDATE = "update"


class Refusal(StrEnum):
    """Why the kit refused a request; the value is the refusal's ``code`` on the wire."""

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


class UnreadRequest(MessageError):
    """A request the kit cannot read; ``request_id`` is its id if that much could be read."""

    def __init__(self, message: str, *, request_id: int | None) -> None:
        super().__init__(message)
        self.request_id = request_id


class Refused(LinkError):
    """The kit refused a request; ``code`` says why."""

    def __init__(self, code: Refusal, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- fields ----------------------------------------------------------------------------------

#: The latest time a message may carry (seconds since 1970): 2200-01-01.
LATEST_SECONDS = 7_258_118_400


def seconds(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def moment(value: object, name: str = "time") -> datetime:
    """A message's time in seconds since 1970; MessageError if it is no whole second in range.

    Why strict: a peer's ``2**63`` or ``inf`` must be a refusal, not an OverflowError
    from ``datetime`` deep inside an answer.
    """
    return datetime.fromtimestamp(whole(value, name, low=0, high=LATEST_SECONDS), UTC)


def whole(value: object, name: str, *, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) in ``low .. high``; MessageError naming ``name``."""
    if type(value) is not int or not low <= value <= high:
        shown = reprlib.repr(value)
        raise MessageError(f"field {name!r} must be a whole number in {low}..{high}, not {shown}")
    return value


T = TypeVar("T")
E = TypeVar("E", bound=Enum)


def member_of(kind: type[E], value: object) -> E | None:
    """The member of ``kind`` whose value is ``value``, of the very same type (no 1.0 for 1,
    no list that would not hash), or None."""
    for member in kind:
        if type(value) is type(member.value) and value == member.value:
            return member
    return None


class Fields:
    """One map of a message, read field by field: each by its type and range.

    Why a reader: the kit must check every input from the port, and the tool every answer
    a broken or stolen kit may sign.  Each read names the field and what it must be.  Used
    as a context manager, it also refuses, on leaving the block, any field that was not
    read, so a misspelt or foreign field is never silently ignored::

        with Fields(data, "the list request") as fields:
            return ListArgs(fields.whole("from", low=0, high=SEQ_MAX), ...)

    Every error is a MessageError saying that ``what`` is malformed, and why.
    """

    def __init__(self, data: object, what: str) -> None:
        self._what = what
        if not isinstance(data, Mapping):
            self.fail(f"not a map but {reprlib.repr(data)}")
        self._data: Mapping[Any, Any] = data
        self._read: set[str] = set()

    def __enter__(self) -> Fields:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        unknown = [key for key in self._data if key not in self._read]
        if kind is None and unknown:
            self.fail(f"unknown field(s) {', '.join(reprlib.repr(key) for key in unknown)}")

    @property
    def data(self) -> Mapping[Any, Any]:
        """The map itself, for a codec that reads it once its fields are checked."""
        return self._data

    def fail(self, why: str) -> NoReturn:
        """Raise the MessageError for this map (also for checks between its fields)."""
        raise MessageError(f"{self._what} is malformed: {why}")

    def value(self, name: str) -> Any:
        """The field's value, whatever it is; MessageError if it is missing."""
        self._read.add(name)
        if name not in self._data:
            self.fail(f"field {name!r} is missing")
        return self._data[name]

    def present(self, name: str) -> bool:
        """Whether the map has the field (a field added to a message after kits and
        collections that lack it; its reader then takes the field's default)."""
        self._read.add(name)
        return name in self._data

    def maybe(self, name: str, read: Callable[[str], T]) -> T | None:
        """None if the field is null, else ``read`` of it (e.g. ``fields.text``)."""
        return None if self.value(name) is None else read(name)

    def converted(self, name: str, convert: Callable[[Any], T], *failures: type[Exception]) -> T:
        """``convert`` of the field's value; a MessageError, or any of ``failures``, it
        raises is the field's fault, named with the field."""
        value = self.value(name)
        caught: tuple[type[Exception], ...] = (MessageError, *failures)
        try:
            return convert(value)
        except caught as exc:
            self.fail(f"field {name!r}: {exc}")

    def whole(self, name: str, *, low: int, high: int) -> int:
        try:
            return whole(self.value(name), name, low=low, high=high)
        except MessageError as exc:
            self.fail(str(exc))

    def moment(self, name: str) -> datetime:
        try:
            return moment(self.value(name), name)
        except MessageError as exc:
            self.fail(str(exc))

    def flag(self, name: str) -> bool:
        value = self.value(name)
        if type(value) is not bool:
            self.fail(f"field {name!r} must be true or false, not {reprlib.repr(value)}")
        return value

    def text(self, name: str, *, most: int, least: int = 1) -> str:
        """A string of ``least`` .. ``most`` characters."""
        value = self.value(name)
        if not isinstance(value, str) or not least <= len(value) <= most:
            shown = reprlib.repr(value)
            self.fail(f"field {name!r} must be text of {least}..{most} characters, not {shown}")
        return value

    def raw(self, name: str, *, sizes: Sequence[int]) -> bytes:
        """A byte string whose length is one of ``sizes`` (a range or a few lengths)."""
        value = self.value(name)
        if not isinstance(value, bytes) or len(value) not in sizes:
            if isinstance(sizes, range) and len(sizes) > 1:
                lengths = f"{sizes[0]}..{sizes[-1]}"
            else:
                lengths = " or ".join(str(size) for size in sizes)
            self.fail(f"field {name!r} must be {lengths} bytes, not {reprlib.repr(value)}")
        return value

    def items(self, name: str, *, most: int) -> list[Any]:
        """A list of at most ``most`` items, each still to be checked."""
        value = self.value(name)
        if not isinstance(value, list | tuple) or len(value) > most:
            shown = reprlib.repr(value)
            self.fail(f"field {name!r} must be a list of at most {most} items, not {shown}")
        return list(value)


# -- envelopes -------------------------------------------------------------------------------


def decode_message(payload: bytes, what: str) -> Mapping[str, Any]:
    """A message map of this protocol version; MessageError saying what it is otherwise."""
    try:
        message = loads(payload, max_bytes=MAX_FRAME)
    except Tampered as exc:
        raise MessageError(f"{what} is not strict CBOR: {exc}") from exc
    if not isinstance(message, Mapping):
        raise MessageError(f"{what} is not a message map")
    if message.get("v") != PROTOCOL_VERSION:
        raise MessageError(
            f"{what} is of protocol version {reprlib.repr(message.get('v'))}, not "
            f"{PROTOCOL_VERSION}: the kit and jemput-prov run different releases; update the "
            "kit's software to this jemput-prov's release"
        )
    return message


def message_id(message: Mapping[str, Any]) -> int | None:
    """The message's request id, or None if it carries no valid one."""
    value = message.get("id")
    if type(value) is int and 0 <= value <= REQUEST_ID_MAX:
        return value
    return None


def new_request_id(rng: Callable[[int], bytes] = os.urandom) -> int:
    return int.from_bytes(rng(8), "big") & REQUEST_ID_MAX


# -- requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A request as the kit receives it, signature not yet checked (hello has none)."""

    request_id: int
    op: Op
    signed: bytes | None


def hello_request(request_id: int) -> bytes:
    return dumps({"v": PROTOCOL_VERSION, "id": request_id, "op": Op.HELLO.value})


def signed_request(
    op: Op, args: Mapping[str, Any], *, request_id: int, nonce: bytes, authority: Authority
) -> bytes:
    """A request for ``op`` signed by the authority, bound to the kit's current ``nonce``."""
    body = dumps({"op": op.value, "nonce": nonce, "args": dict(args)})
    signed = sign1(body, authority.signing_key, kid=authority.kid, content_type=REQUEST_TYPE)
    return dumps({"v": PROTOCOL_VERSION, "id": request_id, "op": op.value, "signed": signed})


def parse_request(payload: bytes) -> Request:
    """The request's id, op and signed bytes; UnreadRequest (with the id, if any) otherwise."""
    try:
        message = decode_message(payload, "request")
    except MessageError as exc:
        raise UnreadRequest(str(exc), request_id=None) from exc
    request_id = message_id(message)
    if request_id is None:
        raise UnreadRequest(
            f"request carries no id in 0..{REQUEST_ID_MAX}: update jemput-prov", request_id=None
        )
    op, signed = member_of(Op, message.get("op")), message.get("signed")
    if op is None:
        raise UnreadRequest(
            f"unknown op {reprlib.repr(message.get('op'))}; this kit knows {', '.join(Op)}",
            request_id=request_id,
        )
    if signed is not None and not isinstance(signed, bytes):
        raise UnreadRequest("request field 'signed' is not a byte string", request_id=request_id)
    return Request(request_id, op, signed)


def claimed_args(request: Request) -> Mapping[str, Any]:
    """The arguments a signed request claims, its signature NOT checked.

    Only for trust on first use: a kit never flashed learns from ``keygen`` which
    authority to check that very request's signature against.  Refused (UNSIGNED) if
    they cannot be read.
    """
    try:
        body = loads(parse_sign1(request.signed or b"").payload)
        args = body["args"]
    except (Tampered, KeyError, TypeError) as exc:
        raise Refused(Refusal.UNSIGNED, f"{request.op} names no authority to check: {exc}") from exc
    if not isinstance(args, Mapping):
        raise Refused(Refusal.UNSIGNED, f"{request.op} names no authority to check")
    return args


def open_request(request: Request, trusted: AuthorityPublic, *, nonce: bytes) -> dict[str, Any]:
    """The arguments of a signed request, once signature, op and nonce check out.

    Raises Refused with UNSIGNED, BAD_SIGNATURE, STALE_NONCE or BAD_REQUEST.
    """
    if request.signed is None:
        raise Refused(Refusal.UNSIGNED, f"{request.op} must be signed by the authority")
    try:
        msg = open_sign1(request.signed, trusted.sign_public, kid=trusted.kid)
    except Tampered as exc:
        raise Refused(
            Refusal.BAD_SIGNATURE, f"{request.op}: the signature does not decode: {exc}"
        ) from exc
    except BadSignature as exc:
        raise Refused(
            Refusal.BAD_SIGNATURE,
            f"{request.op} is not signed by authority {trusted.name!r} ({trusted.kid.hex()}): "
            "use the authority folder this kit was flashed with",
        ) from exc
    try:
        body = loads(msg.payload)
    except Tampered as exc:
        raise Refused(Refusal.BAD_REQUEST, f"{request.op}: signed body is not strict CBOR") from exc
    if (
        msg.protected.get(HDR_CONTENT_TYPE) != REQUEST_TYPE
        or not isinstance(body, Mapping)
        or body.get("op") != request.op
        or not isinstance(body.get("args"), Mapping)
    ):
        raise Refused(Refusal.BAD_REQUEST, f"{request.op}: the signed body is not a request for it")
    if body.get("nonce") != nonce:
        raise Refused(
            Refusal.STALE_NONCE,
            f"{request.op} carries an old nonce: a replayed or late request; say hello again",
        )
    return dict(body["args"])


# -- answers ---------------------------------------------------------------------------------


def hello_answer(request_id: int, hello: Mapping[str, Any]) -> bytes:
    return dumps({"v": PROTOCOL_VERSION, "id": request_id, "ok": True, "hello": dict(hello)})


def signed_answer(
    request_id: int,
    op: Op,
    result: Mapping[str, Any],
    *,
    nonce: bytes,
    next_nonce: bytes,
    key: KitSigner,
) -> bytes:
    """The kit's answer to a signed request: its result, signed by the kit's key."""
    body = dumps({"op": op.value, "nonce": nonce, "next": next_nonce, "result": dict(result)})
    signed = sign1(body, key, kid=key.kid, content_type=ANSWER_TYPE)
    return dumps({"v": PROTOCOL_VERSION, "id": request_id, "ok": True, "signed": signed})


#: The longest refusal message sent: a message quoting a peer's field stays one small frame.
REFUSAL_CHARS = 1000


def refusal(
    request_id: int | None, code: Refusal, message: str, *, next_nonce: bytes | None = None
) -> bytes:
    """A refusal of request ``request_id`` (None: a request whose id could not be read)."""
    if len(message) > REFUSAL_CHARS:
        message = message[: REFUSAL_CHARS - 3] + "..."
    return dumps(
        {
            "v": PROTOCOL_VERSION,
            "id": request_id,
            "ok": False,
            "code": code.value,
            "message": message,
            "next": next_nonce,
        }
    )


def check_refusal(message: Mapping[str, Any]) -> None:
    """Refused if the kit refused; MessageError if it refused with a code this tool lacks."""
    if message.get("ok") is True:
        return
    code, said = member_of(Refusal, message.get("code")), message.get("message")
    if code is None:
        raise MessageError(
            f"the kit refused with code {reprlib.repr(message.get('code'))}, which this "
            f"jemput-prov does not know ({reprlib.repr(said)}): update jemput-prov to the "
            "kit's release"
        )
    raise Refused(code, f"the kit refused: {said}")


R = TypeVar("R")


@dataclass(frozen=True)
class Answer(Generic[R]):
    """A verified answer: its result, the next nonce, and the signed bytes as received."""

    result: R
    next_nonce: bytes
    signed: bytes


def _verified_body(signed: Any, *, op: Op, kit_public: bytes) -> Mapping[str, Any]:
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


def signed_bytes(message: Mapping[str, Any], op: Op) -> bytes:
    """The signed bytes of an answer that is not a refusal (checked with `check_refusal`)."""
    signed = message.get("signed")
    if not isinstance(signed, bytes):
        raise MessageError(
            f"{op} answer carries no signed bytes: the kit runs another protocol; update its "
            "software to this jemput-prov's release, then run the command again"
        )
    return signed


def claimed_result(message: Mapping[str, Any], op: Op) -> Mapping[str, Any]:
    """The result a signed answer claims, its signature NOT checked.

    Only for keygen: its answer is signed by the key it announces, so the tool reads the
    key here and then checks the answer against it (`verified_answer`).
    """
    try:
        result = loads(parse_sign1(signed_bytes(message, op)).payload)["result"]
    except (Tampered, KeyError, TypeError) as exc:
        raise MessageError(f"{op} answer is malformed: {exc}") from exc
    if not isinstance(result, Mapping):
        raise MessageError(f"{op} answer is malformed: its result is not a map")
    return result


def verified_answer(
    message: Mapping[str, Any], *, op: Op, nonce: bytes, kit_public: bytes
) -> Answer[Mapping[str, Any]]:
    """Check that the kit holding ``kit_public`` answered this request; Refused on refusal."""
    check_refusal(message)
    signed = signed_bytes(message, op)
    body = _verified_body(signed, op=op, kit_public=kit_public)  # checks its result and next
    if body.get("nonce") != nonce:
        raise MessageError(f"{op} answer does not answer this request (op or nonce differ)")
    return Answer(body["result"], body["next"], signed)


def kept_result(signed: Any, *, op: Op, kit_public: bytes) -> Mapping[str, Any]:
    """The result of a signed answer kept by the collector, its signature checked again."""
    result: Mapping[str, Any] = _verified_body(signed, op=op, kit_public=kit_public)["result"]
    return result


# -- receipts --------------------------------------------------------------------------------


def verify_receipt(data: bytes, authority: AuthorityPublic, *, kit_id: str) -> Receipt:
    """A receipt signed by ``authority`` for ``kit_id`` (`storage.receipt`, where the kit
    checks the ones it keeps); MessageError otherwise, as for any message."""
    try:
        return read_receipt(data, authority, kit_id=kit_id)
    except ReceiptError as exc:
        raise MessageError(str(exc)) from exc


def new_nonce(rng: Callable[[int], bytes] = os.urandom) -> bytes:
    return rng(NONCE_BYTES)
