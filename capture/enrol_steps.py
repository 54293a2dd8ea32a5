"""The steps that capture a person: who they are, face, fingers, signature, review."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from capture.attempts import Verdict, decide
from capture.base import FINGER_WAIT_SECONDS, Confirmation, Step, StepContext
from capture.draft import Approval, ApprovalPurpose
from capture.duplicates import check_finger, sensor_library
from capture.events import JobKind
from capture.face_quality import FaceBounds, FaceQuality, assess_portrait, face_allowance
from capture.finger_quality import FingerQuality, assess_finger_image
from capture.machine import CaptureEvent
from capture.quality import finger_png
from capture.sensor_library import Hit, HitKind, SensorLibrary
from capture.widgets import DigitEntry, Menu
from hal.contracts import Camera, FingerprintSensor
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
from storage.audit import AuditKind
from storage.model import WALK_IN_PREFIX, FingerRecord, Resident, walk_in_ref
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

    def widget(self) -> DigitEntry:
        return self.entry

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
            self.refused_number("nik_bad", exc)
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
        refused = self.ctx.session.begin(resident, walk_in=True)
        if refused is not None:
            self.say(refused.key, **refused.values)
            return
        self.ctx.go(CaptureEvent.NIK_ENTERED)

    def lines(self) -> list[str]:
        return self.entry_with_note(self.ctx.text("nik_entry", entry=self.entry.text()))


class ConfirmPerson(Step):
    """The officer checks the person against their KK before anything is captured."""

    def enter(self) -> None:
        super().enter()
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctx.session.journal()
            self.ctx.go(CaptureEvent.START)
        elif button is Button.BACK and press is Press.SHORT:
            if self.ctx.session.journal_open():
                self.ctx.confirm_cancel()  # a resumed person: data would be lost
            else:
                self.ctx.session.let_go()
                self.ctx.go(CaptureEvent.CANCEL)

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        resident = self.draft.resident
        return self.ctx.text(
            "confirm_person",
            name=resident.name or self.ctx.word("walk_in_name"),
            nik=resident.nik,
            kind=self.draft.kind.value,
            born=resident.birth_date.strftime("%d-%m-%Y"),
        )


@dataclass(frozen=True)
class Photo:
    """One photo and its measures (taken and assessed in the camera's job)."""

    portrait: Portrait
    quality: FaceQuality


def photograph(camera: Camera, bounds: FaceBounds | None = None) -> Photo:
    """Take a photo and measure it: the job of the Face step, off the event loop."""
    portrait = camera.capture(timeout=CAMERA_TIMEOUT_SECONDS)
    return Photo(portrait, assess_portrait(portrait, bounds))


class Face(Step):
    """The portrait: each failing measure has its prompt; after the policy's tries the best
    photo (fewest failing measures) is kept, marked forced.  A person photographed seated
    gets more tries and a wider frame (`capture.face_quality.face_allowance`)."""

    def enter(self) -> None:
        super().enter()
        #: The photo OK keeps, once one passed or the tries ran out.
        self.kept: Photo | None = None
        self.forced = False
        self.photos: list[Photo] = []
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def lines(self) -> list[str]:
        return self.note or self.ctx.text(self.to_person("face"))

    @property
    def allowance(self) -> tuple[int, FaceBounds]:
        return face_allowance(self.ctx.store.policy.face_retries, seated=self.draft.seated)

    def press(self, button: Button, press: Press) -> None:
        if self.ctx.busy:
            return
        if button is Button.OK and self.kept is not None:
            quality = self.kept.quality.scores()
            self.draft.keep_face(self.kept.portrait.jpeg, quality, forced=self.forced)
            self.ctx.session.journal()
            self.ctx.go(CaptureEvent.FACE_TAKEN)
        elif button is Button.OK:
            self.note = self.ctx.text("face_busy")
            camera, (_, bounds) = self.ctx.devices.camera, self.allowance
            self.ctx.run(JobKind.FACE, lambda: photograph(camera, bounds))
        elif button is Button.BACK:
            self.enter()

    def finished(self, result: object, error: BaseException | None) -> None:
        if error is not None:
            self.error_note(error, self.ctx.devices.camera)
            return
        assert isinstance(result, Photo), result
        self.photos.append(result)
        tries, _ = self.allowance
        problems = result.quality.problems
        if not problems:
            self.kept, self.forced = result, False
            self.say("face_ok")
        elif len(self.photos) >= tries:
            # ties keep the earlier photo: min() returns the first of equals
            self.kept = min(self.photos, key=lambda photo: len(photo.quality.problems))
            self.forced = True
            why = self.ctx.word(self.kept.quality.problems[0].prompt_key)
            self.say("face_forced", why=why)
        else:
            retry = self.ctx.text("face_retry", attempt=len(self.photos), tries=tries)
            self.note = self.ctx.text(problems[0].prompt_key)[:2] + retry
        if problems:
            self.ctx.devices.panel.beep(Tone.ERROR)
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)


