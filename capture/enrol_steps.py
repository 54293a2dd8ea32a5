"""The steps that capture a person: who they are, face, fingers, signature, review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from capture.draft import Approval, Draft
from capture.quality import face_problem, finger_png
from capture.steps import FINGER_WAIT_SECONDS, Step
from capture.widgets import DigitEntry, Menu
from hal.exc import NoFinger, NoSignature, PoorImage
from hal.types import Button, FingerException, FingerImage, FingerPosition, Indicator, Press, Tone
from storage.model import FingerRecord, Resident
from storage.nik import NikError, parse_nik

if TYPE_CHECKING:
    from capture.controller import Controller

CAMERA_TIMEOUT_SECONDS = 5.0
SIGNATURE_TIMEOUT_SECONDS = 60.0
SIGNATURE_SETTLE_SECONDS = 1.5
NIK_DIGITS = 16


def finger_name(ctl: Controller, position: FingerPosition | int | None) -> str:
    """The name of the finger at ``position`` ("Jempol kanan"), in the kit's language."""
    return ctl.word(f"finger.{int(position or 0)}")


def walk_in_ref(nik: str) -> str:
    """The reference a walk-in's record carries in place of a worklist line.

    It lets the kit refuse a second recording of the same walk-in, and the collector count
    walk-ins, without opening any body.
    """
    return f"walk-in:{nik}"


class NikEntry(Step):
    """A walk-in not on the worklist: the officer keys in the NIK from the person's KK."""

    def enter(self) -> None:
        super().enter()
        region = (
            [int(c) for c in self.ctl.store.worklist[0].nik[:4]] if self.ctl.store.worklist else []
        )
        self.entry = DigitEntry(NIK_DIGITS, digits=region + [0] * (NIK_DIGITS - len(region)))

    def press(self, button: Button, press: Press) -> None:
        self.note = []
        if not self.entry.press(button):
            self.ctl.go("cancel")
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
        if any(r.nik == nik for r in self.ctl.store.worklist):
            self.say("nik_known")
            return
        if walk_in_ref(nik) in self.ctl.store.recorded_refs():
            self.say("nik_recorded")
            return
        resident = Resident(
            nik=nik,
            name="",
            sex=info.sex,
            birth_place="",
            birth_date=info.birth_date(self.ctl.now().date()),
            province=info.province_name or "",
            regency=info.regency_name or "",
            worklist_ref=walk_in_ref(nik),
        )
        self.ctl.draft = Draft(resident, self.ctl.officer_id, self.ctl.now(), walk_in=True)
        self.ctl.go("nik_entered")

    def lines(self) -> list[str]:
        return self.ctl.text("nik_entry", entry=self.entry.text()) + self.note[:1]


class ConfirmPerson(Step):
    """The officer checks the person against their KK before anything is captured."""

    def enter(self) -> None:
        super().enter()
        resident = self.resident
        age = resident.age_on(self.ctl.now().date())
        self.too_young = age < self.ctl.store.policy.recording_age
        if self.too_young:
            self.say("under_age", age=self.ctl.store.policy.recording_age)
        self.ctl.devices.panel.indicate(Indicator.ATTENTION)

    @property
    def resident(self) -> Resident:
        assert self.ctl.draft is not None
        return self.ctl.draft.resident

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK and not self.too_young:
            self.ctl.journal()
            self.ctl.go("start")
        elif button in (Button.OK, Button.BACK) and press is Press.SHORT:
            if self.ctl.journal_open():
                self.ctl.confirming_cancel = True  # a resumed person: data would be lost
            else:
                self.ctl.draft = None
                self.ctl.go("cancel")

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        resident = self.resident
        return self.ctl.text(
            "confirm_person",
            name=resident.name or "(datang langsung)",
            nik=resident.nik,
            born=resident.birth_date.strftime("%d-%m-%Y"),
        )


