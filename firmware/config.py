"""The kit's configuration file: which backend, which ports, where the data lives.

Policy (what to record, whether to print) is NOT here: the authority provisions it and
it lives in the kit's store.  This file only says how this particular box is wired, so a
technician can edit it on the SD card.  A mistake names the file, the table and the key,
and says what was expected, because the person reading it is holding a screwdriver.
"""

from __future__ import annotations

import difflib
import enum
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from capture.prompts import Language
from hal.types import SensorModel
from storage.keys import KeyBackend
from storage.kitkey import KeySettings
from storage.tpm import DEFAULT_TCTI


class ConfigError(ValueError):
    """The configuration file is unreadable or holds a bad key or value."""


class Backend(enum.Enum):
    SIM = "sim"  # the hardware simulator: emulators behind the real drivers
    PI = "pi"  # the real parts on a Raspberry Pi


@dataclass(frozen=True)
class DevicePorts:
    """Where each part is attached on the Pi (see docs/hardware.md)."""

    fingerprint: str = "/dev/serial0"
    signature_pad: str = "/dev/ttyUSB0"
    card_printer: str = ""  # empty: no card printer fitted
    receipt_printer: str = ""  # empty: no receipt printer fitted
    provisioning: str = "/dev/ttyGS0"
    coprocessor: str = ""  # the power Pico's UART (/dev/ttyAMA1 on UART3); empty: none fitted
    i2c_bus: int = 1


@dataclass(frozen=True)
class KitParts:
    """Which model of a part the kit is built with, where the driver cannot ask the part.

    The fingerprint sensor reports its library size but not its image size, so the
    model is named here; the driver checks the library it reports against it.
    """

    fingerprint: SensorModel = SensorModel.R307


@dataclass(frozen=True)
class KitConfig:
    backend: Backend = Backend.SIM
    language: Language = Language.ID
    data_dir: Path = Path("var/kit")
    log_level: str = "INFO"
    ports: DevicePorts = field(default_factory=DevicePorts)
    parts: KitParts = field(default_factory=KitParts)
    #: Where flash makes the kit's keys: "file" (simulator, developers: UNPROTECTED) or "tpm".
    key_backend: KeyBackend = KeyBackend.FILE
    #: How tpm2-tss reaches the TPM (the kernel's resource manager on a Pi).
    tpm_tcti: str = DEFAULT_TCTI
    #: Where the kit's software slots are (docs/updates.md): updates install there.
    slots: Path = Path("/opt/jemput")

    @property
    def keys(self) -> KeySettings:
        return KeySettings(self.key_backend, self.tpm_tcti)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def load_config(path: Path | None, **overrides: Any) -> KitConfig:
    """Read ``path`` (TOML) over the defaults, then apply non-None ``overrides``.

    Raises ConfigError naming the file and key for anything wrong.
    """
    raw: dict[str, Any] = {}
    where = str(path) if path else "(defaults)"
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{where}: no such configuration file") from None
        except IsADirectoryError:
            raise ConfigError(
                f"{where} is a folder, not a configuration file: give the kit.toml inside it"
            ) from None
        except UnicodeDecodeError as exc:
            line = path.read_bytes().count(b"\n", 0, exc.start) + 1
            raise ConfigError(
                f"{where}: line {line}: byte {exc.start} is not UTF-8; save the file as UTF-8 "
                "(any text editor's default) and start again"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{where}: cannot be read ({exc.strerror or exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    _reject_unknown(raw, {"kit", "ports", "parts"}, where, "")
    kit = _table(raw, "kit", where)
    _reject_unknown(
        kit,
        {"backend", "language", "data_dir", "log_level", "key_backend", "tpm_tcti", "slots"},
        where,
        "[kit] ",
    )
    ports_raw = _table(raw, "ports", where)
    port_names = {f.name for f in fields(DevicePorts)}
    _reject_unknown(ports_raw, port_names, where, "[ports] ")

    ports = DevicePorts(
        **{
            name: _typed(ports_raw, name, int if name == "i2c_bus" else str, where, "ports")
            for name in port_names
            if name in ports_raw
        }
    )
    parts_raw = _table(raw, "parts", where)
    _reject_unknown(parts_raw, {f.name for f in fields(KitParts)}, where, "[parts] ")
    parts = KitParts()
    if "fingerprint" in parts_raw:
        parts = KitParts(fingerprint=_choice(parts_raw, "fingerprint", SensorModel, where, "parts"))
    values: dict[str, Any] = {"ports": ports, "parts": parts}
    if "backend" in kit:
        values["backend"] = _choice(kit, "backend", Backend, where)
    if "language" in kit:
        values["language"] = _choice(kit, "language", Language, where)
    if "data_dir" in kit:
        values["data_dir"] = Path(_typed(kit, "data_dir", str, where, "kit"))
    if "slots" in kit:
        values["slots"] = Path(_typed(kit, "slots", str, where, "kit"))
    if "key_backend" in kit:
        values["key_backend"] = _choice(kit, "key_backend", KeyBackend, where)
    if "tpm_tcti" in kit:
        values["tpm_tcti"] = _typed(kit, "tpm_tcti", str, where, "kit")
    if "log_level" in kit:
        level = _typed(kit, "log_level", str, where, "kit").upper()
        if level not in _LOG_LEVELS:
            raise ConfigError(f"{where}: [kit] log_level must be one of {', '.join(_LOG_LEVELS)}")
        values["log_level"] = level
    values.update({key: value for key, value in overrides.items() if value is not None})
    return KitConfig(**values)


def prepare_data_dir(config: KitConfig, *, source: str = "[kit] data_dir") -> Path:
    """Make the kit's data folder (mode 0700) if it is missing; ConfigError if it cannot be.

    ``source`` says where the folder was named (the file's key, or ``--data-dir``), so the
    technician knows what to change.
    """
    folder = config.data_dir
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(
            f"{source} {folder} is a file, not a folder: name a folder for the kit's data"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{source} {folder} cannot be made ({exc.strerror or exc}): name a folder the "
            "kit's user may write, or create it and give it to that user"
        ) from None
    if not folder.is_dir():
        raise ConfigError(f"{source} {folder} is not a folder: name a folder for the kit's data")
    return folder


def _table(raw: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{name}] must be a table, got {type(table).__name__}")
    return table


def _reject_unknown(table: dict[str, Any], known: set[str], where: str, prefix: str) -> None:
    for key in table:
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            suggestion = f": did you mean {hint[0]!r}?" if hint else f" (known: {sorted(known)})"
            raise ConfigError(f"{where}: unknown key {prefix}{key}{suggestion}")


def _typed(table: dict[str, Any], key: str, kind: type, where: str, section: str) -> Any:
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{where}: [{section}] {key} must be {kind.__name__}, got {value!r}")
    return value


def _choice(
    table: dict[str, Any], key: str, kind: type[enum.Enum], where: str, section: str = "kit"
) -> Any:
    value = table[key]
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise ConfigError(
            f"{where}: [{section}] {key} must be one of {allowed}, got {value!r}"
        ) from None
