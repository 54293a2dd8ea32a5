"""The capture loop's states, its events and the moves between them (DESIGN "The capture loop").

This module is the flow's one declaration.  :class:`CaptureState` names every state and
:class:`CaptureEvent` every event; :class:`CaptureMachine` (python-statemachine's strict
``StateMachine``, so an event a state does not accept raises ``TransitionNotAllowed``) is
built from them, and the diagram in docs/capture-states.md is generated from it and checked
by a test.  The sets of states the rest of the loop needs (which states the idle lock may
interrupt, which cancel with a confirmation, where a critical battery switches off at once)
are read off the transitions here, so they cannot drift from the map.

Conditions (``cond=``) are answered by :class:`capture.conditions.Conditions`, which the
controller hands the machine as a listener; the controller is the model that holds the
state.  What a state does with buttons and device results is its step's
(:mod:`capture.registry`).
"""

from __future__ import annotations

import enum

from statemachine import StateMachine
from statemachine.states import States


class CaptureState(enum.StrEnum):
    """Every state of the capture loop; the machine's states are made from these."""

    BOOT = "boot"
    SELF_TEST = "self_test"
    LOCKED = "locked"
    PIN_ENTRY = "pin_entry"
    PRINT_QUESTION = "print_question"
    RESUME_OFFER = "resume_offer"
    READY = "ready"
    ADMIN = "admin"
    LOAD_CARDS = "load_cards"
    VOID_SELECT = "void_select"
    OFFICIAL_LOGIN = "official_login"
    HANDOVER = "handover"
    HANDOVER_OFFICIAL = "handover_official"
    HANDOVER_RESIDENT = "handover_resident"
    LOGIN_FINGERS = "login_fingers"
    ENROL_LOGIN_FINGER = "enrol_login_finger"
    NIK_ENTRY = "nik_entry"
    PURPOSE = "purpose"
    KK_ENTRY = "kk_entry"
    CONFIRM_PERSON = "confirm_person"
    NOTICE = "notice"
    GUARDIAN = "guardian"
    NEEDS = "needs"
    FACE = "face"
    FINGERS = "fingers"
    FINGER_EXCEPTION = "finger_exception"
    APPROVAL = "approval"
    SIGNATURE = "signature"
    SIGNATURE_EXCEPTION = "signature_exception"
    REVIEW = "review"
    CORRECTION = "correction"
    SEALING = "sealing"
    PRINTING = "printing"
    DONE = "done"
    SAFE_SHUTDOWN = "safe_shutdown"


