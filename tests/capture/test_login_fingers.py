"""What may become an officer's login finger: the second capture must be the first's finger."""

from __future__ import annotations

from capture.login_fingers import LOGIN_FINGER, take_second
from hw_sim.doubles import SimFingerprint
from hw_sim.world import World
from storage.model import Officer


def test_two_captures_of_different_fingers_store_nothing_and_the_same_finger_its_better() -> None:
    world = World(2, people=2, clock_speed=0.0)
    sensor = SimFingerprint(world)
    officer, other = world.officers[:2]
    on_kit = Officer(officer.officer_id, officer.name, officer.role, b"", b"", finger_pages=(4,))
    world.subject = officer
    sensor.take_image(LOGIN_FINGER, timeout=1.0)
    first = sensor.upload_image(LOGIN_FINGER)

    world.subject = other  # the officer swapped fingers, or people, between the captures
    assert take_second(sensor, on_kit, first, timeout=1.0) is None
    assert sensor.library == {}

    world.subject = officer
    kept = take_second(sensor, on_kit, first, timeout=1.0)
    assert kept is not None and kept.quality >= first.quality
    assert sensor.library == {4: kept.template}
