"""Soak: FROST signings through `signer serve` over loopback while hostile clients abuse it (tests/transport/soak.py).

Bounded by default: 20 s, which is what `just test` and CI (.ci/run) run. Selecting the marker
(`just test -m slow tests/transport/test_soak.py`) runs the full 2 minutes; MPC_SOAK_SECONDS overrides both.
Passes when the node is still up, every signing succeeded and verified, and RSS and open descriptors
stayed bounded.
"""

from __future__ import annotations

import os

import pytest

from tests.support.ports import unused_port
from tests.transport.rawh2 import ping_ok, serve
from tests.transport.soak import SoakResult, sample, sign_many, soak

BOUNDED_S, FULL_S = 20.0, 120.0


def _seconds(config: pytest.Config) -> float:
    if "MPC_SOAK_SECONDS" in os.environ:
        return float(os.environ["MPC_SOAK_SECONDS"])
    return FULL_S if "slow" in (config.getoption("markexpr") or "") else BOUNDED_S


@pytest.mark.slow
async def test_node_survives_mixed_load_and_abuse(tmp_path, request):
    port = unused_port()
    with serve(tmp_path, port, "log.level=warning") as node:
        warm = SoakResult()
        await sign_many(node, 50, None, warm)  # imports, caches and the first allocations settle
        assert not warm.failures, warm.failures
        baseline_rss, baseline_fds = node.rss_kb(), node.fds()
        result = await soak(node, _seconds(request.config))
        sample(node, f"after soak ({result.signatures} signed, {result.abuses} abuses)", result, print)
        assert node.alive(), node.log()
        assert ping_ok(port)
        assert not result.failures, result.failures[:5]
        assert result.signatures > 0 and result.abuses > 0
        grown_mb = (node.rss_kb() - baseline_rss) / 1024
        assert grown_mb < 60, f"RSS grew by {grown_mb:.1f} MB"
        assert node.fds() <= baseline_fds + 10, (baseline_fds, node.fds())
        assert "Traceback" not in node.log(), node.log()[-3000:]
