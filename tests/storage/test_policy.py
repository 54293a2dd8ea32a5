"""The policy's rules (`storage.policy`): what passes, what is refused and how it is named,
and the kit refusing at boot a profile whose policy breaks them, though the authority
signed it."""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import codec
from storage.errors import StateError
from storage.kit import KitStore, provision
from storage.model import Officer, Policy
from storage.policy import RULES, Kind, PolicyError, Rule, check_pages, parse_policy, shown
from storage.profile import policy_from_map, policy_to_map
from storage.provision import KitSetup
from storage.signed_profile import signed
from tests.storage.conftest import AUTHORITY, NOW, now
from tests.storage.test_at_rest import _rewrite_profile
from vocabulary.people import Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "provisioning.md"
WRONG_TYPES = st.one_of(st.none(), st.text(), st.binary(), st.lists(st.integers(), max_size=3))


def valid(rule: Rule) -> st.SearchStrategy[Any]:
    """Values ``rule`` allows, as a TOML file or a profile gives them."""
    low, high = int(rule.low), int(rule.high)
    if rule.kind is Kind.FLAG:
        return st.booleans()
    if rule.kind is Kind.WHOLE:
        return st.integers(low, high)
    if rule.kind is Kind.NUMBER:
        return st.integers(low, high) | st.floats(rule.low, rule.high)
    if rule.kind is Kind.TEXT:
        text = st.text(string.ascii_letters + string.digits + " .,-", min_size=low, max_size=high)
        return text.filter(str.strip)
    if rule.kind is Kind.FINGERS:
        return st.lists(st.integers(low, high), unique=True, max_size=high)
    return st.dates()


def keeps_the_rules_between_keys(fields: dict[str, Any]) -> bool:
    merged = {**dataclasses.asdict(Policy()), **fields}
    fingers_ok = bool(merged["fingers"]) or merged["allow_no_fingers"]
    return fingers_ok and merged["critical_battery_percent"] < merged["low_battery_percent"]


POLICIES = st.fixed_dictionaries({}, optional={key: valid(rule) for key, rule in RULES.items()})


