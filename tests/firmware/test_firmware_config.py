"""Configuration loading: defaults, overrides, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.config import Backend, ConfigError, Language, load_config
from hal.types import SensorModel
from storage.keys import KeyBackend


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kit.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_override_defaults_and_cli_overrides_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[kit]\nbackend = "pi"\nlanguage = "en"\ndata_dir = "/srv/jemput"\n'
        '[ports]\nfingerprint = "/dev/ttyAMA1"\ni2c_bus = 3\n[parts]\nfingerprint = "R503"\n',
    )
    config = load_config(path, data_dir=tmp_path / "override")
    assert config.backend is Backend.PI
    assert config.language is Language.EN
    assert config.data_dir == tmp_path / "override"
    assert config.ports.fingerprint == "/dev/ttyAMA1"
    assert config.ports.i2c_bus == 3
    assert config.ports.signature_pad == "/dev/ttyUSB0"  # untouched default
    assert config.parts.fingerprint is SensorModel.R503  # named as printed on the part


def test_no_file_gives_the_simulator_defaults() -> None:
    config = load_config(None)
    assert config.backend is Backend.SIM
    assert config.language is Language.ID
    assert config.parts.fingerprint is SensorModel.R307


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[kit]\nlangauge = "en"\n', "unknown key [kit] langauge: did you mean 'language'?"),
        ('[kit]\nbackend = "arduino"\n', "[kit] backend must be one of 'sim', 'pi', got 'arduino'"),
        ('[ports]\ni2c_bus = "one"\n', "[ports] i2c_bus must be int, got 'one'"),
        ("[ports]\nfingerprint = 5\n", "[ports] fingerprint must be str, got 5"),
        ('[kit]\nlog_level = "LOUD"\n', "[kit] log_level must be one of DEBUG, INFO"),
        ('[parts]\nfingerprint = "r305"\n', "[parts] fingerprint must be one of 'r307', 'r503'"),
        ("[printer]\nx = 1\n", "unknown key printer"),
        ("kit = 3\n", "[kit] must be a table"),
        ("[kit\n", "not valid TOML"),
    ],
)
def test_a_bad_file_names_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.toml")


def test_the_documented_sample_loads() -> None:
    sample = Path(__file__).parents[2] / "docs" / "samples" / "kit.toml"
    config = load_config(sample)
    assert config.backend is Backend.PI
    assert config.ports.card_printer == "/dev/ttyUSB1"
    assert config.ports.i2c_bus == 1
    assert config.slots == Path("/opt/jemput")


def test_the_key_backend_is_the_file_one_unless_kit_toml_names_the_tpm(tmp_path: Path) -> None:
    assert load_config(None).keys.backend is KeyBackend.FILE
    path = tmp_path / "kit.toml"
    path.write_text('[kit]\nkey_backend = "tpm"\ntpm_tcti = "swtpm:host=127.0.0.1,port=2321"\n')
    keys = load_config(path).keys
    assert (keys.backend, keys.tcti) == (KeyBackend.TPM, "swtpm:host=127.0.0.1,port=2321")
    assert keys.describe() == "kunci: TPM"
    path.write_text('[kit]\nkey_backend = "hsm"\n')
    with pytest.raises(ConfigError, match="key_backend must be one of 'file', 'tpm', got 'hsm'"):
        load_config(path)