@dataclass(frozen=True)
class FingerAttempt:
    """One finger capture: the image, its measures and what the duplicate check found."""

    image: FingerImage
    quality: FingerQuality
    hit: Hit


def upload_finger(
    sensor: FingerprintSensor,
    library: SensorLibrary,
    position: FingerPosition,
    kept: dict[int, bytes],
) -> FingerAttempt:
    """Upload, measure and check the finger the sensor imaged: the job of the Fingers step
    that runs while the person moves on to the next finger."""
    image = sensor.upload_image(position)
    quality = assess_finger_image(image)
    return FingerAttempt(
        image, quality, check_finger(sensor, library, image.template, position, kept)
    )


class Fingers(Step):
    """Each finger of the policy in turn: retried below the policy's score, the best kept
    (forced) after the last try, or excepted by the officer; each checked for duplicates.

    The next finger is asked for as soon as the sensor holds this one's image: its upload
    takes 3.5 s at 115200 baud, in which the person lifts the finger and puts the next one
    down.  A finger to be taken again (a poor image, a duplicate) is asked for again when
    its upload comes back; only a kept finger reaches the journal, as before.
    """

    def enter(self) -> None:
        super().enter()
        self.attempts: list[FingerAttempt | None] = []  # None: no usable image
        #: An earlier enrolment the last finger matched, waiting for OK (supervisor).
        self.duplicate: Hit | None = None
        #: The finger whose image crosses the wire and is checked (None: none does).
        self.uploading: FingerPosition | None = None
        if self.position is None:
            if self.draft.needs_finger_approval():
                self.ctx.session.ask(Approval(ApprovalPurpose.ALL_FINGERS))
            self.ctx.follow(CaptureEvent.FINGERS_TAKEN)
            return
        self.capture()

    @property
    def attempt(self) -> int:
        return len(self.attempts)

    @property
    def wanted(self) -> tuple[FingerPosition, ...]:
        return self.ctx.store.policy.fingers

    @property
    def position(self) -> FingerPosition | None:
        """The finger being taken: the first with neither image nor exception."""
        return self.draft.next_finger(self.wanted)

    def asked_finger(self) -> FingerPosition | None:
        """The finger the person is asked for: while one is uploaded, the one after it."""
        if self.uploading is None:
            return self.position
        return self.draft.next_finger(tuple(f for f in self.wanted if f != self.uploading))

    def capture(self) -> None:
        """Wait for the finger and image it (the sensor keeps the image)."""
        self.note = []
        sensor, position = self.ctx.devices.fingerprint, self.position
        assert position is not None
        self.ctx.run(
            JobKind.FINGER, lambda: sensor.take_image(position, timeout=FINGER_WAIT_SECONDS)
        )
        self.ctx.devices.panel.indicate(Indicator.ATTENTION)

    def _upload(self) -> None:
        """The image is on the sensor: upload and check it; the screen asks for the next."""
        draft, sensor, position = self.draft, self.ctx.devices.fingerprint, self.position
        assert position is not None
        store = self.ctx.store
        kept = {int(p): f.template for p, f in draft.fingers.items() if f.template}
        self.uploading = position
        # the page map is read in the job too: no database read on the event loop
        self.ctx.run(
            JobKind.FINGER_UPLOAD,
            lambda: upload_finger(sensor, sensor_library(store), position, kept),
        )

    def finished(self, result: object, error: BaseException | None) -> None:
        uploaded, self.uploading = self.uploading, None
        if error is None and uploaded is None:
            self._upload()
            return
        if error is None:
            assert isinstance(result, FingerAttempt), result
            if self._duplicate(result):
                return
        self.attempts.append(result if isinstance(result, FingerAttempt) else None)
        policy = self.ctx.store.policy
        scores = [a.quality.score if a else 0 for a in self.attempts]
        decision = decide(scores, threshold=policy.min_finger_quality, tries=policy.finger_retries)
        if decision.keep is not None:
            kept = self.attempts[decision.keep]
            assert kept is not None
            self._keep(kept, forced=decision.forced)
            return
        self.ctx.devices.panel.beep(Tone.ERROR)
        name = finger_name(self.ctx, self.position)
        if decision.verdict is Verdict.EXCEPTION:
            self.say("finger_give_up", finger=name, tries=self.attempt)
        elif isinstance(error, NoFinger):
            self.say("finger_none", finger=name)
        elif error is None and isinstance(result, FingerAttempt) and result.quality.problems:
            retry = self.ctx.text(
                "finger_retry", finger=name, attempt=self.attempt, tries=policy.finger_retries
            )
            self.note = retry[:1] + self.ctx.text(result.quality.problems[0].prompt_key)[:2]
            self.note += retry[1:]
        elif error is None or isinstance(error, PoorImage):
            self.say("finger_poor", finger=name, attempt=self.attempt, tries=policy.finger_retries)
        else:  # any other failure the job reported is named on screen, as Face does
            self.error_note(error, self.ctx.devices.fingerprint)

    def _duplicate(self, attempt: FingerAttempt) -> bool:
        """Stop on a finger that is someone's already; True when it was."""
        hit, draft = attempt.hit, self.draft
        if hit.kind is HitKind.OFFICER:
            self.ctx.session.drop(AuditKind.OFFICER_FINGER)
            self.ctx.devices.panel.beep(Tone.ERROR)
            self.ctx.go(CaptureEvent.CANCEL, notice=self.ctx.text("duplicate_officer"))
            return True
        if hit.kind is HitKind.REPEATED and hit.occupant is not None:
            self.ctx.devices.panel.beep(Tone.ERROR)
            other = finger_name(self.ctx, FingerPosition(hit.occupant.position))
            self.say("duplicate_repeated", other=other)
            return True
        if hit.kind is HitKind.ENROLLED and hit.occupant is not None:
            if hit.occupant.seq in dict(draft.duplicates_approved):
                return False  # a supervisor has seen them both: twins
            self.duplicate = hit
            self.ctx.audit(AuditKind.DUPLICATE, nik=draft.resident.nik, seq=hit.occupant.seq)
            self.ctx.devices.panel.beep(Tone.ERROR)
            self.say("duplicate_enrolled", seq=hit.occupant.seq, name=self._name(hit.occupant.seq))
            return True
        return False

    def _name(self, seq: int) -> str:
        """The name of the resident of record ``seq`` as the worklist has it, or their NIK."""
        ref = dict(self.ctx.store.recent(limit=self.ctx.store.policy.sensor_library_pages)).get(seq)
        resident = next((r for r in self.ctx.store.worklist if r.worklist_ref == ref), None)
        if resident is not None and resident.name:
            return resident.name
        return (ref or "?").removeprefix(WALK_IN_PREFIX)

    def _keep(self, attempt: FingerAttempt, *, forced: bool) -> None:
        image = attempt.image
        self.draft.keep_finger(
            FingerRecord(
                position=image.position,
                image_png=finger_png(image),
                template=image.template,
                quality=attempt.quality.score,
                forced=forced,
                scores=attempt.quality.scores(),
            )
        )
        self.ctx.session.journal()
        self.ctx.devices.panel.beep(Tone.OK)
        self.enter()  # the next finger; after the last, the machine moves on

    def press(self, button: Button, press: Press) -> None:
        if self.uploading is not None:
            return  # the finger's outcome decides what the buttons mean: it comes in seconds
        if self.duplicate is not None and self.duplicate.occupant is not None:
            if button is Button.OK:
                seq = self.duplicate.occupant.seq
                self.ctx.session.ask(Approval(ApprovalPurpose.DUPLICATE, seq=seq))
                self.ctx.go(CaptureEvent.DUPLICATE_FOUND)
            elif button is Button.BACK:
                self.ctx.confirm_cancel()
            return
        gave_up = self.attempt >= self.ctx.store.policy.finger_retries
        if button is Button.DOWN or (button is Button.OK and gave_up):
            self.ctx.go(CaptureEvent.ASK_EXCEPTION)
        elif button is Button.OK and not self.ctx.busy:
            self.capture()
        elif button is Button.BACK:
            self.attempts = []
            self.capture()

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        position, asked = self.position, self.asked_finger()
        assert position is not None
        shown = asked or position
        values = {
            "index": self.wanted.index(shown) + 1,
            "count": len(self.wanted),
            "finger": finger_name(self.ctx, shown),
        }
        if asked is None:  # the last finger uploads: the person lifts it and moves on
            return self.ctx.text(self.to_person("fingers_checking"), **values)
        return self.ctx.text(self.to_person("fingers"), **values)


