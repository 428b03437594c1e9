"""Key files: 64 hex characters holding 32 bytes, clear errors, 0600 on creation."""

import os
import stat

import pytest

from signer.auth.keyfiles import (
    KeyFileError,
    create_hex_key_file,
    load_hex_key,
    permission_warning,
    write_secret_file,
)

HEX = "0123456789abcdef" * 4


def _write(path, data: bytes, mode=0o600):
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize("suffix", [b"", b"\n", b"\r\n"])
def test_loads_hex_with_optional_trailing_newline(tmp_path, suffix):
    p = _write(tmp_path / "k.hex", HEX.encode() + suffix)
    loaded = load_hex_key(p)
    assert loaded.key == bytes.fromhex(HEX)
    assert loaded.warning is None
    assert HEX not in repr(loaded) and loaded.key.hex() not in repr(loaded)


def test_uppercase_hex_is_fine(tmp_path):
    p = _write(tmp_path / "k.hex", HEX.upper().encode())
    assert load_hex_key(p).key == bytes.fromhex(HEX)


def test_missing_file_names_what_and_path(tmp_path):
    with pytest.raises(KeyFileError, match=r"KEK file .*nope\.hex not found"):
        load_hex_key(tmp_path / "nope.hex", what="KEK")


def test_directory_is_an_error(tmp_path):
    with pytest.raises(KeyFileError, match="is a directory"):
        load_hex_key(tmp_path)


@pytest.mark.parametrize(
    "content,match",
    [
        (HEX[:-2].encode(), "found 62 bytes"),
        ((HEX + "00").encode(), "found 66 bytes"),
        (HEX.encode() + b"\n\n", "found 65 bytes"),
        (b"", "found 0 bytes"),
        (b"a" * 10000, "more than 4096"),
        (b" " + HEX[1:].encode(), "not hex"),
        (("zz" + HEX[2:]).encode(), "not hex"),
        (b"\xff" * 64, "not hex"),
        (("0" * 64).encode(), "all-zero"),
    ],
)
def test_malformed_contents(tmp_path, content, match):
    p = _write(tmp_path / "k.hex", content)
    with pytest.raises(KeyFileError, match=match) as e:
        load_hex_key(p, what="HMAC key")
    assert "HMAC key file" in str(e.value)
    if content.isascii() and len(content) >= 8:
        assert content.decode()[:20] not in str(e.value)  # never echo the file content


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_group_readable_file_loads_with_a_warning(tmp_path):
    p = _write(tmp_path / "k.hex", HEX.encode(), mode=0o644)
    loaded = load_hex_key(p, what="KEK")
    assert loaded.key == bytes.fromhex(HEX)
    assert loaded.warning is not None and "KEK file" in loaded.warning and "0644" in loaded.warning
    assert permission_warning(p, "KEK") == loaded.warning


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file(tmp_path):
    p = _write(tmp_path / "k.hex", HEX.encode(), mode=0o000)
    with pytest.raises(KeyFileError, match="not readable"):
        load_hex_key(p)


def test_create_writes_0600_and_round_trips(tmp_path):
    old = os.umask(0o022)
    try:
        p = tmp_path / "new.hex"
        key = create_hex_key_file(p)
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert p.read_text() == key.hex() + "\n"
    assert load_hex_key(p).key == key and len(key) == 32
    assert create_hex_key_file(tmp_path / "other.hex") != key


def test_create_refuses_to_overwrite_unless_asked(tmp_path):
    p = tmp_path / "k.hex"
    first = create_hex_key_file(p)
    with pytest.raises(FileExistsError):
        create_hex_key_file(p)
    assert load_hex_key(p).key == first
    os.chmod(p, 0o644)
    second = create_hex_key_file(p, overwrite=True)
    assert second != first and load_hex_key(p).key == second
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert [x.name for x in tmp_path.iterdir()] == ["k.hex"]  # no temporary file left behind


def test_write_secret_file_is_0600_even_with_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        p = write_secret_file(tmp_path / "s", b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600 and p.read_bytes() == b"data"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs chown (root)")
def test_root_owned_group_readable_file_is_accepted(tmp_path):
    """The documented systemd layout (issue 13 item 11): `install -m 0640 -g mpc-signer kek.hex ...` makes
    the file root's and readable by the service's group; the service (another user) loads it silently."""
    other_uid, service_gid = 4242, 4343  # the file's owner is not the process's user; the group is the service's
    p = _write(tmp_path / "kek.hex", HEX.encode(), mode=0o640)
    os.chown(p, other_uid, service_gid)
    assert load_hex_key(p, what="KEK").warning is None
    os.chmod(p, 0o440)
    assert permission_warning(p, "KEK") is None
    for mode in (0o644, 0o660, 0o604, 0o650):
        os.chmod(p, mode)
        warning = permission_warning(p, "KEK")
        assert warning is not None and f"{mode:04o}" in warning and "chmod 640" in warning
    # owned by the process's user: the group adds nothing, so 0600 is the advice
    os.chown(p, os.geteuid(), service_gid)
    os.chmod(p, 0o640)
    warning = permission_warning(p, "KEK")
    assert warning is not None and "chmod 600" in warning
