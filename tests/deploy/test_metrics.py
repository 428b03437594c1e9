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


def test_no_created_series_and_a_build_info(server) -> None:
    """Issue 13 item 11: `_created` doubles the series for nothing; the release is one labelled gauge."""
    from signer import __version__

    text = urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).read().decode()
    assert "_created" not in text
    scraped = _scrape(server.server_port)
    assert scraped[_key("mpc_build_info", version=__version__)] == 1
    assert [k for k in scraped if k[0] == "mpc_build_info"] == [_key("mpc_build_info", version=__version__)]


async def test_health_and_reflection_stay_out_of_the_rpc_histogram(tmp_path, grpcurl) -> None:
    """A real node answers health probes and reflection; only SignerService calls are timed."""
    import trio

    from signer.app import run_node
    from signer.config import load_config

    def count(method: str) -> float:
        return sum(
            v
            for (name, labels), v in _scrape_registry().items()
            if name == "mpc_rpc_duration_seconds_count" and dict(labels)["method"] == method
        )

    config = load_config(
        env={}, flags={"grpc.listen": "127.0.0.1:0", "node.data_dir": str(tmp_path), "pools.preparams_size": "0"}
    )
    async with trio.open_nursery() as nursery:
        node = await nursery.start(run_node, config)
        target = f"127.0.0.1:{node.address[1]}"
        before = {m: count(m) for m in ("Check", "ServerReflectionInfo", "Ping")}
        await grpcurl("-plaintext", target, "grpc.health.v1.Health/Check")
        await grpcurl("-plaintext", target, "list")
        await grpcurl("-plaintext", target, "mpc.v1.SignerService/Ping")
        nursery.cancel_scope.cancel()
    assert count("Check") == before["Check"]
    assert count("ServerReflectionInfo") == before["ServerReflectionInfo"]
    assert count("Ping") == before["Ping"] + 1


def _scrape_registry() -> dict[tuple[str, tuple], float]:
    from prometheus_client import REGISTRY

    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in REGISTRY.collect() for s in family.samples}
