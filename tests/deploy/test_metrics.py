"""The metrics endpoint serves what the node records, in Prometheus text format, on its own listener."""

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from signer import metrics


@pytest.fixture
def server():
    srv, _thread = metrics.start_metrics_server("127.0.0.1:0")
    yield srv
    srv.shutdown()
    srv.server_close()


def _scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _key(name: str, **labels: str) -> tuple[str, tuple]:
    return (name, tuple(sorted(labels.items())))


def test_scrape_reflects_recorded_values(server) -> None:
    before = _scrape(server.server_port)
    started = _key("mpc_sessions_started_total", protocol="gg20", kind="presign")
    done = _key("mpc_sessions_completed_total", protocol="gg20", kind="presign")
    timed_out = _key("mpc_sessions_failed_total", protocol="gg20", kind="presign", reason="timed_out")
    active = _key("mpc_sessions_active", protocol="gg20", kind="presign")
    # series exist (as zeros or earlier values) before anything happens
    assert {started, done, timed_out, active} <= before.keys()

    metrics.session_started("gg20", "presign")
    metrics.session_started("gg20", "presign")
    metrics.session_ended("gg20", "presign", "completed")
    metrics.session_ended("gg20", "presign", "timed_out")
    metrics.POOL_LEVEL.labels("presignatures").set(7)
    metrics.ROUND_DURATION.labels("frost", "sign").observe(0.02)
    metrics.RPC_LATENCY.labels("StartSign", "OK").observe(0.003)

    after = _scrape(server.server_port)
    assert after[started] - before[started] == 2
    assert after[done] - before[done] == 1
    assert after[timed_out] - before[timed_out] == 1
    assert after[active] == before[active]
    assert after[_key("mpc_pool_level", pool="presignatures")] == 7
    count = _key("mpc_round_duration_seconds_count", protocol="frost", kind="sign")
    assert after[count] - before.get(count, 0) == 1
    le = _key("mpc_rpc_duration_seconds_bucket", method="StartSign", code="OK", le="0.005")
    assert after[le] - before.get(le, 0) == 1


def test_label_sets_are_closed() -> None:
    with pytest.raises(ValueError):
        metrics.session_started("gg18", "sign")
    with pytest.raises(ValueError):
        metrics.session_ended("frost", "sign", "exploded")


def test_bad_listen_address() -> None:
    with pytest.raises(ValueError):
        metrics.start_metrics_server("nonsense")
