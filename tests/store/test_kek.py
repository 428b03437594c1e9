"""KEK files and KEK rotation: re-wrapping leaves every record readable under the new KEK only."""

from __future__ import annotations

import os
import stat

import pytest

from signer.store import (
    DecryptionFailed,
    KekFileError,
    StoreConfigError,
    WrongKek,
    create_kek_file,
    envelope,
    load_kek,
    open_store,
)
from signer.store.commands import kek_rotate_async, key_delete_async
from signer.store.records import PoolRow, ShareRow

NODE = "node-r"
META = dict(protocol="gg20", curve="secp256k1", public_key=b"\x02" + bytes(32), threshold=2, parties=3, party_index=3)


def test_kek_file_round_trip_and_mode(tmp_path):
    path = tmp_path / "kek.hex"
    kek = create_kek_file(path)
    assert len(kek) == 32 and load_kek(path) == kek
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == kek.hex() + "\n"
    with pytest.raises(KekFileError, match="already exists"):
        create_kek_file(path)
    assert load_kek(path) == kek


@pytest.mark.parametrize(
    "content, problem",
    [
        ("ab" * 31 + "\n", "must hold 64 hex characters .32 bytes., found 62"),
        ("ab" * 32 + "\n\n", "found 65"),
        ("ab" * 32 + "00", "found 66"),
        ("zz" * 32, "is not hex"),
        (" " + "ab" * 31 + "a", "is not hex"),
        ("", "found 0"),
        ("00" * 32, "all-zero key"),
    ],
)
def test_bad_kek_files_are_named_errors(tmp_path, content, problem):
    path = tmp_path / "kek.hex"
    path.write_text(content)
    with pytest.raises(KekFileError, match=problem) as err:
        load_kek(path)
    assert str(path) in str(err.value)


def test_kek_without_newline_and_missing_file(tmp_path):
    path = tmp_path / "kek.hex"
    path.write_text("0f" * 32)
    assert load_kek(path) == bytes([15]) * 32
    path.write_bytes(b"\xff" * 64)
    with pytest.raises(KekFileError, match="is not hex"):
        load_kek(path)
    with pytest.raises(KekFileError, match="not found"):
        load_kek(tmp_path / "missing.hex")


async def test_kek_rotation_rewraps_every_record(target, tmp_path):
    old_file, new_file = tmp_path / "old.hex", tmp_path / "new.hex"
    old = create_kek_file(old_file)
    shares = {f"key-{i}": os.urandom(100 + i) for i in range(5)}
    async with open_store(target.url, old, NODE) as store:
        for key_id, share in shares.items():
            await store.put_share(key_id, share, **META)
        await store.add_presignatures("key-0", [b"presig-0", b"presig-1"])
        await store.add_preparams(b"preparams-0")
    before = dict(target.fetch("SELECT key_id, ciphertext FROM key_shares"))

    assert await kek_rotate_async(target.url, old_file, new_file, NODE) == 5 + 2 + 1
    new = load_kek(new_file)  # created by the rotation, 0600
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600 and new != old

    async with open_store(target.url, new, NODE) as store:
        for key_id, share in shares.items():
            assert (await store.get_share(key_id)).share == share
        assert await store.claim_presignature("key-0") == b"presig-0"
        assert await store.claim_preparams() == b"preparams-0"
    with pytest.raises(WrongKek):
        async with open_store(target.url, old, NODE):
            pass
    # The shares' ciphertexts are untouched; only the data keys moved, and none opens under the old KEK.
    rows = target.fetch(
        "SELECT key_id, protocol, curve, public_key, threshold, parties, party_index, record_version, "
        "wrapped_key, ciphertext FROM key_shares"
    )
    assert {r[0]: bytes(r[9]) for r in rows} == {k: bytes(v) for k, v in before.items()}
    for r in rows:
        row = ShareRow(*r[:8], created_at=None, wrapped_key=bytes(r[8]), ciphertext=bytes(r[9]))  # type: ignore[arg-type]
        aad = envelope.share_aad(NODE, row)
        with pytest.raises(DecryptionFailed):
            envelope.unwrap(old, aad, row.wrapped_key, "share")
        assert envelope.open_sealed(new, aad, row.wrapped_key, row.ciphertext, "share") == shares[row.key_id]
    for r in target.fetch("SELECT kind, owner, item_id, record_version, wrapped_key, ciphertext FROM secret_pool"):
        prow = PoolRow(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5]))
        with pytest.raises(DecryptionFailed):
            envelope.unwrap(old, envelope.pool_aad(NODE, prow), prow.wrapped_key, "pool")

    # Rotating with the old KEK again is refused, and so is a no-op rotation.
    with pytest.raises(WrongKek):
        await kek_rotate_async(target.url, old_file, tmp_path / "third.hex", NODE)
    with pytest.raises(StoreConfigError, match="same"):
        await kek_rotate_async(target.url, new_file, new_file, NODE)


async def test_operator_delete_command(target, tmp_path):
    kek_file = tmp_path / "kek.hex"
    kek = create_kek_file(kek_file)
    async with open_store(target.url, kek, NODE) as store:
        await store.put_share("doomed", b"share", **META)
        await store.put_share("kept", b"share2", **META)
    await key_delete_async(target.url, kek_file, NODE, "doomed")
    async with open_store(target.url, kek, NODE) as store:
        assert [i.key_id for i in await store.list_keys()] == ["kept"]
