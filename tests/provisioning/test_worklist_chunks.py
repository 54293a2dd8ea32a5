"""A kecamatan's worklist flashes in parts, and the kit never runs on half of one.

Over the pty to the simulated kit, through the tool's real flash: 20,000 generated
residents with valid NIKs.  Then the ways a transfer can go wrong (a part missing, a
wrong SHA-256, a flash naming a transfer never committed) leave the kit's list as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kitlink import messages as m
from kitlink import protocol as p
from kitlink.framing import FramedPort
from kitlink.protocol import Op, Refusal
from provisioning.client import KitClient
from provisioning.collect import connect
from provisioning.flash import send_worklist
from storage.certificate import certify_kit
from storage.provision import KitSetup
from storage.worklist import write_worklist
from tests.provisioning.kit_bench import Bench, flash_cli, generated_residents

RESIDENTS = 20_000


def test_twenty_thousand_residents_flash_in_parts(bench: Bench) -> None:
    people = generated_residents(RESIDENTS)
    write_worklist(people, bench.tmp / "worklist.csv")
    result = flash_cli(bench)
    assert result.exit_code == 0, result.output
    assert f"worklist        {RESIDENTS} resident(s)" in result.output
    store = bench.host.store
    assert store is not None and len(store.worklist) == RESIDENTS
    assert store.worklist[-1] == people[-1] and store.worklist[0] == people[0]
    parts = -(-RESIDENTS // m.PART_RESIDENTS)
    ops = [op for op, outcome in bench.kit_port.handled if outcome == "ok"]
    assert ops.count(Op.WORKLIST_PART) == parts and ops.count(Op.WORKLIST_COMMIT) == 1


def _flash_args(client: KitClient, bench: Bench, transfer: bytes) -> m.FlashArgs:
    """A flash request as `provisioning.flash.flash` makes it, naming ``transfer``."""
    key = client.keygen()
    now = datetime.now(UTC)
    cert = certify_kit(
        bench.authority, kit_id="KIT-3505-07", region="3505", kit_public=key.public, now=now
    )
    store = bench.host.store
    assert store is not None
    setup = KitSetup("KIT-3505-07", "3505", tuple(store.officers.values()), (), store.policy)
    return m.FlashArgs.of(
        setup,
        authority=bench.authority.public,
        worklist_transfer=transfer,
        cert=cert,
        time=now,
        reference_key=bench.authority.references.to_bytes(),
        profile_signature=b"unchecked: the kit refuses the transfer first",
    )


@pytest.mark.parametrize("fault", ["part missing", "wrong sha256", "never committed"])
def test_a_broken_transfer_leaves_the_kit_on_its_old_list(bench: Bench, fault: str) -> None:
    assert flash_cli(bench).exit_code == 0
    store = bench.host.store
    assert store is not None
    before = store.worklist
    rows = tuple(generated_residents(3 * m.PART_RESIDENTS))
    transfer = bytes(range(m.TRANSFER_BYTES))
    with FramedPort(port=bench.pty.port) as link:
        client, _, _ = connect(link, bench.authority)
        for index in range(3):
            if fault == "part missing" and index == 1:
                continue
            part = rows[index * m.PART_RESIDENTS : (index + 1) * m.PART_RESIDENTS]
            client.call(m.WorklistPartArgs(transfer, index, 3, part))
        if fault != "never committed":
            digest = m.worklist_digest(rows[:-1] if fault == "wrong sha256" else rows)
            with pytest.raises(p.Refused) as refused:
                client.call(m.WorklistCommitArgs(transfer, 3, len(rows), digest))
            assert refused.value.code == Refusal.BAD_REQUEST
        with pytest.raises(p.Refused, match="worklist transfer") as refused:
            client.call(_flash_args(client, bench, transfer))
        assert refused.value.code == Refusal.BAD_REQUEST
    store = bench.host.store
    assert store is not None and store.worklist == before and len(before) == 60


def test_send_worklist_stages_and_commits_on_a_running_kit(bench: Bench) -> None:
    """The tool's sender against the kit: counts agree part by part, then the commit."""
    assert flash_cli(bench).exit_code == 0
    people = tuple(generated_residents(2 * m.PART_RESIDENTS + 7))
    seen: list[tuple[int, int]] = []
    with FramedPort(port=bench.pty.port) as link:
        client, _, _ = connect(link, bench.authority)
        transfer = send_worklist(client, people, progress=lambda *step: seen.append(step))
    assert len(transfer) == m.TRANSFER_BYTES
    total = len(people)
    assert seen == [(0, total), (400, total), (800, total), (total, total)]


def test_after_an_abandoned_keygen_other_answers_keep_the_certified_key(bench: Bench) -> None:
    """Only a flash's worklist parts are signed with the staged key the tool just trusted."""
    assert flash_cli(bench).exit_code == 0
    with FramedPort(port=bench.pty.port) as link:
        KitClient(link, bench.authority).keygen()  # then the cable goes
    with FramedPort(port=bench.pty.port) as link:
        client, _, _ = connect(link, bench.authority)  # trusts the certificate's key
        assert client.call(m.StatusArgs()).result.kit_id == "KIT-3505-07"