class Face(Step):
    PROMPT = "face"

    def enter(self) -> None:
        super().enter()
        self.portrait = None
        self.ctl.devices.panel.indicate(Indicator.ATTENTION)

    def press(self, button: Button, press: Press) -> None:
        if self.ctl.busy:
            return
        if button is Button.OK and self.portrait is not None:
            assert self.ctl.draft is not None
            self.ctl.draft.face_jpeg = self.portrait.jpeg
            self.ctl.journal()
            self.ctl.go("face_taken")
        elif button is Button.OK:
            self.note = self.ctl.text("face_busy")
            camera = self.ctl.devices.camera
            self.ctl.run("face", lambda: camera.capture(timeout=CAMERA_TIMEOUT_SECONDS))
        elif button is Button.BACK:
            self.enter()

    def finished(self, result: Any, error: BaseException | None) -> None:
        if error is not None:
            self.error_note(error)
            return
        problem = face_problem(result)
        if problem is not None:
            self.say("device_error", device="foto", reason=problem)
            self.ctl.devices.panel.beep(Tone.ERROR)
            return
        self.portrait = result
        self.say("face_ok")
        self.ctl.devices.panel.indicate(Indicator.ATTENTION)


class Fingers(Step):
    """Each finger of the policy in turn, retried on a poor image, or excepted by the officer."""

    def enter(self) -> None:
        super().enter()
        self.attempt = 0
        if self.position is None:
            if self.ctl.needs_finger_approval():
                self.ctl.approval = Approval("all_fingers")
            self.ctl.go("fingers_taken")
            return
        self.capture()

    @property
    def wanted(self) -> tuple[int, ...]:
        return self.ctl.store.policy.fingers

    @property
    def position(self) -> FingerPosition | None:
        assert self.ctl.draft is not None
        missing = [p for p in self.wanted if p not in self.ctl.draft.fingers]
        return FingerPosition(missing[0]) if missing else None

    def capture(self) -> None:
        self.note = []
        sensor, position = self.ctl.devices.fingerprint, self.position
        assert position is not None
        self.ctl.run("finger", lambda: sensor.capture(position, timeout=FINGER_WAIT_SECONDS))
        self.ctl.devices.panel.indicate(Indicator.ATTENTION)

    def finished(self, result: Any, error: BaseException | None) -> None:
        policy = self.ctl.store.policy
        if error is None and result.quality >= policy.min_finger_quality:
            self._keep(result)
            return
        self.attempt += 1
        self.ctl.devices.panel.beep(Tone.ERROR)
        name = finger_name(self.ctl, self.position)
        if self.attempt >= policy.finger_retries:
            self.say("finger_give_up", finger=name, tries=self.attempt)
        elif isinstance(error, NoFinger):
            self.say("finger_none", finger=name)
        elif error is None or isinstance(error, PoorImage):
            self.say("finger_poor", finger=name, attempt=self.attempt, tries=policy.finger_retries)
        else:  # any other failure the job reported is named on screen, as Face does
            self.error_note(error)

    def _keep(self, image: FingerImage) -> None:
        assert self.ctl.draft is not None
        self.ctl.draft.fingers[int(image.position)] = FingerRecord(
            position=int(image.position),
            image_png=finger_png(image),
            template=image.template,
            quality=image.quality,
        )
        self.ctl.journal()
        self.ctl.devices.panel.beep(Tone.OK)
        self.enter()

    def press(self, button: Button, press: Press) -> None:
        gave_up = self.attempt >= self.ctl.store.policy.finger_retries
        if button is Button.DOWN or (button is Button.OK and gave_up):
            self.ctl.go("ask_exception")
        elif button is Button.OK and not self.ctl.busy:
            self.capture()
        elif button is Button.BACK:
            self.attempt = 0
            self.capture()

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        assert self.position is not None
        return self.ctl.text(
            "fingers",
            index=self.wanted.index(int(self.position)) + 1,
            count=len(self.wanted),
            finger=finger_name(self.ctl, self.position),
        )