def refused(fields: dict[str, Any]) -> list[tuple[str, object]]:
    """The (key, value) of each problem parse_policy names in ``fields``."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(fields)
    return [(problem.key, problem.value) for problem in caught.value.problems]


def test_every_policy_field_has_a_rule() -> None:
    assert list(RULES) == [field.name for field in dataclasses.fields(Policy)]


def test_the_defaults_keep_every_rule() -> None:
    assert parse_policy({}) == Policy()
    assert policy_from_map(policy_to_map(Policy())) == Policy()


@given(POLICIES.filter(keeps_the_rules_between_keys))
def test_an_allowed_policy_is_taken_and_reads_back_as_signed(fields: dict[str, Any]) -> None:
    policy = parse_policy(fields)
    carried = policy_to_map(policy)
    assert policy_from_map(carried) == policy
    again = policy_to_map(policy_from_map(codec.loads(codec.dumps(carried))))
    assert codec.dumps(again) == codec.dumps(carried), "the kit's digest is the signed one"


BOUNDED = [key for key, rule in RULES.items() if rule.kind in (Kind.WHOLE, Kind.NUMBER)]


@pytest.mark.parametrize("key", BOUNDED)
@given(data=st.data())
def test_a_number_out_of_bounds_is_refused_naming_key_value_and_bounds(
    key: str, data: st.DataObject
) -> None:
    rule = RULES[key]
    value = data.draw(st.integers().filter(lambda n: not rule.low <= n <= rule.high))
    with pytest.raises(PolicyError) as caught:
        parse_policy({key: value})
    assert [(p.key, p.value) for p in caught.value.problems] == [(key, value)]
    assert f"{key} = {value}: allowed {rule.allowed}" in str(caught.value)


@pytest.mark.parametrize("key", BOUNDED)
@given(value=WRONG_TYPES | st.booleans())
def test_a_number_of_another_type_is_refused(key: str, value: object) -> None:
    assert refused({key: value}) == [(key, value)]


@pytest.mark.parametrize("key", [key for key in BOUNDED if RULES[key].kind is Kind.WHOLE])
@given(value=st.floats(allow_nan=False))
def test_a_whole_number_is_never_a_float(key: str, value: float) -> None:
    assert refused({key: value}) == [(key, value)]


@pytest.mark.parametrize("key", [key for key in BOUNDED if RULES[key].kind is Kind.NUMBER])
def test_a_percentage_is_never_nan(key: str) -> None:
    with pytest.raises(PolicyError, match=f"{key} = nan: allowed a number from"):
        parse_policy({key: float("nan")})


@pytest.mark.parametrize("key", [key for key, rule in RULES.items() if rule.kind is Kind.FLAG])
@pytest.mark.parametrize("value", ["no", "false", "yes", 0, 1, None, [False]])
def test_a_flag_is_true_or_false_and_nothing_that_reads_as_one(key: str, value: object) -> None:
    assert refused({key: value}) == [(key, value)]


@pytest.mark.parametrize(
    "fingers",
    [[0], [11], [1, 1], [True], ["1"], [1.0], "1, 2", 1],
    ids=["unknown 0", "11", "twice", "bool", "text", "float", "a string", "not a list"],
)
def test_fingers_are_distinct_positions_one_to_ten(fingers: object) -> None:
    assert refused({"fingers": fingers}) == [("fingers", fingers)]


def test_no_fingers_only_when_the_authority_says_so() -> None:
    problems = refused({"fingers": []})
    assert problems == [("fingers", [])]
    with pytest.raises(PolicyError, match="unless the authority sets allow_no_fingers = true"):
        parse_policy({"fingers": []})
    assert parse_policy({"fingers": [], "allow_no_fingers": True}).fingers == ()


def test_the_critical_charge_is_below_the_low_one() -> None:
    assert refused({"low_battery_percent": 10, "critical_battery_percent": 10}) == [
        ("critical_battery_percent", 10)
    ]
    with pytest.raises(PolicyError, match=r"allowed below low_battery_percent \(15.0\)"):
        parse_policy({"critical_battery_percent": 20})


@pytest.mark.parametrize("value", ["", "   ", "Kantor\nDukcapil", "x" * 121, 7])
def test_the_collection_place_is_printable_text(value: object) -> None:
    assert refused({"card_collection_place": value}) == [("card_collection_place", value)]


def test_the_recording_age_is_the_laws() -> None:
    with pytest.raises(PolicyError, match=r"recording_age = 16: allowed 17 only \(.*UU 24/2013"):
        parse_policy({"recording_age": 16})


def test_an_unknown_key_is_named_with_the_closest_one() -> None:
    with pytest.raises(PolicyError, match="finger_retry = 2: unknown key: did you mean finger_"):
        parse_policy({"finger_retry": 2})


def test_every_problem_is_named_at_once() -> None:
    fields = {"finger_retries": -1, "print_on_site": "no", "reserve_bytes": -5, "colour": 1}
    assert sorted(refused(fields)) == sorted(fields.items())


def test_a_profile_map_signed_before_allow_no_fingers_reads_back_as_signed() -> None:
    """The kit recomputes the policy's digest at every boot from what it reads: a map
    from before the key, or with a whole number for a percentage, must come back as is."""
    before = policy_to_map(Policy())
    assert "allow_no_fingers" not in before
    whole = {**before, "low_battery_percent": 20}
    for signed_map in (before, whole):
        assert codec.dumps(policy_to_map(policy_from_map(signed_map))) == codec.dumps(signed_map)
    without = parse_policy({"fingers": [], "allow_no_fingers": True})
    assert policy_to_map(without)["allow_no_fingers"] is True


# -- the officers' pages in the sensor library --------------------------------------------


def officer_on(page: int) -> Officer:
    """An officer whose login finger is on ``page`` (no PIN is checked here)."""
    return Officer("PTG-9", "ANI", Role.OFFICER, b"salt", b"hash", finger_pages=(page,))


def test_officers_pages_lie_inside_the_library_with_room_for_one_person() -> None:
    check_pages(Policy(sensor_library_pages=11), [officer_on(0)])
    with pytest.raises(PolicyError, match=r"sensor_library_pages = 200: allowed 501 or more"):
        check_pages(Policy(), [officer_on(500)])
    with pytest.raises(PolicyError, match=r"allowed 11 or more .* 10 finger\(s\) need room"):
        check_pages(Policy(sensor_library_pages=10), [officer_on(0)])
    with pytest.raises(PolicyError, match="sensor_library_pages = 200"):
        KitSetup("KIT-1", "3505", (officer_on(500),), (), Policy())


# -- the kit at boot ------------------------------------------------------------------------

#: The issue's cases, each as an older tool flashed it: signed, never checked.
BAD_POLICIES: list[tuple[str, object]] = [
    ("finger_retries", -1),
    ("print_on_site", "no"),
    ("fingers", ()),
    ("reserve_bytes", -1),
    ("min_finger_quality", 1000),
    ("sensor_library_pages", 5000),
    ("recording_age", 200),
]


@pytest.mark.parametrize(("key", "value"), BAD_POLICIES, ids=[key for key, _ in BAD_POLICIES])
def test_a_signed_profile_whose_policy_breaks_a_rule_is_refused_at_boot(
    tmp_path: Path, key: str, value: object
) -> None:
    data_dir = tmp_path / "kit"
    provision(
        data_dir,
        authority=AUTHORITY,
        kit_id="TEST-3505-01",
        region="3505",
        officers=(),
        worklist=(),
        policy=Policy(**{key: value}),
        now=NOW,
    )
    said = re.escape(f"{key} = {shown(value)}: allowed")
    refusal = rf"the kit will not record: the policy breaks .*{said} .*flash the kit again"
    with pytest.raises(StateError, match=refusal):
        KitStore(data_dir, now=now)


def test_a_signed_profile_with_an_officer_outside_the_library_is_refused_at_boot(
    kit_dir: Path,
) -> None:
    _rewrite_profile(
        kit_dir, lambda p: signed(dataclasses.replace(p, officers=(officer_on(500),)), AUTHORITY)
    )
    with pytest.raises(StateError, match=r"sensor_library_pages = 200: allowed 501 or more"):
        KitStore(kit_dir, now=now)


# -- the docs ------------------------------------------------------------------------------


def test_the_docs_table_is_the_rules() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## The policy", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    defaults = Policy()
    expected = [
        [
            f"`{key}`",
            rule.kind.value,
            rule.allowed,
            "left out" if getattr(defaults, key) is None else f"`{shown(getattr(defaults, key))}`",
            rule.why,
        ]
        for key, rule in RULES.items()
    ]
    assert rows == expected, "docs/provisioning.md's policy table differs from storage.policy"
