"""The key-encryption key (KEK) file: 32 random bytes written as 64 hex characters.

The format is the one every key file of the node shares (docs/contract.md §8), so reading and writing it is
`signer.auth.keyfiles`' job; here its errors become the store's `KekFileError`.
"""

from __future__ import annotations

import os
from pathlib import Path

from signer.auth.keyfiles import KeyFileError, create_hex_key_file, load_hex_key
from signer.store.errors import KekFileError


def load_kek(path: str | os.PathLike[str]) -> bytes:
    """Read a KEK file; raises KekFileError naming the file and the problem."""
    try:
        return load_hex_key(Path(path), "KEK").key
    except KeyFileError as exc:
        raise KekFileError(str(exc)) from None


def create_kek_file(path: str | os.PathLike[str]) -> bytes:
    """Write a fresh random KEK to `path` with mode 0600 and return it; never overwrites a file."""
    try:
        return create_hex_key_file(Path(path))
    except FileExistsError:
        raise KekFileError(f"KEK file {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KekFileError(f"cannot create KEK file {path}: {exc.strerror}") from None
