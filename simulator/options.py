"""What every way of running the simulated kit takes, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capture.prompts import Language

#: Where a simulated kit keeps its data unless told otherwise (`make run` uses it too).
DEFAULT_DATA_DIR = Path("var/kit")


@dataclass(frozen=True)
class SimOptions:
    """The data folder, the world's seed, the prompts' language, and the wires' pace."""

    data_dir: Path = DEFAULT_DATA_DIR
    seed: int = 1
    language: Language = Language.ID
    #: The emulators answer as fast as their ptys allow instead of at their wires' speed.
    fast: bool = False
