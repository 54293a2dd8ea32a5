"""The capture loop's states and the events that move between them (DESIGN "The capture loop").

Declared with python-statemachine's strict ``StateMachine``: an event a state does not
accept raises ``TransitionNotAllowed`` (the controller only sends events it offers), and
the diagram in docs/capture-states.md is generated from this class and checked by a test.

Guards (``cond=``) are answered by the model, the :class:`capture.controller.Controller`,
which holds the enrolment in progress.  What happens inside a state (menus, digit entry,
device jobs, retries) is the controller's; this class is the map.
"""

from __future__ import annotations

from statemachine import State, StateMachine

#: States in which a person is being captured: BACK retries, held BACK cancels.
CAPTURE_STATES = frozenset(
    {"confirm_person", "face", "fingers", "finger_exception", "signature", "review"}
)


class CaptureMachine(StateMachine):
    boot = State(initial=True)
    self_test = State()
    locked = State()
    pin_entry = State()
    print_question = State()
    resume_offer = State()
    ready = State()
    admin = State()
    load_cards = State()
    void_select = State()
    nik_entry = State()
    confirm_person = State()
    face = State()
    fingers = State()
    finger_exception = State()
    approval = State()
    signature = State()
    review = State()
    sealing = State()
    printing = State()
    done = State()
    safe_shutdown = State(final=True)

    booted = boot.to(self_test)
    tested = self_test.to(locked)
    use_pin = locked.to(pin_entry)
    leave_pin = pin_entry.to(locked)
    logged_in = (
        locked.to(print_question, cond="print_unresolved")
        | locked.to(resume_offer, cond="journal_open")
        | locked.to(ready)
        | pin_entry.to(print_question, cond="print_unresolved")
        | pin_entry.to(resume_offer, cond="journal_open")
        | pin_entry.to(ready)
    )
    answered = (
        print_question.to(print_question, cond="print_unresolved")
        | print_question.to(resume_offer, cond="journal_open")
        | print_question.to(ready)
    )
    resume = resume_offer.to(confirm_person)
    discard = resume_offer.to(ready)

    choose_person = ready.to(confirm_person)
    walk_in = ready.to(nik_entry)
    nik_entered = nik_entry.to(confirm_person)
    open_admin = ready.to(admin)
    close_admin = admin.to(ready) | load_cards.to(ready) | void_select.to(ready)
    choose_load_cards = admin.to(load_cards)
    choose_void = admin.to(void_select)
    void_chosen = void_select.to(approval)

    start = (
        confirm_person.to(face, cond="needs_face")
        | confirm_person.to(fingers, cond="needs_fingers")
        | confirm_person.to(signature, cond="needs_signature")
        | confirm_person.to(review)
    )
    face_taken = face.to(fingers, cond="needs_fingers") | face.to(signature)
    ask_exception = fingers.to(finger_exception)
    exception_chosen = finger_exception.to(fingers)
    fingers_taken = fingers.to(approval, cond="needs_finger_approval") | fingers.to(signature)
    approved = (
        approval.to(signature, cond="approving_fingers")
        | approval.to(sealing, cond="approving_void")
        | approval.to(printing)
    )
    approval_refused = approval.to(fingers, cond="approving_fingers") | approval.to(ready)
    signature_taken = signature.to(review)
    seal = review.to(sealing)
    sealed = sealing.to(printing, cond="will_print") | sealing.to(done)
    seal_failed = sealing.to(review, cond="has_draft") | sealing.to(ready)
    print_finished = printing.to(done)
    reprint = done.to(approval)
    next_person = done.to(ready)

    cancel = (
        confirm_person.to(ready)
        | nik_entry.to(ready)
        | face.to(ready)
        | fingers.to(ready)
        | finger_exception.to(ready)
        | signature.to(ready)
        | review.to(ready)
    )
    lock = (
        pin_entry.to(locked)
        | ready.to(locked)
        | admin.to(locked)
        | confirm_person.to(locked)
        | nik_entry.to(locked)
        | face.to(locked)
        | fingers.to(locked)
        | finger_exception.to(locked)
        | signature.to(locked)
        | review.to(locked)
        | done.to(locked)
        | load_cards.to(locked)
        | void_select.to(locked)
        | approval.to(locked)
    )
    power_lost = (
        locked.to(safe_shutdown)
        | pin_entry.to(safe_shutdown)
        | ready.to(safe_shutdown)
        | admin.to(safe_shutdown)
        | confirm_person.to(safe_shutdown)
        | nik_entry.to(safe_shutdown)
        | face.to(safe_shutdown)
        | fingers.to(safe_shutdown)
        | finger_exception.to(safe_shutdown)
        | signature.to(safe_shutdown)
        | review.to(safe_shutdown)
        | done.to(safe_shutdown)
        | resume_offer.to(safe_shutdown)
        | print_question.to(safe_shutdown)
        | load_cards.to(safe_shutdown)
        | void_select.to(safe_shutdown)
        | approval.to(safe_shutdown)
    )