class CaptureEvent(enum.StrEnum):
    """Every event the machine accepts; a test holds it equal to the machine's events."""

    BOOTED = "booted"
    TESTED = "tested"
    USE_PIN = "use_pin"
    LEAVE_PIN = "leave_pin"
    LOGGED_IN = "logged_in"
    ANSWERED = "answered"
    RESUME = "resume"
    DISCARD = "discard"
    CHOOSE_PERSON = "choose_person"
    WALK_IN = "walk_in"
    NIK_ENTERED = "nik_entered"
    PURPOSE_CHOSEN = "purpose_chosen"
    KK_ENTERED = "kk_entered"
    LEAVE_WALK_IN = "leave_walk_in"
    CHOOSE_OFFICIAL = "choose_official"
    OPEN_ADMIN = "open_admin"
    CLOSE_ADMIN = "close_admin"
    CHOOSE_LOAD_CARDS = "choose_load_cards"
    CHOOSE_VOID = "choose_void"
    VOID_CHOSEN = "void_chosen"
    CHOOSE_HANDOVER = "choose_handover"
    ACKNOWLEDGE = "acknowledge"
    HAND_OVER = "hand_over"
    HANDOVER_DONE = "handover_done"
    CHOOSE_LOGIN_FINGERS = "choose_login_fingers"
    ENROL_LOGIN_FINGER = "enrol_login_finger"
    LOGIN_FINGER_ENROLLED = "login_finger_enrolled"
    LEAVE_LOGIN_FINGER = "leave_login_finger"
    START = "start"
    NOTICE_GIVEN = "notice_given"
    GUARDIAN_NAMED = "guardian_named"
    NEEDS_DECLARED = "needs_declared"
    FACE_TAKEN = "face_taken"
    ASK_EXCEPTION = "ask_exception"
    EXCEPTION_CHOSEN = "exception_chosen"
    FINGERS_TAKEN = "fingers_taken"
    DUPLICATE_FOUND = "duplicate_found"
    APPROVED = "approved"
    APPROVAL_REFUSED = "approval_refused"
    SIGNATURE_TAKEN = "signature_taken"
    ASK_SIGNATURE_EXCEPTION = "ask_signature_exception"
    SIGNATURE_EXCEPTION_CHOSEN = "signature_exception_chosen"
    LEAVE_SIGNATURE_EXCEPTION = "leave_signature_exception"
    CORRECT = "correct"
    CORRECTION_CHOSEN = "correction_chosen"
    FREE_TEXT_FLAGGED = "free_text_flagged"
    LEAVE_CORRECTION = "leave_correction"
    SEAL = "seal"
    SEALED = "sealed"
    SEAL_FAILED = "seal_failed"
    PRINT_FINISHED = "print_finished"
    REPRINT = "reprint"
    NEXT_PERSON = "next_person"
    CANCEL = "cancel"
    LOCK = "lock"
    POWER_LOST = "power_lost"


#: Where the machine starts, and where it ends.
INITIAL_STATE, FINAL_STATE = CaptureState.BOOT, CaptureState.SAFE_SHUTDOWN


