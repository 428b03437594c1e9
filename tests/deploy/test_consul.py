"""The Consul service definition (JSON and HCL carry the same values) uses the native gRPC health check."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSUL = ROOT / "config" / "consul"


def _parse_simple_hcl(text: str) -> dict:
    """Enough HCL for this file: nested `name { ... }` blocks and `key = "str" | number | bool | [strings]`."""
    root: dict = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            block: dict = {}
            stack[-1][line[:-1].strip()] = block
            stack.append(block)
        elif line == "}":
            stack.pop()
        else:
            key, value = (part.strip() for part in line.split("=", 1))
            stack[-1][key] = json.loads(value)
    assert stack == [root], "unbalanced braces"
    return root


def test_json_and_hcl_agree() -> None:
    as_json = json.loads((CONSUL / "mpc-signer.json").read_text())
    as_hcl = _parse_simple_hcl((CONSUL / "mpc-signer.hcl").read_text())
    assert as_json == as_hcl


def test_native_grpc_check_against_the_node_port() -> None:
    service = json.loads((CONSUL / "mpc-signer.json").read_text())["service"]
    check = service["check"]
    host, port = check["grpc"].rsplit(":", 1)
    assert int(port) == service["port"] == 9091
    assert host == "127.0.0.1"
    assert check["grpc_use_tls"] is True
    assert check["tls_skip_verify"] is False
    for key in ("interval", "timeout"):
        assert re.fullmatch(r"\d+(ms|s|m|h)", check[key]), key
    # A file-defined service reaped by Consul would come back only at the next `consul reload`
    # (issue 13 item 11): the definition must not ask for it.
    assert "deregister_critical_service_after" not in check
    # no script/http checks: Consul needs no code in the node
    assert not {"args", "http", "tcp", "ttl"} & set(check)


def test_service_id_is_the_node_id_default() -> None:
    from signer.config import KEYS

    node_id_default = next(k.default for k in KEYS if k.path == "node.id")
    assert json.loads((CONSUL / "mpc-signer.json").read_text())["service"]["id"] == node_id_default


def test_agent_presents_its_certificate_to_mtls_checks() -> None:
    """Issue 13 item 11: with client_auth=require the gRPC check needs the agent's TLS credentials,
    switched on by enable_agent_tls_for_checks, and the snippet must not override the agent's own TLS."""
    agent = _parse_simple_hcl((CONSUL / "agent-tls-for-checks.hcl").read_text())
    assert agent == {"enable_agent_tls_for_checks": True}
    ops = (ROOT / "docs" / "operations.md").read_text()
    assert "enable_agent_tls_for_checks" in ops and "agent-tls-for-checks.hcl" in ops
