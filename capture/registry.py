"""One step per state of the capture machine: the only module that knows every step.

The steps import :mod:`capture.base` and nothing of each other; this module imports them
all, and :mod:`capture.controller` imports it.  A test holds the table to the machine:
every state has exactly one step.
"""

from __future__ import annotations

from collections.abc import Callable

from capture.base import Step, StepContext
from capture.enrol_steps import (
    ConfirmPerson,
    Face,
    FingerExceptionStep,
    Fingers,
    NikEntry,
    Review,
    SignatureStep,
)
from capture.finish_steps import Done, Printing, Sealing, SupervisorApproval
from capture.handover_steps import HandoverMenu, HandoverOfficial, HandoverResident
from capture.login_finger_steps import EnrolLoginFinger, LoginFingers
from capture.login_steps import (
    Boot,
    Locked,
    PinEntry,
    PrintQuestion,
    ResumeOffer,
    SafeShutdown,
    SelfTest,
)
from capture.machine import CaptureState
from capture.menu_steps import Admin, LoadCards, Ready, VoidSelect
from capture.notice_steps import Guardian, Needs, Notice
from capture.rules_steps import (
    Correction,
    KkEntry,
    OfficialLogin,
    PurposeStep,
    SignatureExceptionStep,
)

#: The step class of every state.
STEPS: dict[CaptureState, Callable[[StepContext], Step]] = {
    CaptureState.BOOT: Boot,
    CaptureState.SELF_TEST: SelfTest,
    CaptureState.LOCKED: Locked,
    CaptureState.PIN_ENTRY: PinEntry,
    CaptureState.PRINT_QUESTION: PrintQuestion,
    CaptureState.RESUME_OFFER: ResumeOffer,
    CaptureState.READY: Ready,
    CaptureState.ADMIN: Admin,
    CaptureState.LOAD_CARDS: LoadCards,
    CaptureState.VOID_SELECT: VoidSelect,
    CaptureState.OFFICIAL_LOGIN: OfficialLogin,
    CaptureState.HANDOVER: HandoverMenu,
    CaptureState.HANDOVER_OFFICIAL: HandoverOfficial,
    CaptureState.HANDOVER_RESIDENT: HandoverResident,
    CaptureState.LOGIN_FINGERS: LoginFingers,
    CaptureState.ENROL_LOGIN_FINGER: EnrolLoginFinger,
    CaptureState.NIK_ENTRY: NikEntry,
    CaptureState.PURPOSE: PurposeStep,
    CaptureState.KK_ENTRY: KkEntry,
    CaptureState.CONFIRM_PERSON: ConfirmPerson,
    CaptureState.NOTICE: Notice,
    CaptureState.GUARDIAN: Guardian,
    CaptureState.NEEDS: Needs,
    CaptureState.FACE: Face,
    CaptureState.FINGERS: Fingers,
    CaptureState.FINGER_EXCEPTION: FingerExceptionStep,
    CaptureState.APPROVAL: SupervisorApproval,
    CaptureState.SIGNATURE: SignatureStep,
    CaptureState.SIGNATURE_EXCEPTION: SignatureExceptionStep,
    CaptureState.REVIEW: Review,
    CaptureState.CORRECTION: Correction,
    CaptureState.SEALING: Sealing,
    CaptureState.PRINTING: Printing,
    CaptureState.DONE: Done,
    CaptureState.SAFE_SHUTDOWN: SafeShutdown,
}


def make_steps(ctx: StepContext) -> dict[CaptureState, Step]:
    """A step for every state, all working in ``ctx``."""
    missing = set(CaptureState) - set(STEPS)
    if missing:
        raise LookupError(f"no step for the states {sorted(missing)}: add them to STEPS")
    return {state: make(ctx) for state, make in STEPS.items()}
