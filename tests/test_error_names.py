"""Every exception class of Jemput has a name no other package uses.

A traceback, a log line or an ``except`` names an error by its class name alone; two
``ProtocolError``s (a device's and the provisioning port's) made both ambiguous.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

PACKAGES = ("capture", "firmware", "hal", "hw_sim", "provisioning", "storage")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".pico" not in info.name and not info.name.endswith("__main__"):
                names.append(info.name)
    return names


def test_exception_names_are_unique_across_packages() -> None:
    defined: dict[str, set[str]] = defaultdict(set)
    for name in _modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                defined[value.__name__].add(name)
    twice = {error: sorted(where) for error, where in defined.items() if len(where) > 1}
    assert not twice, f"exception names defined more than once: {twice}"
