"""The key-encryption key (KEK) file: 32 random bytes written as 64 hex characters.

The format is shared with the HMAC key file (SPEC.md §4): exactly 64 hex digits, one optional trailing
newline, nothing else, so a truncated or padded file is an error instead of a different key.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from signer.store.errors import KekFileError

KEK_BYTES = 32


def parse_kek(text: str, source: str = "KEK") -> bytes:
    """Decode 64 hex characters (one trailing newline allowed) into the 32-byte KEK."""
    body = text[:-1] if text.endswith("\n") else text
    if body.endswith("\r"):
        body = body[:-1]
    if len(body) != 2 * KEK_BYTES:
        raise KekFileError(f"{source}: expected {2 * KEK_BYTES} hex characters, found {len(body)}")
    try:
        kek = bytes.fromhex(body)
    except ValueError:
        raise KekFileError(f"{source}: not hexadecimal") from None
    if len(kek) != KEK_BYTES:
        raise KekFileError(f"{source}: not {KEK_BYTES} bytes")
    return kek


def load_kek(path: str | os.PathLike[str]) -> bytes:
    """Read a KEK file; raises KekFileError naming the file and the problem."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise KekFileError(f"KEK file {p} does not exist") from None
    except OSError as exc:
        raise KekFileError(f"KEK file {p} is not readable: {exc.strerror}") from None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise KekFileError(f"KEK file {p}: not ASCII hex") from None
    return parse_kek(text, f"KEK file {p}")


def create_kek_file(path: str | os.PathLike[str]) -> bytes:
    """Write a fresh random KEK to `path` with mode 0600 and return it; never overwrites a file."""
    p = Path(path)
    kek = secrets.token_bytes(KEK_BYTES)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        raise KekFileError(f"KEK file {p} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KekFileError(f"cannot create KEK file {p}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(kek.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return kek