class CaptureMachine(StateMachine):
    _ = States.from_enum(CaptureState, initial=INITIAL_STATE, final=FINAL_STATE)

    booted = _.BOOT.to(_.SELF_TEST)
    tested = _.SELF_TEST.to(_.LOCKED)
    use_pin = _.LOCKED.to(_.PIN_ENTRY)
    leave_pin = _.PIN_ENTRY.to(_.LOCKED)
    logged_in = (
        _.LOCKED.to(_.PRINT_QUESTION, cond="print_unresolved")
        | _.LOCKED.to(_.RESUME_OFFER, cond="journal_open")
        | _.LOCKED.to(_.READY)
        | _.PIN_ENTRY.to(_.PRINT_QUESTION, cond="print_unresolved")
        | _.PIN_ENTRY.to(_.RESUME_OFFER, cond="journal_open")
        | _.PIN_ENTRY.to(_.READY)
    )
    answered = (
        _.PRINT_QUESTION.to(_.PRINT_QUESTION, cond="print_unresolved")
        | _.PRINT_QUESTION.to(_.RESUME_OFFER, cond="journal_open")
        | _.PRINT_QUESTION.to(_.READY)
    )
    resume = _.RESUME_OFFER.to(_.CONFIRM_PERSON)
    discard = _.RESUME_OFFER.to(_.READY)

    choose_person = _.READY.to(_.CONFIRM_PERSON)
    walk_in = _.READY.to(_.NIK_ENTRY)
    nik_entered = _.NIK_ENTRY.to(_.PURPOSE)
    #: A walk-in whose NIK is of another regency records at a temporary domicile, with the KK.
    purpose_chosen = _.PURPOSE.to(_.KK_ENTRY, cond="from_elsewhere") | _.PURPOSE.to(
        _.CONFIRM_PERSON
    )
    kk_entered = _.KK_ENTRY.to(_.CONFIRM_PERSON)
    leave_walk_in = _.NIK_ENTRY.to(_.READY) | _.PURPOSE.to(_.READY) | _.KK_ENTRY.to(_.READY)
    open_admin = _.READY.to(_.ADMIN)
    close_admin = (
        _.ADMIN.to(_.READY)
        | _.LOAD_CARDS.to(_.READY)
        | _.VOID_SELECT.to(_.READY)
        | _.OFFICIAL_LOGIN.to(_.READY)
        | _.HANDOVER.to(_.READY)
        | _.LOGIN_FINGERS.to(_.READY)
    )
    choose_official = _.ADMIN.to(_.OFFICIAL_LOGIN)
    #: The handover of printed cards: the village official acknowledges a batch, then each
    #: resident takes their card, confirmed by finger or signature.
    choose_handover = _.ADMIN.to(_.HANDOVER)
    acknowledge = _.HANDOVER.to(_.HANDOVER_OFFICIAL)
    hand_over = _.HANDOVER.to(_.HANDOVER_RESIDENT)
    handover_done = _.HANDOVER_OFFICIAL.to(_.HANDOVER) | _.HANDOVER_RESIDENT.to(_.HANDOVER)
    choose_load_cards = _.ADMIN.to(_.LOAD_CARDS)
    choose_void = _.ADMIN.to(_.VOID_SELECT)
    void_chosen = _.VOID_SELECT.to(_.APPROVAL)
    #: A supervisor puts an officer's login finger on the officer's flashed sensor page:
    #: two captures, after a search that refuses a resident's or another officer's finger.
    choose_login_fingers = _.ADMIN.to(_.LOGIN_FINGERS)
    enrol_login_finger = _.LOGIN_FINGERS.to(_.ENROL_LOGIN_FINGER)
    login_finger_enrolled = _.ENROL_LOGIN_FINGER.to(_.LOGIN_FINGERS)
    leave_login_finger = _.ENROL_LOGIN_FINGER.to(_.LOGIN_FINGERS)

    #: Before anything is captured, the notice of processing is read (to a parent or
    #: guardian for a child, who is named), then any disability and adaptation declared.
    start = (
        _.CONFIRM_PERSON.to(_.NOTICE, cond="needs_notice")
        | _.CONFIRM_PERSON.to(_.FACE, cond="needs_face")
        | _.CONFIRM_PERSON.to(_.FINGERS, cond="needs_fingers")
        | _.CONFIRM_PERSON.to(_.SIGNATURE, cond="needs_signature")
        | _.CONFIRM_PERSON.to(_.REVIEW)
    )
    notice_given = _.NOTICE.to(_.GUARDIAN, cond="needs_guardian") | _.NOTICE.to(_.NEEDS)
    guardian_named = _.GUARDIAN.to(_.NEEDS)
    #: Nothing is captured before the notice: the face comes next, or (a KIA under 5) review.
    needs_declared = _.NEEDS.to(_.FACE, cond="needs_face") | _.NEEDS.to(_.REVIEW)
    face_taken = (
        _.FACE.to(_.FINGERS, cond="needs_fingers")
        | _.FACE.to(_.SIGNATURE, cond="needs_signature")
        | _.FACE.to(_.REVIEW)
    )
    ask_exception = _.FINGERS.to(_.FINGER_EXCEPTION)
    exception_chosen = _.FINGER_EXCEPTION.to(_.FINGERS)
    fingers_taken = _.FINGERS.to(_.APPROVAL, cond="needs_finger_approval") | _.FINGERS.to(
        _.SIGNATURE
    )
    #: A finger of someone enrolled before: only a supervisor lets the capture go on.
    duplicate_found = _.FINGERS.to(_.APPROVAL)
    approved = (
        _.APPROVAL.to(_.FINGERS, cond="approving_duplicate")
        | _.APPROVAL.to(_.SIGNATURE, cond="approving_fingers")
        | _.APPROVAL.to(_.SEALING, cond="approving_void")
        | _.APPROVAL.to(_.REVIEW, cond="approving_at_capture")
        | _.APPROVAL.to(_.PRINTING)
    )
    approval_refused = (
        _.APPROVAL.to(_.FINGERS, cond="approving_fingers")
        | _.APPROVAL.to(_.SIGNATURE, cond="approving_signature")
        | _.APPROVAL.to(_.REVIEW, cond="approving_correction")
        | _.APPROVAL.to(_.READY)
    )
    signature_taken = _.SIGNATURE.to(_.REVIEW)
    #: A person who cannot sign: a reason from the list, then a supervisor's approval.
    ask_signature_exception = _.SIGNATURE.to(_.SIGNATURE_EXCEPTION)
    signature_exception_chosen = _.SIGNATURE_EXCEPTION.to(_.APPROVAL)
    leave_signature_exception = _.SIGNATURE_EXCEPTION.to(_.SIGNATURE)
    #: At review: an enumerated field corrected (the official approves), or a free-text
    #: error flagged for the office.
    correct = _.REVIEW.to(_.CORRECTION)
    correction_chosen = _.CORRECTION.to(_.APPROVAL)
    free_text_flagged = _.CORRECTION.to(_.REVIEW)
    leave_correction = _.CORRECTION.to(_.REVIEW)
    seal = _.REVIEW.to(_.SEALING)
    sealed = _.SEALING.to(_.PRINTING, cond="will_print") | _.SEALING.to(_.DONE)
    seal_failed = _.SEALING.to(_.REVIEW, cond="has_draft") | _.SEALING.to(_.READY)
    print_finished = _.PRINTING.to(_.DONE)
    reprint = _.DONE.to(_.APPROVAL)
    next_person = _.DONE.to(_.READY)

    #: Held BACK, confirmed: the person being captured is dropped.
    cancel = (
        _.CONFIRM_PERSON.to(_.READY)
        | _.NOTICE.to(_.READY)
        | _.GUARDIAN.to(_.READY)
        | _.NEEDS.to(_.READY)
        | _.FACE.to(_.READY)
        | _.FINGERS.to(_.READY)
        | _.FINGER_EXCEPTION.to(_.READY)
        | _.SIGNATURE.to(_.READY)
        | _.SIGNATURE_EXCEPTION.to(_.READY)
        | _.REVIEW.to(_.READY)
        | _.CORRECTION.to(_.READY)
    )
    #: The idle lock (or the officer's menu): never while sealing or printing.
    lock = (
        _.PIN_ENTRY.to(_.LOCKED)
        | _.READY.to(_.LOCKED)
        | _.ADMIN.to(_.LOCKED)
        | _.CONFIRM_PERSON.to(_.LOCKED)
        | _.NOTICE.to(_.LOCKED)
        | _.GUARDIAN.to(_.LOCKED)
        | _.NEEDS.to(_.LOCKED)
        | _.NIK_ENTRY.to(_.LOCKED)
        | _.PURPOSE.to(_.LOCKED)
        | _.KK_ENTRY.to(_.LOCKED)
        | _.OFFICIAL_LOGIN.to(_.LOCKED)
        | _.FACE.to(_.LOCKED)
        | _.FINGERS.to(_.LOCKED)
        | _.FINGER_EXCEPTION.to(_.LOCKED)
        | _.SIGNATURE.to(_.LOCKED)
        | _.SIGNATURE_EXCEPTION.to(_.LOCKED)
        | _.REVIEW.to(_.LOCKED)
        | _.CORRECTION.to(_.LOCKED)
        | _.DONE.to(_.LOCKED)
        | _.LOAD_CARDS.to(_.LOCKED)
        | _.VOID_SELECT.to(_.LOCKED)
        | _.APPROVAL.to(_.LOCKED)
        | _.HANDOVER.to(_.LOCKED)
        | _.HANDOVER_OFFICIAL.to(_.LOCKED)
        | _.HANDOVER_RESIDENT.to(_.LOCKED)
        | _.LOGIN_FINGERS.to(_.LOCKED)
        | _.ENROL_LOGIN_FINGER.to(_.LOCKED)
    )
    #: A critical battery switches off at once from these; elsewhere (boot, self-test,
    #: sealing, printing) the switch-off waits until the state's work is done.
    power_lost = (
        _.LOCKED.to(_.SAFE_SHUTDOWN)
        | _.PIN_ENTRY.to(_.SAFE_SHUTDOWN)
        | _.READY.to(_.SAFE_SHUTDOWN)
        | _.ADMIN.to(_.SAFE_SHUTDOWN)
        | _.CONFIRM_PERSON.to(_.SAFE_SHUTDOWN)
        | _.NOTICE.to(_.SAFE_SHUTDOWN)
        | _.GUARDIAN.to(_.SAFE_SHUTDOWN)
        | _.NEEDS.to(_.SAFE_SHUTDOWN)
        | _.NIK_ENTRY.to(_.SAFE_SHUTDOWN)
        | _.PURPOSE.to(_.SAFE_SHUTDOWN)
        | _.KK_ENTRY.to(_.SAFE_SHUTDOWN)
        | _.OFFICIAL_LOGIN.to(_.SAFE_SHUTDOWN)
        | _.FACE.to(_.SAFE_SHUTDOWN)
        | _.FINGERS.to(_.SAFE_SHUTDOWN)
        | _.FINGER_EXCEPTION.to(_.SAFE_SHUTDOWN)
        | _.SIGNATURE.to(_.SAFE_SHUTDOWN)
        | _.SIGNATURE_EXCEPTION.to(_.SAFE_SHUTDOWN)
        | _.REVIEW.to(_.SAFE_SHUTDOWN)
        | _.CORRECTION.to(_.SAFE_SHUTDOWN)
        | _.DONE.to(_.SAFE_SHUTDOWN)
        | _.RESUME_OFFER.to(_.SAFE_SHUTDOWN)
        | _.PRINT_QUESTION.to(_.SAFE_SHUTDOWN)
        | _.LOAD_CARDS.to(_.SAFE_SHUTDOWN)
        | _.VOID_SELECT.to(_.SAFE_SHUTDOWN)
        | _.APPROVAL.to(_.SAFE_SHUTDOWN)
        | _.HANDOVER.to(_.SAFE_SHUTDOWN)
        | _.HANDOVER_OFFICIAL.to(_.SAFE_SHUTDOWN)
        | _.HANDOVER_RESIDENT.to(_.SAFE_SHUTDOWN)
        | _.LOGIN_FINGERS.to(_.SAFE_SHUTDOWN)
        | _.ENROL_LOGIN_FINGER.to(_.SAFE_SHUTDOWN)
    )


