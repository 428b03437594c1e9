"""Key files: 32 random bytes stored as 64 hex characters (docs/contract.md §8), used for the HMAC key and the
store's key-encryption key, plus the one helper that writes any secret file with 0600 permissions.

Errors name the file and what is wrong with it, never its content.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

KEY_LEN = 32
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_MAX_READ = 4096  # a key file is 65 bytes; never read an arbitrarily large file


class KeyFileError(ValueError):
    """A key file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class LoadedKey:
    """A key read from a file, with a warning for the operator when the file is readable by others."""

    key: bytes = field(repr=False)
    path: Path
    warning: str | None = None


def permission_warning(path: Path | str, what: str) -> str | None:
    """A one-line warning if `path` is open to more than its owner and the service's group (POSIX only).

    Two layouts are right: the file owned by the service user, mode 0600 (or 0400); or owned by root (any
    other owner) and readable by the service's group, mode 0640 (or 0440), so that the service can read
    it but not change it (docs/operations.md, "systemd"). Anything for others, group write, or group read
    of a file the service user owns itself (where the group adds nothing) is warned about.
    """
    if os.name != "posix":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    mode = stat.S_IMODE(st.st_mode)
    group_read_allowed = st.st_uid != os.geteuid()
    extra = mode & (0o037 if group_read_allowed else 0o077)
    if not extra:
        return None
    if group_read_allowed:
        return (
            f"{what} file {path} is accessible beyond its owner and group read (mode {mode:04o}); run chmod 640 on it"
        )
    return f"{what} file {path} is accessible by group or others (mode {mode:04o}); run chmod 600 on it"


def load_hex_key(path: Path | str, what: str = "HMAC key") -> LoadedKey:
    """Read a 32-byte key from a file of 64 hex characters (one trailing newline allowed)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            raw = f.read(_MAX_READ + 1)
    except FileNotFoundError:
        raise KeyFileError(f"{what} file {p} not found") from None
    except IsADirectoryError:
        raise KeyFileError(f"{what} file {p} is a directory") from None
    except PermissionError:
        raise KeyFileError(f"{what} file {p} is not readable by this user") from None
    except OSError as e:
        raise KeyFileError(f"{what} file {p} cannot be read ({e.strerror})") from None
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    if len(raw) != 2 * KEY_LEN:
        found = str(len(raw)) if len(raw) <= _MAX_READ else f"more than {_MAX_READ}"
        raise KeyFileError(
            f"{what} file {p} must hold {2 * KEY_LEN} hex characters ({KEY_LEN} bytes), found {found} bytes"
        )
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if not _HEX_KEY.fullmatch(text):
        raise KeyFileError(f"{what} file {p} is not hex")
    key = bytes.fromhex(text)
    if key == bytes(KEY_LEN):
        raise KeyFileError(f"{what} file {p} holds an all-zero key; generate a random one")
    return LoadedKey(key=key, path=p, warning=permission_warning(p, what))


def write_secret_file(path: Path | str, data: bytes, *, overwrite: bool = False) -> Path:
    """Write `data` to `path` with mode 0600 from the first byte on.

    Without `overwrite` an existing file is an error (FileExistsError). With it, the new content goes
    to a temporary file in the same directory first and replaces the old one atomically.
    """
    p = Path(path)
    if not overwrite:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # the umask may only have narrowed it; make it exact
            with os.fdopen(fd, "wb") as f:
                fd = -1
                f.write(data)
        finally:
            if fd != -1:
                os.close(fd)
        return p
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")  # mkstemp uses 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def create_hex_key_file(path: Path | str, *, overwrite: bool = False) -> bytes:
    """Generate a random 32-byte key, store it as 64 hex characters and a newline (mode 0600), return it."""
    key = secrets.token_bytes(KEY_LEN)
    write_secret_file(path, key.hex().encode("ascii") + b"\n", overwrite=overwrite)
    return key
