"""The handover of printed cards on the kit: the village official takes a batch, then each
resident takes their card, confirmed 1:1.

Why 1:1 and not a search: the office sent this kit the batch's cards with each resident's
own templates from their record (`storage.handover`), so the question is only "is this the
person whose card it is?": their finger is captured and matched against their templates
on the sensor (`FingerprintSensor.match`), never against anyone else's.  A resident whose
fingers were excepted at the recording signs on the pad instead; the signature is kept
only encrypted to the authority.  A finger that does not match within the policy's
retries is recorded as such and the card stays with the official: the resident goes to
the office.  Every outcome is a signed `HandoverEvent` in the kit's ledger.
"""

from __future__ import annotations

from capture.base import FINGER_WAIT_SECONDS, OfficialPresent, Step
from capture.events import JobKind
from capture.machine import CaptureEvent
from capture.session import Proof as LoginProof
from capture.widgets import Menu
from hal.exc import NoFinger, NoSignature, PoorImage
from hal.types import Button, FingerPosition, Indicator, Press, Signature, Tone
from storage.audit import AuditKind
from storage.handover import HandoverBatch, HandoverCard, HandoverEvent, HandoverKind, Proof
from storage.model import Officer

#: Seconds the pad waits for a resident's signature.
SIGNATURE_TIMEOUT_SECONDS = 60.0


class HandoverMenu(Step):
    """The batches the office sent; once one is chosen (and its official took it), the
    cards of it not yet taken."""

    def enter(self) -> None:
        super().enter()
        self.batches = self.ctx.store.handovers.batches()
        chosen = self.ctx.session.handover_batch
        batch = next((b for b in self.batches if chosen and b.batch == chosen.batch), None)
        if batch is not None and not self.ctx.store.handovers.acknowledged(batch.batch):
            batch = None  # the official did not take it: no card of it is handed over
        self.ctx.session.choose_handover(batch)
        self.menu: Menu[HandoverBatch | HandoverCard] = self._menu(batch)

    def _menu(self, batch: HandoverBatch | None) -> Menu[HandoverBatch | HandoverCard]:
        if batch is None:
            return Menu([(f"{b.village} ({len(b.cards)})", b) for b in self.batches])
        received = self.ctx.store.handovers.received()
        return Menu([(c.name, c) for c in batch.cards if c.card not in received])

    def widget(self) -> Menu[HandoverBatch | HandoverCard]:
        return self.menu

    def press(self, button: Button, press: Press) -> None:
        session = self.ctx.session
        if self.note:  # what happened (a card handed over, or refused) is read first
            self.note = []
        elif button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            if session.handover_batch is None:
                self.ctx.go(CaptureEvent.CLOSE_ADMIN)
            else:
                session.choose_handover(None)
                self.menu = self._menu(None)
        elif button is Button.OK and isinstance(self.menu.focus, HandoverBatch):
            batch = self.menu.focus
            session.choose_handover(batch)
            if self.ctx.store.handovers.acknowledged(batch.batch):
                self.menu = self._menu(batch)
            else:
                self.ctx.go(CaptureEvent.ACKNOWLEDGE)
        elif button is Button.OK and isinstance(self.menu.focus, HandoverCard):
            session.choose_handover(session.handover_batch, self.menu.focus)
            self.ctx.go(CaptureEvent.HAND_OVER)

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        batch = self.ctx.session.handover_batch
        if batch is None:
            if not self.batches:
                return self.ctx.text("handover_none")
            return self.ctx.text("handover_batches") + self.menu.lines()
        if not self.menu.items:
            return self.ctx.text("handover_all", village=batch.village)
        left = len(self.menu.items)
        return self.ctx.text("handover_cards", village=batch.village, left=left) + self.menu.lines()


class HandoverOfficial(OfficialPresent):
    """The village official takes the chosen batch: their finger, or OK for their PIN."""

    PROMPT = "handover_ack"
    BACK = CaptureEvent.HANDOVER_DONE

    def official_came(self, official: Officer, how: LoginProof) -> None:
        batch = self.ctx.session.handover_batch
        assert batch is not None  # the handover screen chose one
        self.ctx.store.handovers.record(
            HandoverEvent(
                HandoverKind.ACKNOWLEDGED,
                batch.batch,
                self.ctx.now(),
                by=official.officer_id,
                how=Proof(how.value),
            )
        )
        self.ctx.audit(AuditKind.HANDOVER_ACKNOWLEDGED, batch=batch.batch, by=official.officer_id)
        self.ctx.devices.panel.beep(Tone.OK)
        self.ctx.go(
            CaptureEvent.HANDOVER_DONE, notice=self.ctx.text("handover_acked", name=official.name)
        )


