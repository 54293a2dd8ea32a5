"""The tool's side of the provisioning port: one kit, signed requests, verified answers.

The messages themselves are the link's (`kitlink.protocol`), shared with the kit's responder;
what only the tool does, keeping the nonce between calls and trusting the certified key,
lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kitlink.framing import FramedPort
from kitlink.protocol import (
    KEYGEN,
    TIMEOUT,
    Answer,
    Hello,
    MessageError,
    check_refusal,
    decode_message,
    hello_request,
    parse_answer,
    parse_hello,
    signed_request,
)
from storage.codec import Tampered, loads
from storage.cose import SignAlg, parse_sign1
from storage.keys import Authority, KeyBackend


class KitClient:
    """Talks to one kit over a FramedPort, signing each request with the authority's key.

    Answers are checked against ``kit_public``: set it with `trust` from the kit's
    certificate (verified against the authority), or it is set by `keygen`.
    """

    def __init__(
        self, port: FramedPort, authority: Authority, *, timeout: float | None = None
    ) -> None:
        self.port = port
        self.authority = authority
        self.timeout = TIMEOUT if timeout is None else timeout
        self.kit_public: bytes | None = None
        #: The algorithm and backend of the key the last keygen made, for its certificate.
        self.kit_alg = SignAlg.EDDSA
        self.kit_backend = KeyBackend.FILE
        self._nonce: bytes | None = None

    def _exchange(self, op: str, args: Mapping[str, Any]) -> tuple[bytes, bytes]:
        """Send a signed request; returns (the nonce it spent, the answer's payload)."""
        nonce = self._nonce if self._nonce is not None else self.hello().nonce
        self._nonce = None  # spent, whatever happens next
        self.port.send(signed_request(op, args, nonce=nonce, authority=self.authority))
        return nonce, self.port.receive(timeout=self.timeout)

    def hello(self) -> Hello:
        """Ask the kit who it is and for its nonce; nothing in it is trusted yet."""
        self.port.discard_input()
        self.port.send(hello_request())
        hello = parse_hello(self.port.receive(timeout=self.timeout))
        self._nonce = hello.nonce
        return hello

    def trust(self, kit_public: bytes) -> None:
        """The key the kit's answers must be signed with (from its verified certificate)."""
        self.kit_public = kit_public

    def call(self, op: str, args: Mapping[str, Any] | None = None) -> Answer:
        """A signed request and its verified answer; Refused or MessageError otherwise."""
        nonce, payload = self._exchange(op, args or {})
        if self.kit_public is None:
            check_refusal(decode_message(payload, f"{op} answer"))
            raise MessageError(f"no certified kit key to check the {op} answer with")
        answer = parse_answer(payload, op=op, nonce=nonce, kit_public=self.kit_public)
        self._nonce = answer.next_nonce
        return answer

    def keygen(self) -> bytes:
        """Have the kit make a new key pair; returns its public key, proven by its signature."""
        nonce, payload = self._exchange(KEYGEN, {"authority": self.authority.public.to_cbor()})
        message = decode_message(payload, "keygen answer")
        check_refusal(message)
        try:
            public = loads(parse_sign1(message["signed"]).payload)["result"]["public"]
        except (Tampered, KeyError, TypeError) as exc:
            raise MessageError(f"keygen answer is malformed: {exc}") from exc
        if not isinstance(public, bytes) or len(public) not in (32, 65):
            raise MessageError("keygen answer carries no Ed25519 or P-256 public key")
        answer = parse_answer(payload, op=KEYGEN, nonce=nonce, kit_public=public)
        self._nonce = answer.next_nonce
        self.kit_public = public
        try:  # what holds the new key, which the certificate records (a file key if unsaid)
            self.kit_alg = SignAlg(answer.result.get("alg", SignAlg.EDDSA))
            self.kit_backend = KeyBackend(answer.result.get("store", KeyBackend.FILE.value))
        except ValueError as exc:
            raise MessageError(f"keygen answer names an unknown key: {exc}") from exc
        return public
