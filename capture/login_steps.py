"""The steps before an enrolment: boot, self-test, login, a print a crash hid, a resume."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from capture.base import Confirmation, FingerLogin, PinPicker, Step, log_in
from capture.duplicates import reconcile
from capture.events import JobKind, ShutdownReason
from capture.faults import device_key
from capture.machine import CaptureEvent
from capture.sensor_library import Reconciled
from capture.session import Proof
from capture.widgets import DigitEntry, Menu
from hal.exc import DeviceError
from hal.types import Button, Indicator, Press
from storage.audit import AuditKind
from storage.model import Officer

log = logging.getLogger(__name__)


class Boot(Step):
    PROMPT = "boot"


@dataclass(frozen=True)
class SelfTestFindings:
    """What the self-test found: the faulty parts, and how the sensor's library was."""

    faults: tuple[str, ...]
    library: Reconciled | None = None


class SelfTest(Step):
    """Ask every device what it is; a silent part is named on screen for the technician.
    A sensor that answers has its library checked against the kit's page map
    (:func:`capture.duplicates.reconcile`): a swapped sensor holds none of the people, nor
    the officers' login fingers, which the lock screen then says are gone."""

    PROMPT = "self_test"

    def enter(self) -> None:
        super().enter()
        self.faults: list[str] = []
        #: What the lock screen says after the test (officers' login fingers gone), if any.
        self.notice: list[str] | None = None
        self.ctx.run(JobKind.SELF_TEST, self._probe_all)

    def _probe_all(self) -> SelfTestFindings:
        faults = []
        for device in self.ctx.devices.all():
            try:
                device.probe()
            except DeviceError as exc:
                faults.append(f"{device.name}: {exc}")
        sensor = self.ctx.devices.fingerprint
        if any(fault.startswith(f"{sensor.name}:") for fault in faults):
            return SelfTestFindings(tuple(faults))
        try:
            return SelfTestFindings(tuple(faults), reconcile(sensor, self.ctx.store))
        except DeviceError as exc:  # it answered the probe, then not (a loose cable)
            return SelfTestFindings((*faults, f"{sensor.name}: {exc}"))

    def finished(self, result: object, error: BaseException | None) -> None:
        check = result if isinstance(result, SelfTestFindings) else SelfTestFindings(())
        self.faults = [*check.faults, *([str(error)] if error else [])]
        self.ctx.audit(AuditKind.SELF_TEST, faults=self.faults)
        if check.library is not None:
            self._report_library(check.library)
            missing = len(check.library.officers_missing)
            if missing:
                self.notice = self.ctx.text("login_fingers_missing", count=missing)
        if not self.faults:
            self.ctx.go(CaptureEvent.TESTED, notice=self.notice)
            return
        self.ctx.devices.panel.indicate(Indicator.FAULT)
        part = self.faults[0].split(":")[0]
        self.say("self_test_fault", device=self.ctx.word(device_key(part)))

    def press(self, button: Button, press: Press) -> None:
        if self.faults and button is Button.OK:
            self.ctx.go(CaptureEvent.TESTED, notice=self.notice)

    def _report_library(self, found: Reconciled) -> None:
        """Audit and log a library that was not as the page map said (nothing if it was)."""
        if not (found.changed or found.officers_missing):
            return
        self.ctx.audit(
            AuditKind.LIBRARY_RECONCILED,
            lost=list(found.lost),
            orphans=len(found.orphans),
            officer_pages_missing=list(found.officers_missing),
        )
        if found.lost:
            log.warning(
                "the fingerprint sensor no longer holds %d enrolled people (was it replaced?): "
                "a second enrolment of them is not caught on this kit",
                len(found.lost),
            )
        if found.orphans:
            log.warning("deleted %d sensor pages that held nobody's finger", len(found.orphans))
        if found.officers_missing:
            log.warning(
                "the fingerprint sensor lacks %d officers' login fingers: they log in with "
                "their PIN until a supervisor enrols them again (officer menu, login fingers)",
                len(found.officers_missing),
            )


class Locked(FingerLogin):
    def enter(self) -> None:
        super().enter()
        self.ctx.session.log_out()
        self.identify()

    def accepted(self, officer: Officer, how: Proof) -> None:
        log_in(self.ctx, officer, how)

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctx.go(CaptureEvent.USE_PIN)

    def lines(self) -> list[str]:
        return self.with_note(self.ctx.text("locked"))


class PinEntry(Step):
    def enter(self) -> None:
        super().enter()
        self.picker = PinPicker(self.ctx, list(self.ctx.store.officers.values()))

    def press(self, button: Button, press: Press) -> None:
        officer = self.picker.press(button)
        if self.picker.left:
            self.ctx.go(CaptureEvent.LEAVE_PIN)
        elif officer is not None:
            log_in(self.ctx, officer, Proof.PIN)

    def widget(self) -> Menu[Officer] | DigitEntry:
        return self.picker.widget()

    def lines(self) -> list[str]:
        return self.picker.lines()


class PrintQuestion(Step):
    """A crash hid a print's outcome: ask, never print silently a second time."""

    def lines(self) -> list[str]:
        attempt = self.ctx.session.unanswered_prints()[0]
        return self.ctx.text("print_question", seq=attempt.seq, serial=attempt.serial)

    def press(self, button: Button, press: Press) -> None:
        attempt = self.ctx.session.unanswered_prints()[0]
        if button is Button.OK:
            self.ctx.store.ledger.printed(attempt.serial)
        elif button is Button.BACK:
            self.ctx.store.ledger.spoiled(attempt.serial, "did not come out (crash during print)")
        else:
            return
        self.ctx.audit(
            AuditKind.PRINT_ANSWERED,
            serial=attempt.serial,
            seq=attempt.seq,
            came_out=button is Button.OK,
        )
        self.ctx.go(CaptureEvent.ANSWERED)


class ResumeOffer(Step):
    """Login found an enrolment in the journal: resume it, or (held BACK, then OK) drop it."""

    def press(self, button: Button, press: Press) -> None:
        if button is Button.OK:
            self.ctx.session.resume()
            self.ctx.go(CaptureEvent.RESUME)
        elif button is Button.BACK and press is Press.HOLD:
            self.ctx.overlay(
                Confirmation(self.ctx.text("confirm_discard"), yes=self._discard, no=lambda: None)
            )

    def _discard(self) -> None:
        self.ctx.session.drop(AuditKind.DISCARD_JOURNAL)
        self.ctx.go(CaptureEvent.DISCARD)

    def lines(self) -> list[str]:
        offered = self.ctx.session.resumable
        assert offered is not None  # the condition that led here
        return self.ctx.text("resume", name=offered.resident.name or offered.resident.nik)


class SafeShutdown(Step):
    """The last screen: why the kit switches off, and that the data is safe."""

    def enter(self) -> None:
        super().enter()
        self.ctx.devices.panel.indicate(Indicator.OFF)

    def lines(self) -> list[str]:
        reason = self.ctx.shutdown_reason or ShutdownReason.BATTERY_CRITICAL
        return self.note or self.ctx.text(f"shutdown.{reason}")
