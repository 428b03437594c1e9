"""A real node for the client tests (tests/support/served.py), started per test."""

from __future__ import annotations

import pytest

from tests.support.served import ServedNode


@pytest.fixture
def served(tmp_path, free_port):
    node = ServedNode(tmp_path, free_port)
    node.start()
    try:
        yield node
    finally:
        node.stop()
