"""What the node logs about hostile calls (issue 13 item 8), read from the real log handler on a real
mTLS node: no bearer token even at debug level, no forgeable `key=value` fields, and refusals logged once
per call as fixed events with their reason and a request id, under a rate limit."""

from __future__ import annotations

import io
import logging
import re
import sys

import grpc
import pytest
import trio

from signer import logs
from signer.logs import EventLimiter, TextFormatter, logfmt_value, redact, setup_logging

from .test_tls_and_tokens import call


@pytest.fixture
def captured(monkeypatch):
    """`captured(level)` runs setup_logging with its own handler writing into a buffer it returns; the
    previous logging state is restored after the test."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in ("hpack", "h2", "grpclib")})
    monkeypatch.setattr(logs, "EVENT_LIMITER", EventLimiter(rate_per_s=0.01, burst=5))

    def start(level: str) -> io.StringIO:
        buffer = io.StringIO()
        with monkeypatch.context() as m:
            m.setattr(sys, "stderr", buffer)  # pytest's capture swaps sys.stderr per phase: set it here
            setup_logging(level, "text")
        return buffer

    yield start
    root.handlers[:], level, levels = saved
    root.setLevel(level)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


_FIELD = re.compile(r'(?:^|\s)(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_UNESCAPE = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|.)")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t"}


def _unescape(m: re.Match[str]) -> str:
    code = m.group(1)
    return chr(int(code[1:], 16)) if len(code) > 1 else _SIMPLE.get(code, code)


def _fields(line: str) -> dict[str, str]:
    """The logfmt `key=value` fields of a line, as a logfmt reader sees them (quoted values unescaped)."""
    out = {}
    for m in _FIELD.finditer(line):
        value = m.group(2)
        if value.startswith('"'):
            value = _UNESCAPE.sub(_unescape, value[1:-1])
        out[m.group(1)] = value
    return out


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("signer.test", logging.WARNING, __file__, 1, "refused %s", ("x",), None)
    record.__dict__.update(extra)
    return record


def test_text_fields_cannot_be_forged():
    forged = 'a key_id=victim client="admin" x\n2026-01-01T00:00:00Z ERROR signer.app  forged line'
    line = TextFormatter().format(_record(session_id=forged, key_id="real", client="CN=p1"))
    assert "\n" not in line
    fields = _fields(line)
    assert fields == {"session_id": forged, "key_id": "real", "client": "CN=p1"}
    # plain words stay bare; anything else is quoted with escapes
    assert logfmt_value("sess-1") == "sess-1"
    assert logfmt_value("") == '""'
    assert logfmt_value('a"b\\c') == '"a\\"b\\\\c"'
    assert logfmt_value("a\x1b[31mb\u2028") == '"a\\x1b[31mb\\u2028"'
    # a message cannot start a new line either
    msg = TextFormatter().format(logging.LogRecord("s", logging.INFO, "", 1, "x\ny\rz", None, None))
    assert msg.endswith("x\\ny\\rz")


def test_redaction_of_authorization_wherever_it_appears():
    token = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJtcGMtc2VydmljZSJ9.c2lnbmF0dXJl"
    for text in (
        f"(b'authorization', b'Bearer {token}')",
        f"authorization: Bearer {token}",
        f"metadata={{'authorization': 'Bearer {token}'}}",
        f"header {token} seen",
        f"BEARER {token}",
    ):
        out = redact(text)
        assert token not in out and "c2lnbmF0dXJl" not in out, out
        assert "REDACTED" in out


def _bad_mac_request(pb2, session_id: str):
    message = pb2.ProtocolMessage(
        session_id=session_id, from_party=1, to_party=2, round=1, sequence=1, payload=b"x", mac=bytes(32)
    )
    return pb2.ProtocolMessageRequest(message=message)


async def test_debug_level_shows_no_token_and_refusals_are_events(secure_node, grpcio_stubs, captured):
    pb2, _ = grpcio_stubs
    captured = captured("debug")
    token = secure_node.minter().mint()
    good = (("authorization", f"Bearer {token}"),)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    code, _ = await call(secure_node.good_channel, grpcio_stubs, "Ping", pb2.PingRequest(), good)
    assert code == grpc.StatusCode.OK
    for _ in range(20):  # a flood of bad MACs, bad tokens and invalid arguments
        code, _ = await call(
            secure_node.good_channel, grpcio_stubs, "SubmitProtocolMessage", _bad_mac_request(pb2, "s 1"), good
        )
        assert code == grpc.StatusCode.UNAUTHENTICATED
        code, _ = await call(
            secure_node.good_channel,
            grpcio_stubs,
            "GetDKGStatus",
            pb2.GetDKGStatusRequest(session_id="x"),
            (("authorization", f"Bearer {forged}"),),
        )
        assert code == grpc.StatusCode.UNAUTHENTICATED
        code, _ = await call(
            secure_node.good_channel,
            grpcio_stubs,
            "StartDKG",
            pb2.StartDKGRequest(session_id="z", key_id="k", threshold=2, total_parties=2, party_index=2),
            good,
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT
    await trio.sleep(0.1)
    out = captured.getvalue()
    signature = token.rsplit(".", 1)[1]
    assert signature not in out and forged.rsplit(".", 1)[1] not in out
    assert token.split(".")[1] not in out  # not even the claims

    lines = out.splitlines()
    by_event: dict[str, list[dict[str, str]]] = {}
    for line in lines:
        if "event=" in line:
            fields = _fields(line)
            by_event.setdefault(fields["event"], []).append(fields)
    assert set(by_event) == {"mac_refused", "token_refused", "invalid_argument"}
    for event, entries in by_event.items():
        # 20 refusals each, a burst of 5 lines each: the flood costs a few lines, not one per call
        assert len(entries) == 5, (event, len(entries))
        for fields in entries:
            assert re.fullmatch(r"[0-9a-f]{16}", fields["request_id"])
            assert fields["peer"].startswith("CN=")
    assert len({f["request_id"] for entries in by_event.values() for f in entries}) == 15
    mac = by_event["mac_refused"][0]
    assert mac["method"] == "SubmitProtocolMessage" and mac["code"] == "UNAUTHENTICATED"
    assert mac["reason"].startswith("message MAC rejected")
    assert by_event["token_refused"][0]["reason"] == "bad_signature"
    assert by_event["invalid_argument"][0]["method"] == "StartDKG"
    assert "protocol" in by_event["invalid_argument"][0]["reason"]


def test_event_limiter_refills_and_counts_what_it_dropped():
    now = [0.0]
    limiter = EventLimiter(rate_per_s=1.0, burst=2, clock=lambda: now[0])
    assert [limiter.allow("mac_refused") for _ in range(5)] == [0, 0, None, None, None]
    assert limiter.allow("token_refused") == 0  # one bucket per event name
    now[0] = 1.0
    assert limiter.allow("mac_refused") == 3  # the next line says three were dropped
    assert limiter.allow("mac_refused") is None
    with pytest.raises(ValueError):
        logs.log_event(logging.getLogger("x"), "made_up", "no")


async def test_the_caller_gets_the_request_id_of_its_log_line(secure_node, grpcio_stubs, captured):
    pb2, pb2_grpc = grpcio_stubs
    captured = captured("info")
    token = secure_node.minter().mint()

    def refused_call() -> str:
        with secure_node.good_channel() as channel:
            stub = pb2_grpc.SignerServiceStub(channel)
            with pytest.raises(grpc.RpcError) as err:
                stub.SubmitProtocolMessage(
                    _bad_mac_request(pb2, "s"), timeout=5, metadata=(("authorization", f"Bearer {token}"),)
                )
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            return dict(err.value.trailing_metadata())["x-request-id"]

    request_id = await trio.to_thread.run_sync(refused_call)
    (line,) = [line for line in captured.getvalue().splitlines() if "event=mac_refused" in line]
    assert _fields(line)["request_id"] == request_id


async def test_a_crafted_session_id_cannot_forge_fields_in_the_node_log(secure_node, grpcio_stubs, captured):
    pb2, _ = grpcio_stubs
    captured = captured("info")
    crafted = 'a key_id=victim client="CN=admin"'
    token = secure_node.minter().mint()
    request = pb2.StartDKGRequest(
        session_id=crafted,
        key_id="wallet-1",
        protocol=pb2.PROTOCOL_FROST,
        curve=pb2.CURVE_ED25519,
        threshold=2,
        total_parties=2,
        party_index=2,
        party_identities=secure_node.party_identities(pb2),
    )
    code, _ = await call(
        secure_node.good_channel, grpcio_stubs, "StartDKG", request, (("authorization", f"Bearer {token}"),)
    )
    await trio.sleep(0.1)
    lines = [line for line in captured.getvalue().splitlines() if "session_id=" in line]
    assert lines, captured.getvalue()
    parsed = [_fields(line) for line in lines]
    assert any("client" in fields for fields in parsed)
    for fields in parsed:
        assert fields["session_id"] == crafted
        assert fields.get("key_id", "wallet-1") == "wallet-1"
        assert fields.get("client", "CN=mpc-service").startswith("CN=mpc-service")
