"""The fault switch every simulated device shares.

Emulators, register models and contract doubles all let a test break them on purpose:
``inject(kind)`` starts a fault named in ``FAULTS``, ``clear_faults()`` ends them all,
and the wire emulators can pull the cable part-way through a stream with
``unplug_after(nbytes)``.  Kept in one place so every device refuses an unknown kind the
same way and a cut counts its bytes the same way on every wire.
"""

from __future__ import annotations

import threading


class FaultSwitch:
    """Mixin: the set of injected faults, checked against :attr:`FAULTS`, and a byte countdown.

    A subclass calls ``super().__init__(device)``; ``device`` names it in error messages
    ("fingerprint", "card printer").  It may extend ``FAULTS`` (always keeping
    ``"unplugged"``: the device stops answering) and extend :meth:`inject` or
    :meth:`clear_faults` to act out its own faults.  ``self._lock`` is reentrant and guards
    the subclass's own state too: faults change from the test's thread while the device
    answers from its link's.  A wire emulator passes every chunk it sends or hears through
    :meth:`_let_through` so that :meth:`unplug_after` can cut it.
    """

    FAULTS: tuple[str, ...] = ("unplugged",)

    def __init__(self, device: str) -> None:
        self._fault_device = device
        self._faults: set[str] = set()
        self._cut_after: int | None = None  # bytes still passing before unplug_after() cuts
        self._lock = threading.RLock()

    @property
    def faults(self) -> frozenset[str]:
        """The faults in force now."""
        with self._lock:
            return frozenset(self._faults)

    def inject(self, kind: str) -> None:
        """Start fault ``kind``, one of :attr:`FAULTS`; it lasts until :meth:`clear_faults`
        unless the device documents it as one-shot."""
        if kind not in self.FAULTS:
            raise ValueError(
                f"unknown {self._fault_device} fault {kind!r}; "
                f"valid kinds: {', '.join(self.FAULTS)}"
            )
        with self._lock:
            self._faults.add(kind)

    def clear_faults(self) -> None:
        """End every fault, a pending :meth:`unplug_after` included: plugged back in."""
        with self._lock:
            self._faults.clear()
            self._cut_after = None

    def unplug_after(self, nbytes: int) -> None:
        """Go silent (fault ``unplugged``) once ``nbytes`` more bytes have passed the wire.

        The cut falls wherever the count ends, mid-frame included, as a cable pulled in
        the middle of a transfer leaves the other side holding a piece of it.
        """
        if nbytes < 0:
            raise ValueError(
                f"cannot unplug the {self._fault_device} after {nbytes} bytes; give 0 or more"
            )
        with self._lock:
            self._cut_after = nbytes

    def _take_fault(self, kind: str) -> bool:
        """Whether one-shot fault ``kind`` is armed; it is spent by asking."""
        with self._lock:
            armed = kind in self._faults
            self._faults.discard(kind)
            return armed

    def _let_through(self, data: bytes) -> tuple[bytes, bool]:
        """What of ``data`` passes before a pending cut, and whether the cut struck now.

        When it strikes, fault ``unplugged`` is already on; an unplugged device lets
        nothing through.
        """
        with self._lock:
            if "unplugged" in self._faults:
                return b"", False
            if self._cut_after is None:
                return data, False
            if len(data) < self._cut_after:
                self._cut_after -= len(data)
                return data, False
            data, self._cut_after = data[: self._cut_after], None
            self._faults.add("unplugged")
            return data, True
