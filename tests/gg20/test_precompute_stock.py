"""Precomputed values where the presigning runs: each step declares exactly what it takes
(`precompute_needs`), the engine's runner hands a worker-process step those values from the engine's stock
and takes back the rest, each value once, and the stock's refill task makes them in a worker of its own."""

from __future__ import annotations

from dataclasses import replace

import gmpy2
import trio

from signer.crypto import precompute
from signer.crypto.paillier import NONCE_POOL, NONCE_POOL_NAME
from signer.crypto.ringpedersen import MASK_POOL
from signer.engine.offload import ProcessRunner
from signer.engine.stock import PrecomputeStock
from signer.protocols.base import BROADCAST, InboxKey, Outgoing, SessionProtocol
from signer.protocols.gg20 import Gg20PresignSession, Gg20SignSession
from signer.wire import ProtocolMessage
from tests.gg20.conftest import assert_valid_signature, digest_of
from tests.support.driver import run_ok


class ExactlyDeclared(SessionProtocol):
    """A party whose every step finds in this process's pools exactly what the step declared, and must
    leave them empty without computing any value itself."""

    def __init__(self, inner: Gg20PresignSession) -> None:
        self.inner = inner
        self.session_id, self.party_index, self.parties = inner.session_id, inner.party_index, inner.parties

    def _step(self, step):
        for need in self.inner.precompute_needs():
            need.fill(need.count)
        misses = NONCE_POOL.misses + MASK_POOL.misses
        out = step()
        assert precompute.collect() == {} and NONCE_POOL.misses + MASK_POOL.misses == misses
        return out

    def start(self) -> list[Outgoing]:
        return self._step(self.inner.start)

    def advance(self, inbox) -> list[Outgoing]:
        return self._step(lambda: self.inner.advance(inbox))

    def expected(self):
        return self.inner.expected()

    @property
    def result(self):
        return self.inner.result


def test_each_presigning_step_takes_exactly_what_it_declares(keys):
    """Three signers (two peers each), every step of every party; the presignatures sign validly."""
    shares = {i: s.result.key_share for i, s in keys[(2, 3)].items()}
    signers = (1, 2, 3)
    presign = {i: Gg20PresignSession("stock-exact", i, shares[i], signers) for i in signers}
    whole = {i: sum(n.count for n in presign[i].precompute_needs(whole=True)) for i in signers}
    assert whole == {i: 13 + 2 * 4 + 2 * 12 for i in signers}  # own N; each peer's N; each peer's masks
    run_ok({i: ExactlyDeclared(s) for i, s in presign.items()})
    assert all(s.precompute_needs() == [] for s in presign.values())
    digest = digest_of("stock-exact")
    sign = {
        i: Gg20SignSession("stock-exact-sign", i, shares[i], digest, signers, (), presign[i].result) for i in signers
    }
    assert all(s.precompute_needs(whole=True) == [] for s in sign.values())  # the online round takes none
    run_ok(sign)
    assert_valid_signature(sign[1].result, digest, keys[(2, 3)][1].result.public_key)


async def test_worker_steps_take_the_stocks_values_once_and_give_back_the_rest(keys):
    """Two parties' presigning through their own ProcessRunner (steps in trio_parallel workers), each stock
    holding two presignings' worth: every step is handed its values, each stock ends with exactly one
    presigning's worth, all values it held before (none made up, none given back twice), and K_i was
    encrypted with a nonce that was handed out."""
    shares = {i: s.result.key_share for i, s in keys[(2, 2)].items()}
    signers = (1, 2)
    protos: dict[int, SessionProtocol] = {i: Gg20PresignSession("stock-runner", i, shares[i], signers) for i in signers}
    stocks = {i: PrecomputeStock(presignings=2) for i in signers}
    runners = {i: ProcessRunner(stocks[i]) for i in signers}
    whole = {i: protos[i].precompute_needs(whole=True) for i in signers}
    before = {}
    for i in signers:
        for need in whole[i]:  # filled in this process, as the refill worker would
            stocks[i]._pool(need.pool).put(need.key, precompute.make(replace(need, count=2 * need.count)))
        before[i] = {n.key: list(stocks[i]._pool(n.pool)._values[n.key]) for n in whole[i]}

    outs = {}
    for i in signers:
        protos[i], outs[i] = await runners[i].start(protos[i])
    rho = {i: int(protos[i]._r1.rho) for i in signers}
    while any(p.expected() is not None for p in protos.values()):
        inboxes: dict[int, dict[InboxKey, ProtocolMessage]] = {i: {} for i in signers}
        for i, out in outs.items():
            for msg in out:
                broadcast = msg.to_party == BROADCAST
                for j in [j for j in signers if j != i] if broadcast else [msg.to_party]:
                    inboxes[j][InboxKey(i, broadcast)] = ProtocolMessage(
                        protos[i].session_id, i, msg.to_party, msg.round, 0, msg.payload
                    )
        for i in signers:
            protos[i], outs[i] = await runners[i].advance(protos[i], inboxes[i])
    for i in signers:
        assert stocks[i].handed_out == sum(n.count for n in whole[i])
        for need in whole[i]:
            left = stocks[i]._pool(need.pool).take_ready(need.key, 1000)
            assert len(left) == need.count and len({repr(v) for v in left}) == need.count
            assert all(v in before[i][need.key] for v in left)
            if need.pool == NONCE_POOL_NAME and need.key == int(protos[i].key.paillier_secret.n):
                handed = {int(r) for r, _ in before[i][need.key]} - {int(r) for r, _ in left}
                assert rho[i] in handed


async def test_the_refill_task_makes_what_sessions_want(keys):
    key = keys[(2, 2)][1].result
    session = Gg20PresignSession("stock-refill", 1, key.key_share, (1, 2))
    needs = [n for n in session.precompute_needs() if n.pool == NONCE_POOL_NAME]  # round 1: own nonces
    stock = PrecomputeStock(presignings=1)
    async with trio.open_nursery() as nursery:
        await nursery.start(stock.run)
        stock.want(needs)
        with trio.fail_after(60):
            while not stock.full:
                await trio.sleep(0.05)
        stock.scope.cancel()
    (need,) = needs
    values = stock._pool(need.pool).take_ready(need.key, need.count + 1)
    assert len(values) == need.count == 2
    n = gmpy2.mpz(need.key)
    assert all(rn == gmpy2.powmod(r, n, n * n) for r, rn in values)