def declared_transitions() -> frozenset[tuple[CaptureState, CaptureEvent, CaptureState]]:
    """(source, event, target) of every transition the machine declares."""
    return frozenset(
        (state.value, CaptureEvent(event.id), transition.target.value)
        for state in CaptureMachine.states
        for transition in state.transitions
        for event in transition.events
    )


def sources(event: CaptureEvent) -> frozenset[CaptureState]:
    """The states that accept ``event``."""
    return frozenset(source for source, name, _ in declared_transitions() if name is event)


#: States in which a person is being captured: BACK retries, held BACK cancels (confirmed).
CAPTURE_STATES = sources(CaptureEvent.CANCEL)
#: States the idle lock may interrupt: never while sealing or printing.
LOCKABLE = sources(CaptureEvent.LOCK)
#: States a critical battery switches off from at once; in any other state but the final
#: one the kit finishes the state's work (a seal, a print) first.
POWER_OFF_AT_ONCE = sources(CaptureEvent.POWER_LOST)
#: States whose work (a seal, a print, the boot and its self-test) finishes before a
#: requested shutdown: every state but the final one that cannot switch off at once.
FINISH_FIRST = frozenset(CaptureState) - POWER_OFF_AT_ONCE - {FINAL_STATE}
#: States in which a seal is under way (the ones a finished seal leaves): the power
#: co-processor must never cut then.
SEAL_UNDER_WAY = sources(CaptureEvent.SEALED)
