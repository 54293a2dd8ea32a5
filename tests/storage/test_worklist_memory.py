"""A flashed worklist is encoded, hashed and read back one resident at a time.

Why: a kecamatan's 100,000 residents held as maps, or as a piece of bytes per value, took a
kit flashing them to 1 GB (docs/performance.md, "flash").  The behaviour that bounds it is
tested here at a small size: the worklist's maps are made as the encoder asks for them and
dropped before the next (never a list of them), the profile's reader hands each resident's
map over as it is decoded, and nothing is checked less for it (the encoding must still be
the canonical one, and the profile still opens only with the kit's data key).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest

from storage import codec
from storage.datakey import StateCipher
from storage.errors import StateError
from storage.model import Policy, Resident
from storage.profile import (
    PROFILE_CONTEXT,
    Profile,
    load_profile,
    resident_to_map,
    save_profile,
    worklist_sha256,
)
from tests.provisioning.kit_bench import generated_residents

COUNT = 50


class _Map(dict[str, Any]):
    """A resident map that can be watched (a plain dict takes no weak reference)."""


def _watched(residents: list[Resident]) -> Iterator[_Map]:
    """The residents' maps, each made when asked for, failing if the encoder kept any."""
    made: list[weakref.ref[_Map]] = []
    for resident in residents:
        alive = sum(ref() is not None for ref in made)
        # the one made before may still be bound while this one is made: one at most
        assert alive <= 1, f"{alive} resident maps held at once"
        item = _Map(resident_to_map(resident))
        made.append(weakref.ref(item))
        yield item
        del item


def test_an_array_is_encoded_and_hashed_as_its_items_come() -> None:
    residents = generated_residents(COUNT)
    whole = codec.dumps([resident_to_map(r) for r in residents])
    assert codec.dumps(codec.Array(COUNT, _watched(residents))) == whole
    assert codec.sha256(codec.Array(COUNT, _watched(residents))) == (hashlib.sha256(whole).digest())
    assert worklist_sha256(residents) == hashlib.sha256(whole).digest()


@pytest.mark.parametrize("count", [COUNT - 1, COUNT + 1])
def test_an_array_of_another_length_than_it_says_is_refused(count: int) -> None:
    residents = generated_residents(COUNT)
    with pytest.raises(codec.CodecError, match=f"array of {count} items"):
        codec.dumps(codec.Array(count, map(resident_to_map, residents)))


def _profile(residents: list[Resident]) -> Profile:
    return Profile("K1", "3505", Policy(), (), tuple(residents), b"authority")


def test_the_profile_reader_makes_each_resident_as_it_is_decoded(tmp_path: Path) -> None:
    residents = generated_residents(COUNT)
    cipher = StateCipher(os.urandom(32))
    save_profile(tmp_path / "profile.cbor", _profile(residents), cipher)
    plain = cipher.decrypt((tmp_path / "profile.cbor").read_bytes(), context=PROFILE_CONTEXT)
    decoded = codec.loads(
        plain,
        deterministic=False,
        object_hook=lambda value: value.get("nik", value),
    )
    assert decoded["worklist"] == [r.nik for r in residents]  # each map gone as it came
    loaded = load_profile(tmp_path / "profile.cbor", cipher)
    assert loaded.worklist == tuple(residents)
    assert loaded.worklist[0].village is loaded.worklist[1].village  # one text, held once


def _write(tmp_path: Path, plain: bytes, cipher: StateCipher) -> Path:
    path = tmp_path / "profile.cbor"
    path.write_bytes(cipher.encrypt(plain, context=PROFILE_CONTEXT))
    return path


def _map(profile: Profile) -> dict[str, Any]:
    return {
        "kit_id": profile.kit_id,
        "region": profile.region,
        "policy": {},
        "officers": [],
        "worklist": [resident_to_map(r) for r in profile.worklist],
        "authority": profile.authority,
        "demo": False,
        "signature": b"",
        "reference_key": b"",
    }


def test_a_profile_not_in_canonical_encoding_is_still_refused(tmp_path: Path) -> None:
    cipher = StateCipher(os.urandom(32))
    data = _map(_profile(generated_residents(3)))
    resident = data["worklist"][1]
    canonical = codec.dumps(resident)
    shuffled = cbor2.dumps(dict(reversed(sorted(resident.items()))))  # keys out of order
    assert shuffled != canonical and len(shuffled) == len(canonical)
    plain = codec.dumps(data).replace(canonical, shuffled)
    with pytest.raises(StateError, match="deterministic encoding"):
        load_profile(_write(tmp_path, plain, cipher), cipher)


def test_a_profile_flashed_before_the_purpose_was_kept_still_loads(tmp_path: Path) -> None:
    cipher = StateCipher(os.urandom(32))
    residents = generated_residents(3)
    data = _map(_profile(residents))
    for resident in data["worklist"]:
        del resident["purpose"]
    path = _write(tmp_path, codec.dumps(data), cipher)
    assert load_profile(path, cipher).worklist == tuple(
        dataclasses.replace(r, purpose=residents[0].purpose) for r in residents
    )


@pytest.mark.parametrize(
    "value",
    [
        {"nik": "3505", "name": "A", "ref": None, "n": -(2**63), "b": b"x" * 300, "t": True},
        {"a" * 23: 1, "b": 2, "aa": 3},
        {"a" * 24: 1, "b": 2},  # a key's head of two bytes: the general path
        {"é": 1, "z": 2},
        {"x": 1.5, "y": [1]},
        {},
    ],
)
def test_a_flat_map_encodes_as_every_map_does(value: dict[str, Any]) -> None:
    """The resident's map goes through cbor2's canonical encoder: the same bytes as the
    RFC 8949 rule (keys sorted by their encodings, bytewise) gives."""
    pairs = sorted((codec.dumps(key), codec.dumps(item)) for key, item in value.items())
    rule = cbor2.dumps(value)[:1] + b"".join(part for pair in pairs for part in pair)
    assert codec.dumps(value) == rule
