"""The tool's side of the provisioning port: one kit, signed requests, verified answers.

The messages themselves are the link's (`kitlink.protocol`, `kitlink.messages`), shared
with the kit's responder; what only the tool does lives here: keeping the nonce between
calls, trusting the certified key, and numbering each request so that an answer to
another one (a request given up after a timeout, or sent by another tool) is dropped
rather than taken for this one's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, TypeVar

from kitlink import protocol as p
from kitlink.framing import FramedPort, LinkTimeout
from kitlink.messages import Call, Hello, KeygenArgs, KeygenResult, hello_of
from kitlink.protocol import Answer, MessageError, Op
from storage.keys import Authority

log = logging.getLogger(__name__)

R = TypeVar("R")


class KitClient:
    """Talks to one kit over a FramedPort, signing each request with the authority's key.

    Answers are checked against ``kit_public``: set it with `trust` from the kit's
    certificate (verified against the authority), or it is set by `keygen`.  Each answer
    is awaited for ``timeout`` seconds (`kitlink.protocol.TIMEOUT` unless given).
    """

    def __init__(
        self, port: FramedPort, authority: Authority, *, timeout: float | None = None
    ) -> None:
        self.port = port
        self.authority = authority
        self.timeout = p.TIMEOUT if timeout is None else timeout
        self.kit_public: bytes | None = None
        self._nonce: bytes | None = None

    def __repr__(self) -> str:
        trusted = "no kit key" if self.kit_public is None else "kit key trusted"
        return f"<KitClient {self.port.name} {trusted}>"

    def hello(self) -> Hello:
        """Ask the kit who it is and for its nonce; nothing in it is trusted yet.

        What arrived before (an answer to a request given up on) is dropped first.
        """
        self.port.discard_input()
        request_id = p.new_request_id()
        self.port.send(p.hello_request(request_id))
        hello = hello_of(self._answer(request_id, Op.HELLO))
        self._nonce = hello.nonce
        return hello

    def trust(self, kit_public: bytes) -> None:
        """The key the kit's answers must be signed with (from its verified certificate)."""
        self.kit_public = kit_public

    def call(self, call: Call[R]) -> Answer[R]:
        """A signed request and its verified, typed answer; Refused or MessageError otherwise."""
        nonce, message = self._exchange(call.op, call.to_map())
        if self.kit_public is None:
            p.check_refusal(message)
            raise MessageError(f"no certified kit key to check the {call.op} answer with")
        answer = p.verified_answer(message, op=call.op, nonce=nonce, kit_public=self.kit_public)
        self._nonce = answer.next_nonce
        try:
            result = call.read_result(answer.result)
        except MessageError as exc:
            raise MessageError(
                f"{exc}: the kit signed an answer this jemput-prov cannot use; run the command "
                "again, and if it repeats, update the kit's software to this jemput-prov's "
                "release, or report the kit"
            ) from exc
        return Answer(result, answer.next_nonce, answer.signed)

    def keygen(self) -> KeygenResult:
        """Have the kit make a new key pair; its public key, proven by the answer's signature.

        The answer is checked against the key it announces: only the kit holding that
        key's private half can have signed it.  From then on that key is trusted.
        """
        args = KeygenArgs(self.authority.public)
        nonce, message = self._exchange(args.op, args.to_map())
        p.check_refusal(message)
        claimed = args.read_result(p.claimed_result(message, args.op))
        answer = p.verified_answer(message, op=args.op, nonce=nonce, kit_public=claimed.public)
        self._nonce = answer.next_nonce
        self.kit_public = claimed.public
        return claimed

    def _exchange(self, op: Op, args: Mapping[str, Any]) -> tuple[bytes, Mapping[str, Any]]:
        """Send a signed request; returns (the nonce it spent, the answer's message)."""
        nonce = self._nonce if self._nonce is not None else self.hello().nonce
        self._nonce = None  # spent, whatever happens next
        request_id = p.new_request_id()
        request = p.signed_request(
            op, args, request_id=request_id, nonce=nonce, authority=self.authority
        )
        self.port.send(request)
        return nonce, self._answer(request_id, op)

    def _answer(self, request_id: int, op: Op) -> Mapping[str, Any]:
        """The answer to request ``request_id``, within one deadline.

        Answers to other ids are dropped: a request this tool gave up on (after a timeout,
        or a half frame the kit dropped late) may be answered now, and so may another
        tool's on the same port.  Only the deadline bounds how many are dropped.
        """
        deadline = time.monotonic() + self.timeout
        dropped = 0
        while True:
            try:
                payload = self.port.receive(timeout=deadline - time.monotonic())
            except LinkTimeout:
                if not dropped:
                    raise
                raise LinkTimeout(
                    f"no answer to this {op} on {self.port.name} within {self.timeout:.1f} s, "
                    f"only {dropped} to other requests: run the command again; if it repeats, "
                    "check that no other program uses the kit's port"
                ) from None
            message = p.decode_message(payload, f"{op} answer")
            if p.message_id(message) == request_id:
                return message
            dropped += 1
            log.info("%s: dropped an answer to another request than %s", self.port.name, op)
