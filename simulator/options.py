"""What a simulated kit is opened with, in one place (`simulator.kit.open_sim_kit` takes only this).

Why one dataclass: a kit is opened by five commands and many tests, each with its own
needs, and a row of keyword flags let a caller ask for what cannot be (a power
co-processor on the contract-level doubles) and have it silently dropped.  Here the
choices are grouped by what they decide (the world in front of the kit, the parts behind
its drivers, what a fresh data folder becomes), and a combination that cannot work is
refused when it is made, with a message (`SimOptionsError`).  Each command
(`simulator.cli`) fills in what its person chose; each way of running the kit adds what
it needs with `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from capture.prompts import Language
from hal.types import SensorModel
from hw_sim.timing import Timing
from storage.kitkey import KeySettings

#: Where a simulated kit keeps its data unless told otherwise (`make run` uses it too).
DEFAULT_DATA_DIR = Path("var/kit")


class SimOptionsError(ValueError):
    """Simulator options that cannot work together."""


class Provisioning(Enum):
    """What a data folder that is not a kit yet becomes when the simulated kit opens on it.

    A folder that already holds a kit stays the kit it is.
    """

    #: A demo kit: a demo authority, the world's officers and worklist, a card stock.
    DEMO = "demo"
    #: A training kit: its certificate says so, and collectors refuse what it seals.  A
    #: folder that holds a kit whose records count is refused (`NotATrainingKit`).
    TRAINING = "training"
    #: Nothing: the kit shows it is not flashed and waits for ``jemput-prov flash``.
    UNFLASHED = "unflashed"


@dataclass(frozen=True)
class SimParts:
    """What stands behind the kit's drivers.

    By default the kit's real drivers talk to the wire-level emulators (ptys, register
    models, mock GPIO pins), as on a kit; with ``doubles`` the contract-level doubles
    stand in: no wires, a capture in milliseconds.  What only wires can have (their pace,
    the power co-processor on its serial line) is refused with the doubles.
    """

    doubles: bool = False
    #: The emulators answer as fast as their ptys allow instead of at their wires' speed
    #: (as with ``JEMPUT_TIMING=fast``, which the test suite sets).
    fast: bool = False
    #: The power Pico's own firmware under MicroPython behind the real driver
    #: (`simulator.power`): it heartbeats, its button asks for a safe shutdown, its ADC
    #: reads the world's battery.
    coprocessor: bool = False
    #: How much of a part's real time a wait takes: 1.0 as on a kit (a person at the
    #: screen needs the sensor's whole wait to choose a finger), 0.0 as little as it can
    #: (scripted runs, tests).  The doubles take it as it is; the emulators' waits for a
    #: finger or a pen that nobody brings shrink to it, never below
    #: `simulator.kit.WIRED_WAIT_SCALE` (a sensor answers "no finger" only after a while).
    time_scale: float = 0.0
    #: The fingerprint sensor's model, behind the driver configured for it (as kit.toml's
    #: ``[parts] fingerprint`` does on a kit): its image size and library.
    sensor: SensorModel = SensorModel.R307
    #: The emulators' clock, whatever ``JEMPUT_TIMING`` says (None: ``fast``, else that
    #: variable decides).  A benchmark gives the timed wires (perhaps at a scale) so that
    #: a shell which exported the test suite's ``JEMPUT_TIMING=fast`` cannot untime them.
    timing: Timing | None = None

    def __post_init__(self) -> None:
        if self.fast and self.timing is not None:
            raise SimOptionsError(
                "fast and a timing both say how fast the wires run: give one (a fast timing "
                "is Timing(fast=True))"
            )
        if not self.doubles:
            return
        wired_only = [name for name in ("fast", "coprocessor", "timing") if getattr(self, name)]
        if self.sensor is not SensorModel.R307:
            wired_only.append("sensor")
        if wired_only:
            raise SimOptionsError(
                "the contract-level doubles have no wires to pace, no power co-processor and "
                f"no sensor but an R307's library: {' and '.join(wired_only)} "
                f"need{'s' * (len(wired_only) == 1)} the wire emulators"
            )


#: The contract-level doubles behind the drivers (unit tests, quick scripted days).
DOUBLES = SimParts(doubles=True)


@dataclass(frozen=True)
class SimOptions:
    """The data folder, the world in front of the kit, the parts behind it, what a fresh
    folder becomes, and who boots it."""

    data_dir: Path = DEFAULT_DATA_DIR
    #: The simulated world's seed: who lives in the village, their fingers and faces.
    seed: int = 1
    language: Language = Language.ID
    parts: SimParts = field(default_factory=SimParts)
    #: How fast the world's clock runs: 1.0 in real time (from the real time now, so later
    #: runs record after earlier ones); 0.0 stands still until stepped (a scripted day).
    clock_speed: float = 1.0
    #: The world has the outreach day's rules cases (children, a lost card, a domicile
    #: walk-in ...: `hw_sim.world.World`).
    cases: bool = False
    provisioning: Provisioning = Provisioning.DEMO
    #: The kit boots as it opens, for a caller that drives its loop on this thread (a
    #: scripted day, a test); False: the thread that will drive the loop boots it
    #: (``host.run``).
    booted: bool = True
    #: Where a keygen over the port makes the kit's key.
    keys: KeySettings = field(default_factory=KeySettings)