class FingerExceptionStep(Step):
    """The officer records why a finger has no image: missing, amputated, bandaged, unreadable."""

    def enter(self) -> None:
        super().enter()
        self.position = self.draft.next_finger(self.ctx.store.policy.fingers)
        self.menu: Menu[FingerException] = Menu(
            [(self.ctx.word(f"exception.{e.value}"), e) for e in FingerException]
        )

    def widget(self) -> Menu[FingerException]:
        return self.menu

    def asked_finger(self) -> FingerPosition | None:
        return self.position

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctx.go(CaptureEvent.EXCEPTION_CHOSEN)  # no exception: back to the finger, to retry
        elif button is Button.OK and self.menu.focus is not None:
            assert self.position is not None
            position, why = self.position, self.menu.focus
            self.draft.except_finger(position, why)
            self.ctx.audit(
                AuditKind.FINGER_EXCEPTION,
                nik=self.draft.resident.nik,
                finger=position,
                why=why.value,
                officer=self.ctx.session.officer_id,
            )
            self.ctx.session.journal()
            self.ctx.go(CaptureEvent.EXCEPTION_CHOSEN)

    def lines(self) -> list[str]:
        finger = finger_name(self.ctx, self.position)
        return self.ctx.text("exception_title", finger=finger) + self.menu.lines()


class SignatureStep(Step):
    def lines(self) -> list[str]:
        return self.note or self.ctx.text(self.to_person("signature"))

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
            self.error_note(error, self.ctx.devices.signature_pad)
        else:
            assert isinstance(result, Signature), result
            self.signature = result
            self.say("signature_ok")

    def press(self, button: Button, press: Press) -> None:
        draft = self.draft
        if button is Button.OK and self.signature is not None:
            strokes = tuple(tuple((p.x, p.y) for p in s) for s in self.signature.strokes)
            draft.keep_signature(strokes, self.signature.png)
            self.ctx.session.journal()
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
        if button is Button.OK and self.draft.companion_answers:
            # the person confirms their data; a companion who answers for them does
            seal = partial(self.ctx.go, CaptureEvent.SEAL)
            lines = self.ctx.text("review.companion")
            self.ctx.overlay(Confirmation(lines, yes=seal, no=lambda: None))
        elif button is Button.OK:
            self.ctx.go(CaptureEvent.SEAL)
        elif button is Button.DOWN:
            self.ctx.go(CaptureEvent.CORRECT)

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        draft = self.draft
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
