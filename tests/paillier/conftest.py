"""Fixtures for the Paillier / zk tests: pre-generated safe-prime material, never generated here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signer.crypto.preparams import PreParams, load_fixture_preparams

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def preparams() -> list[PreParams]:
    """At least 6 pre-parameter sets from tests/paillier/fixtures/preparams.json."""
    return load_fixture_preparams(FIXTURES / "preparams.json")


@pytest.fixture(scope="session")
def alice(preparams: list[PreParams]) -> PreParams:
    return preparams[0]


@pytest.fixture(scope="session")
def bob(preparams: list[PreParams]) -> PreParams:
    return preparams[1]


@pytest.fixture(scope="session")
def attack_moduli() -> dict:
    return json.loads((FIXTURES / "attack_moduli.json").read_text())