class FingerExceptionStep(Step):
    """The officer records why a finger has no image: missing, amputated, bandaged, unreadable."""

    def enter(self) -> None:
        super().enter()
        self.position = self.ctl.steps["fingers"].position
        self.menu: Menu[FingerException] = Menu(
            [(self.ctl.word(f"exception.{e.value}"), e) for e in FingerException]
        )

    def press(self, button: Button, press: Press) -> None:
        if button in (Button.UP, Button.DOWN):
            self.menu.move(button)
        elif button is Button.BACK:
            self.ctl.go("exception_chosen")  # no exception: back to the finger, to retry
        elif button is Button.OK and self.menu.focus is not None:
            assert self.ctl.draft is not None and self.position is not None
            position = int(self.position)
            self.ctl.draft.fingers[position] = FingerRecord(
                position, exception=self.menu.focus.value
            )
            self.ctl.store.audit.append(
                "finger-exception",
                nik=self.ctl.draft.resident.nik,
                finger=position,
                why=self.menu.focus.value,
                officer=self.ctl.officer_id,
            )
            self.ctl.journal()
            self.ctl.go("exception_chosen")

    def lines(self) -> list[str]:
        finger = finger_name(self.ctl, self.position)
        return self.ctl.text("exception_title", finger=finger) + self.menu.lines()


class Signature(Step):
    PROMPT = "signature"

    def enter(self) -> None:
        super().enter()
        self.signature = None
        pad = self.ctl.devices.signature_pad
        self.ctl.run(
            "signature",
            lambda: pad.capture(timeout=SIGNATURE_TIMEOUT_SECONDS, settle=SIGNATURE_SETTLE_SECONDS),
        )
        self.ctl.devices.panel.indicate(Indicator.ATTENTION)

    def finished(self, result: Any, error: BaseException | None) -> None:
        if isinstance(error, NoSignature):
            self.say("signature_none")
        elif error is not None:
            self.error_note(error)
        else:
            self.signature = result
            self.say("signature_ok")

    def press(self, button: Button, press: Press) -> None:
        draft = self.ctl.draft
        assert draft is not None
        if button is Button.OK and self.signature is not None:
            strokes = tuple(tuple((p.x, p.y) for p in s) for s in self.signature.strokes)
            draft.signature_strokes, draft.signature_png = strokes, self.signature.png
            self.ctl.journal()
            self.ctl.go("signature_taken")
        elif button is Button.DOWN:
            draft.signature_declined = True
            self.ctl.store.audit.append("no-signature", nik=draft.resident.nik)
            self.ctl.journal()
            self.ctl.go("signature_taken")
        elif button in (Button.BACK, Button.OK) and not self.ctl.busy:
            self.enter()


class Review(Step):
    def enter(self) -> None:
        super().enter()
        self.ctl.devices.panel.indicate(Indicator.ATTENTION)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctl.go("seal")

    def lines(self) -> list[str]:
        if self.note:
            return self.note
        draft = self.ctl.draft
        assert draft is not None
        yes, no = self.ctl.word("yes"), self.ctl.word("no")
        taken = sum(1 for f in draft.fingers.values() if f.image_png)
        return self.ctl.text(
            "review",
            name=draft.resident.name or draft.resident.nik,
            face=yes if draft.face_jpeg else no,
            fingers=f"{taken}/{len(draft.fingers)}",
            signature=yes if draft.signature_png else no,
            card=yes if self.ctl.prints_card() else no,
        )


def make_steps(ctl: Controller) -> dict[str, Step]:
    return {
        "nik_entry": NikEntry(ctl),
        "confirm_person": ConfirmPerson(ctl),
        "face": Face(ctl),
        "fingers": Fingers(ctl),
        "finger_exception": FingerExceptionStep(ctl),
        "signature": Signature(ctl),
        "review": Review(ctl),
    }