class HandoverResident(Step):
    """The resident whose card was chosen: their finger matched against their own templates,
    or, where their fingers were excepted, their signature."""

    def enter(self) -> None:
        super().enter()
        #: Fingers that did not match this resident's templates, this time at the kit.
        self.tries = 0
        self._wait()
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def _wait(self) -> None:
        """Wait for the resident's finger (then match it), or for their signature."""
        self.signature: Signature | None = None
        if self.card.templates:
            self._capture_finger()
        else:
            pad = self.ctx.devices.signature_pad
            self.ctx.run(JobKind.SIGNATURE, lambda: pad.capture(timeout=SIGNATURE_TIMEOUT_SECONDS))

    @property
    def card(self) -> HandoverCard:
        card = self.ctx.session.handover_card
        assert card is not None  # the handover screen chose one
        return card

    @property
    def batch(self) -> str:
        batch = self.ctx.session.handover_batch
        assert batch is not None
        return batch.batch

    def asked_finger(self) -> FingerPosition | None:
        return FingerPosition(self.card.templates[0][0]) if self.card.templates else None

    def _capture_finger(self) -> None:
        sensor, card = self.ctx.devices.fingerprint, self.card
        position = FingerPosition(card.templates[0][0])
        templates = [template for _, template in card.templates]

        def capture_and_match() -> int | None:
            sensor.take_image(position, timeout=FINGER_WAIT_SECONDS)
            return sensor.match(sensor.upload_image(position).template, templates)

        self.ctx.run(JobKind.FINGER, capture_and_match)

    def finished(self, result: object, error: BaseException | None) -> None:
        if isinstance(error, NoSignature):
            self.say("signature_none")  # OK waits for the pen again
            return
        if isinstance(error, NoFinger | TimeoutError):
            self._wait()  # nobody came yet: wait again
            return
        if isinstance(error, PoorImage):
            self.say("quality.finger.low_score")  # not a mismatch: the print was unusable
            self._wait()
            return
        if error is not None:  # the part this card waits on: the sensor, or the pad
            devices = self.ctx.devices
            self.error_note(
                error, devices.fingerprint if self.card.templates else devices.signature_pad
            )
            return
        if not self.card.templates:
            assert isinstance(result, Signature), result
            self.signature = result
            self.say("handover_signed")
            return
        if result is not None:
            self._received(Proof.FINGER, evidence=None)
            return
        self.tries += 1
        left = self.ctx.store.policy.finger_retries - self.tries
        self.ctx.devices.panel.beep(Tone.ERROR)
        if left > 0:
            self.say("handover_retry", left=left)
            self._capture_finger()
            return
        self._record(HandoverKind.NOT_MATCHED, None, None)
        self.ctx.audit(AuditKind.HANDOVER_NOT_MATCHED, batch=self.batch, seq=self.card.seq)
        self.ctx.go(CaptureEvent.HANDOVER_DONE, notice=self.ctx.text("handover_refused"))

    def _record(self, kind: HandoverKind, how: Proof | None, evidence: bytes | None) -> None:
        card = self.card
        self.ctx.store.handovers.record(
            HandoverEvent(
                kind, self.batch, self.ctx.now(), card.chain, card.seq, how=how, evidence=evidence
            )
        )

    def _received(self, how: Proof, *, evidence: bytes | None) -> None:
        self._record(HandoverKind.RECEIVED, how, evidence)
        self.ctx.audit(AuditKind.HANDOVER_RECEIVED, batch=self.batch, seq=self.card.seq, how=how)
        self.ctx.devices.panel.beep(Tone.OK)
        name = self.card.name
        self.ctx.go(CaptureEvent.HANDOVER_DONE, notice=self.ctx.text("handover_given", name=name))

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK and self.signature is not None:
            strokes = [[(p.x, p.y) for p in stroke] for stroke in self.signature.strokes]
            evidence = self.ctx.store.handovers.signature_evidence(
                strokes, batch=self.batch, card=self.card.card
            )
            self._received(Proof.SIGNATURE, evidence=evidence)
        elif button is Button.OK and not self.card.templates and not self.ctx.busy:
            self.note = []
            self._wait()
        elif button is Button.BACK:  # not handed over: the card stays with the official
            self.ctx.go(CaptureEvent.HANDOVER_DONE)

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        name = self.card.name
        if not self.card.templates:
            return self.ctx.text("handover_sign", name=name)
        finger = self.ctx.word(f"finger.{self.card.templates[0][0]}")
        return self.ctx.text("handover_finger", name=name, finger=finger)
