"""docs/contract.md cannot drift from the code: its MAC test vectors and its byte-by-byte layout table are
read out of the document and checked against `signer.auth.mac`, and every `contract.md §N` that the code
or the proto cites must name a section the document has.

The MACs in the document were also computed outside this code base (docs/contract.md §3.4 gives the
openssl command), so a wrong implementation cannot agree with them by construction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest

from signer.auth.mac import MacError, MessageAuthenticator, mac_input, message_mac
from signer.config import KEYS_BY_PATH

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
TEXT = CONTRACT.read_text(encoding="utf-8")

VECTORS_BLOCK = re.compile(r"<!-- contract-vectors -->\s*```json\n(.*?)\n```", re.S)
LAYOUT_TABLE = re.compile(r"<!-- mac-layout: (?P<name>[\w-]+) -->\n(?P<table>(?:\|.*\|\n)+)")
LAYOUT_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|[^|]*\|\s*`([0-9a-f]*)`\s*\|$")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)?)\.? ", re.M)
CONFIG_ROW = re.compile(r"^\| `(?P<key>[a-z_.]+)`(?: \(`(?P<env>MPC_\w+)`\))? \| (?P<default>[^|]+) \|", re.M)
NUMBER = re.compile(r"(\d+(?:\.\d+)?)( MiB)?")
CITATION = re.compile(r"contract\.md §(\d+(?:\.\d+)?)")
SECTION_SIGN = re.compile(r"§(\d+(?:\.\d+)?)")  # the proto cites docs/contract.md sections by number alone


def _vectors() -> list[dict]:
    blocks = VECTORS_BLOCK.findall(TEXT)
    assert len(blocks) == 1, "docs/contract.md must hold exactly one contract-vectors JSON block"
    vectors = json.loads(blocks[0])
    assert vectors, "no vectors in the contract-vectors block"
    return vectors


VECTORS = {v["name"]: v for v in _vectors()}


def _fields(v: dict) -> tuple:
    return (v["session_id"], v["from_party"], v["to_party"], v["round"], v["sequence"], bytes.fromhex(v["payload"]))


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_matches_the_code(name):
    v = VECTORS[name]
    key, fields = bytes.fromhex(v["key"]), _fields(v)
    expected_input, expected_mac = bytes.fromhex(v["mac_input"]), bytes.fromhex(v["mac"])
    assert mac_input(*fields) == expected_input
    # The stated total length: 50 fixed bytes plus the session id's UTF-8 bytes plus the payload.
    assert len(expected_input) == 50 + len(v["session_id"].encode("utf-8")) + len(fields[-1])
    assert hmac.new(key, expected_input, hashlib.sha256).digest() == expected_mac
    assert message_mac(key, *fields) == expected_mac
    MessageAuthenticator(key).verify(*fields, expected_mac)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_refuses_any_changed_field(name):
    v = VECTORS[name]
    auth = MessageAuthenticator(bytes.fromhex(v["key"]))
    sid, frm, to, rnd, seq, payload = _fields(v)
    mac = bytes.fromhex(v["mac"])
    for changed in [
        (sid + "x", frm, to, rnd, seq, payload),
        (sid, frm + 1, to, rnd, seq, payload),
        (sid, frm, to + 1, rnd, seq, payload),
        (sid, frm, to, rnd + 1, seq, payload),
        (sid, frm, to, rnd, seq + 1, payload),
        (sid, frm, to, rnd, seq, payload + b"\x00"),
    ]:
        with pytest.raises(MacError):
            auth.verify(*changed, mac)


def test_layout_table_spells_out_a_vector_byte_by_byte():
    tables = LAYOUT_TABLE.findall(TEXT)
    assert tables, "docs/contract.md §3.4 must hold a mac-layout table"
    for name, table in tables:
        rows = [LAYOUT_ROW.match(line) for line in table.splitlines()[2:]]
        assert all(rows), f"malformed row in the {name} layout table"
        offset, parts = 0, []
        for row in rows:
            start, length, hex_bytes = int(row[1]), int(row[2]), row[3]
            assert start == offset, f"{name}: row at offset {start} should start at {offset}"
            assert len(hex_bytes) == 2 * length, f"{name}: row at offset {start} has the wrong length"
            offset += length
            parts.append(hex_bytes)
        assert "".join(parts) == VECTORS[name]["mac_input"]


def test_every_cited_section_exists():
    sections = set(HEADING.findall(TEXT))
    proto = ROOT / "proto" / "mpc" / "v1" / "signer.proto"
    cited = [(proto, n) for n in SECTION_SIGN.findall(proto.read_text(encoding="utf-8"))]
    for path in [ROOT / "README.md", *sorted((ROOT / "signer").rglob("*.py"))]:
        cited += [(path, n) for n in CITATION.findall(path.read_text(encoding="utf-8"))]
    assert any(path == proto for path, _ in cited), "signer.proto cites no docs/contract.md section"
    missing = {f"{path.relative_to(ROOT)}: §{number}" for path, number in cited if number not in sections}
    assert not missing, f"citations of sections docs/contract.md does not have: {sorted(missing)}"


def test_configuration_table_matches_the_node():
    """§8: where a row names a key the node has, its environment variable and numeric default are the node's."""
    section = TEXT.split("## 8. ", 1)[1].split("\n## ", 1)[0]
    rows = list(CONFIG_ROW.finditer(section))
    assert len(rows) >= 10, "the §8 configuration table was not found"
    checked = 0
    for row in rows:
        key = KEYS_BY_PATH.get(row["key"])
        if key is None:  # documented ahead of the node's configuration (see §8)
            continue
        if row["env"]:
            assert row["env"] == key.env, f"{row['key']}: environment variable"
        number = NUMBER.fullmatch(row["default"].strip())
        if number and isinstance(key.default, int | float) and not isinstance(key.default, bool):
            value = float(number[1]) * (1 << 20 if number[2] else 1)
            assert value == key.default, f"{row['key']}: default {row['default'].strip()} != {key.default}"
            checked += 1
    assert checked >= 5
