"""The steps that capture a person: who they are, face, fingers, signature, review."""

from __future__ import annotations

from capture.audit import AuditKind
from capture.base import FINGER_WAIT_SECONDS, Step, StepContext
from capture.draft import Approval, ApprovalPurpose
from capture.events import JobKind
from capture.machine import CaptureEvent
from capture.quality import face_problem, finger_png
from capture.widgets import DigitEntry, Menu
from hal.exc import NoFinger, NoSignature, PoorImage
from hal.types import (
    Button,
    FingerException,
    FingerImage,
    FingerPosition,
    Indicator,
    Portrait,
    Press,
    Signature,
    Tone,
)
from storage.model import FingerRecord, Resident, walk_in_ref
from storage.nik import NikError, parse_nik

CAMERA_TIMEOUT_SECONDS = 5.0
SIGNATURE_TIMEOUT_SECONDS = 60.0
SIGNATURE_SETTLE_SECONDS = 1.5
NIK_DIGITS = 16
#: The NIK's leading digits that name the province and the regency or city.
REGION_DIGITS = 4


def finger_name(ctx: StepContext, position: FingerPosition | None) -> str:
    """The name of the finger at ``position`` ("Jempol kanan"), in the kit's language."""
    return ctx.word(f"finger.{int(position or FingerPosition.UNKNOWN)}")


class NikEntry(Step):
    """A walk-in not on the worklist: the officer keys in the NIK from the person's KK."""

    def enter(self) -> None:
        super().enter()
        region = [int(c) for c in self.ctx.store.region if c.isdigit()][:REGION_DIGITS]
        self.entry = DigitEntry(NIK_DIGITS, digits=region + [0] * (NIK_DIGITS - len(region)))

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if not self.entry.press(button):
            self.ctx.go(CaptureEvent.LEAVE_WALK_IN)
            return
        if self.entry.complete:
            self._accept(self.entry.value)

    def _accept(self, nik: str) -> None:
        self.entry.position = NIK_DIGITS - 1  # on a problem the officer fixes the last digits
        try:
            info = parse_nik(nik)
        except NikError as exc:
            self.say("nik_bad", reason=str(exc))
            return
        if any(r.nik == nik for r in self.ctx.store.worklist):
            self.say("nik_known")
            return
        if walk_in_ref(nik) in self.ctx.store.recorded_refs():
            self.say("nik_recorded")
            return
        resident = Resident(
            nik=nik,
            name="",
            sex=info.sex,
            birth_place="",
            birth_date=info.birth_date(self.ctx.now().date()),
            province=info.province_name or "",
            regency=info.regency_name or "",
            worklist_ref=walk_in_ref(nik),
        )
        refused = self.ctx.begin(resident, walk_in=True)
        if refused is not None:
            self.note = refused
            return
        self.ctx.go(CaptureEvent.NIK_ENTERED)

    def lines(self) -> list[str]:
        return self.ctx.text("nik_entry", entry=self.entry.text()) + self.note[:1]


class ConfirmPerson(Step):
    """The officer checks the person against their KK before anything is captured."""

    def enter(self) -> None:
        super().enter()
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    @property
    def resident(self) -> Resident:
        assert self.ctx.draft is not None
        return self.ctx.draft.resident

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctx.journal()
            self.ctx.go(CaptureEvent.START)
        elif button is Button.BACK and press is Press.SHORT:
            if self.ctx.journal_open():
                self.ctx.confirm_cancel()  # a resumed person: data would be lost
            else:
                self.ctx.draft = None
                self.ctx.go(CaptureEvent.CANCEL)

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        resident = self.resident
        assert self.ctx.draft is not None
        return self.ctx.text(
            "confirm_person",
            name=resident.name or self.ctx.word("walk_in_name"),
            nik=resident.nik,
            kind=self.ctx.draft.kind.value,
            born=resident.birth_date.strftime("%d-%m-%Y"),
        )


class Face(Step):
    PROMPT = "face"

    def enter(self) -> None:
        super().enter()
        self.portrait: Portrait | None = None
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def press(self, button: Button, press: Press) -> None:
        if self.ctx.busy:
            return
        if button is Button.OK and self.portrait is not None:
            assert self.ctx.draft is not None
            self.ctx.draft.face_jpeg = self.portrait.jpeg
            self.ctx.journal()
            self.ctx.go(CaptureEvent.FACE_TAKEN)
        elif button is Button.OK:
            self.note = self.ctx.text("face_busy")
            camera = self.ctx.devices.camera
            self.ctx.run(JobKind.FACE, lambda: camera.capture(timeout=CAMERA_TIMEOUT_SECONDS))
        elif button is Button.BACK:
            self.enter()

    def finished(self, result: object, error: BaseException | None) -> None:
        if error is not None:
            self.error_note(error)
            return
        assert isinstance(result, Portrait), result
        problem = face_problem(result)
        if problem is not None:
            self.say("device_error", device=self.ctx.word("device.camera"), reason=problem)
            self.ctx.devices.panel.beep(Tone.ERROR)
            return
        self.portrait = result
        self.say("face_ok")
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)


class Fingers(Step):
    """Each finger of the policy in turn, retried on a poor image, or excepted by the officer."""

    def enter(self) -> None:
        super().enter()
        self.attempt = 0
        if self.position is None:
            assert self.ctx.draft is not None
            if self.ctx.draft.needs_finger_approval():
                self.ctx.approval = Approval(ApprovalPurpose.ALL_FINGERS)
            self.ctx.follow(CaptureEvent.FINGERS_TAKEN)
            return
        self.capture()

    @property
    def wanted(self) -> tuple[FingerPosition, ...]:
        return self.ctx.store.policy.fingers

    @property
    def position(self) -> FingerPosition | None:
        assert self.ctx.draft is not None
        return self.ctx.draft.next_finger(self.wanted)

    def capture(self) -> None:
        self.note = []
        sensor, position = self.ctx.devices.fingerprint, self.position
        assert position is not None
        self.ctx.run(JobKind.FINGER, lambda: sensor.capture(position, timeout=FINGER_WAIT_SECONDS))
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def finished(self, result: object, error: BaseException | None) -> None:
        policy = self.ctx.store.policy
        if error is None:
            assert isinstance(result, FingerImage), result
            if result.quality >= policy.min_finger_quality:
                self._keep(result)
                return
        self.attempt += 1
        self.ctx.devices.panel.beep(Tone.ERROR)
        name = finger_name(self.ctx, self.position)
        if self.attempt >= policy.finger_retries:
            self.say("finger_give_up", finger=name, tries=self.attempt)
        elif isinstance(error, NoFinger):
            self.say("finger_none", finger=name)
        elif error is None or isinstance(error, PoorImage):
            self.say("finger_poor", finger=name, attempt=self.attempt, tries=policy.finger_retries)
        else:  # any other failure the job reported is named on screen, as Face does
            self.error_note(error)

    def _keep(self, image: FingerImage) -> None:
        assert self.ctx.draft is not None
        self.ctx.draft.fingers[image.position] = FingerRecord(
            position=image.position,
            image_png=finger_png(image),
            template=image.template,
            quality=image.quality,
        )
        self.ctx.journal()
        self.ctx.devices.panel.beep(Tone.OK)
        self.enter()  # the next finger; after the last, the machine moves on

    def press(self, button: Button, press: Press) -> None:
        gave_up = self.attempt >= self.ctx.store.policy.finger_retries
        if button is Button.DOWN or (button is Button.OK and gave_up):
            self.ctx.go(CaptureEvent.ASK_EXCEPTION)
        elif button is Button.OK and not self.ctx.busy:
            self.capture()
        elif button is Button.BACK:
            self.attempt = 0
            self.capture()

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        assert self.position is not None
        return self.ctx.text(
            "fingers",
            index=self.wanted.index(self.position) + 1,
            count=len(self.wanted),
            finger=finger_name(self.ctx, self.position),
        )


class FingerExceptionStep(Step):
    """The officer records why a finger has no image: missing, amputated, bandaged, unreadable."""

    def enter(self) -> None:
        super().enter()
        assert self.ctx.draft is not None
        self.position = self.ctx.draft.next_finger(self.ctx.store.policy.fingers)
        self.menu: Menu[FingerException] = Menu(
            [(self.ctx.word(f"exception.{e.value}"), e) for e in FingerException]
        )

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctx.go(CaptureEvent.EXCEPTION_CHOSEN)  # no exception: back to the finger, to retry
        elif button is Button.OK and self.menu.focus is not None:
            assert self.ctx.draft is not None and self.position is not None
            position = self.position
            self.ctx.draft.fingers[position] = FingerRecord(
                position, exception=self.menu.focus.value
            )
            self.ctx.audit(
                AuditKind.FINGER_EXCEPTION,
                nik=self.ctx.draft.resident.nik,
                finger=position,
                why=self.menu.focus.value,
                officer=self.ctx.officer_id,
            )
            self.ctx.journal()
            self.ctx.go(CaptureEvent.EXCEPTION_CHOSEN)

    def lines(self) -> list[str]:
        finger = finger_name(self.ctx, self.position)
        return self.ctx.text("exception_title", finger=finger) + self.menu.lines()


class SignatureStep(Step):
    PROMPT = "signature"

    def enter(self) -> None:
        super().enter()
        self.signature: Signature | None = None
        pad = self.ctx.devices.signature_pad
        self.ctx.run(
            JobKind.SIGNATURE,
            lambda: pad.capture(timeout=SIGNATURE_TIMEOUT_SECONDS, settle=SIGNATURE_SETTLE_SECONDS),
        )
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def finished(self, result: object, error: BaseException | None) -> None:
        if isinstance(error, NoSignature):
            self.say("signature_none")
        elif error is not None:
            self.error_note(error)
        else:
            assert isinstance(result, Signature), result
            self.signature = result
            self.say("signature_ok")

    def press(self, button: Button, press: Press) -> None:
        draft = self.ctx.draft
        assert draft is not None
        if button is Button.OK and self.signature is not None:
            strokes = tuple(tuple((p.x, p.y) for p in s) for s in self.signature.strokes)
            draft.signature_strokes, draft.signature_png = strokes, self.signature.png
            self.ctx.journal()
            self.ctx.go(CaptureEvent.SIGNATURE_TAKEN)
        elif button is Button.DOWN:
            self.ctx.audit(AuditKind.NO_SIGNATURE, nik=draft.resident.nik)
            self.ctx.go(CaptureEvent.ASK_SIGNATURE_EXCEPTION)
        elif button in (Button.BACK, Button.OK) and not self.ctx.busy:
            self.enter()


class Review(Step):
    def enter(self) -> None:
        super().enter()
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctx.go(CaptureEvent.SEAL)
        elif button is Button.DOWN:
            self.ctx.go(CaptureEvent.CORRECT)

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        draft = self.ctx.draft
        assert draft is not None
        yes, no = self.ctx.word("yes"), self.ctx.word("no")
        taken = sum(1 for f in draft.fingers.values() if f.image_png)
        return self.ctx.text(
            "review",
            name=draft.resident.name or draft.resident.nik,
            face=yes if draft.face_jpeg else no,
            fingers=f"{taken}/{len(draft.fingers)}",
            signature=yes if draft.signature_png else no,
            card=yes if self.ctx.print_plan().card_on_record else no,
        )
