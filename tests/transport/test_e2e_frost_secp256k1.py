"""FROST(secp256k1) through a real node over mTLS: plain RFC 9591 signatures checked by frost-rs (ZF
frost-secp256k1), Taproot signatures checked by libsecp256k1's BIP-340 verifier (coincurve) under an output
key tweaked by libsecp256k1 itself, BIP-32 children as bip_utils derives them, and the StartSign refusals
of the Taproot contract (INVALID_ARGUMENT)."""

from __future__ import annotations

import itertools

import coincurve
import frost_rs
import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from signer.client.coordinator import Coordinator
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256 as SUITE
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.frost.taproot import TaprootOutput
from signer.protocols.frost.tweak import chain_code
from signer.session_context import sign_extra
from tests.frost import frost_rs_codec as rs
from tests.frost.test_taproot import independent_output_key
from tests.transport import test_e2e_frost

coordinator = test_e2e_frost.coordinator  # the fixture: a Coordinator for the node over mTLS (party 2)
_SIGNINGS = itertools.count()
SIGHASH = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


async def _keygen(coordinator: Coordinator, key_id: str) -> bytes:
    sid = f"dkg-{key_id}"
    local = {1: FrostDkgSession(sid, 1, 2, (1, 2), SUITE)}
    out = await coordinator.dkg(sid, key_id, "frost", 2, 2, local, "secp256k1")
    assert out.ok, out.error
    assert len(out.nodes[2].public_key) == 33 and out.local[1].public_key == out.nodes[2].public_key
    return out.local[1].key_share


async def _sign(coordinator, key_id, share, message, *, taproot=None, path=()):
    sid = f"sign-{key_id}-{next(_SIGNINGS)}"
    local = {1: FrostSignSession(sid, 1, share, message, (1, 2), taproot=taproot, derivation_path=path)}
    root = (taproot.merkle_root or b"") if taproot else b""
    out = await coordinator.sign(
        sid, key_id, message, (1, 2), local, path, taproot=taproot is not None, taproot_merkle_root=root
    )
    assert out.ok, out.error
    node = out.nodes[2]
    assert (node.signature, node.public_key, node.output_key) == (
        out.local[1].signature,
        out.local[1].public_key,
        out.local[1].output_key,
    )
    return node


async def test_plain_signature_verifies_with_frost_rs(coordinator):
    share = await _keygen(coordinator, "wallet-k1")
    node = await _sign(coordinator, "wallet-k1", share, b"an RFC 9591 message of any length")
    key = FrostKeyShare.decode(share).public
    assert node.public_key == SUITE.group.encode_point(key.group_public_key) and node.output_key == b""
    assert len(node.signature) == 65  # RFC 9591: 33-byte R || 32-byte z
    package = rs.public_key_package(SUITE.group, key.verifying_shares, key.group_public_key)
    u = frost_rs.utility_secp256k1
    assert u.verify(b"an RFC 9591 message of any length", package, rs.b64(node.signature))
    assert not u.verify(b"another message", package, rs.b64(node.signature))


@pytest.mark.parametrize("root", [None, bytes(range(32))], ids=["key-path", "script-tree"])
async def test_taproot_signature_verifies_with_libsecp256k1(coordinator, root):
    share = await _keygen(coordinator, "wallet-tr")
    node = await _sign(coordinator, "wallet-tr", share, SIGHASH, taproot=TaprootOutput(root))
    assert node.public_key == FrostKeyShare.decode(share).info.public_key  # the 33-byte internal key
    assert node.output_key == independent_output_key(node.public_key, root)
    assert coincurve.PublicKeyXOnly(node.output_key).verify(node.signature, SIGHASH)
    assert not coincurve.PublicKeyXOnly(node.output_key).verify(node.signature, SIGHASH[::-1])
    assert not coincurve.PublicKeyXOnly(node.public_key[1:]).verify(node.signature, SIGHASH)


async def test_taproot_for_a_derived_child(coordinator):
    share = await _keygen(coordinator, "wallet-hd")
    key = FrostKeyShare.decode(share)
    path = (86, 0, 5)
    master = Bip32Secp256k1.FromPublicKey(key.info.public_key, Bip32KeyData(chain_code=chain_code(key)))
    child = master.DerivePath("/".join(map(str, path))).PublicKey().RawCompressed().ToBytes()
    node = await _sign(coordinator, "wallet-hd", share, SIGHASH, taproot=TaprootOutput(), path=path)
    assert node.public_key == child
    assert node.output_key == independent_output_key(child, None)
    assert coincurve.PublicKeyXOnly(node.output_key).verify(node.signature, SIGHASH)


async def test_taproot_contract_refusals(coordinator):
    share = await _keygen(coordinator, "wallet-bad")
    ed = await coordinator.dkg("dkg-ed", "wallet-ed", "frost", 2, 2, {1: FrostDkgSession("dkg-ed", 1, 2, (1, 2))})
    assert ed.ok
    node = coordinator.nodes[2]
    bad = {  # the refusal's text names what is wrong
        "has no taproot": dict(key_id="wallet-ed", taproot=True),
        "does not support derivation": dict(key_id="wallet-ed", path=(1,)),
        "taproot_merkle_root: must be 32 bytes": dict(taproot=True, taproot_merkle_root=b"\x01" * 31),
        "taproot_merkle_root: needs taproot": dict(taproot_merkle_root=b"\x01" * 32),
        "32-byte BIP-341 sighash": dict(taproot=True, message=b"m" * 33),
        "taproot: does not go with presign": dict(taproot=True, presign=True, message=b""),
        "non-hardened": dict(taproot=True, path=(2**31,)),
    }
    for i, (reason, kw) in enumerate(bad.items()):
        args = {"key_id": "wallet-bad", "message": SIGHASH, "path": (), **kw}
        with pytest.raises(GRPCError) as err:
            await node.start_sign(f"bad-{i}", args.pop("key_id"), args.pop("message"), (1, 2), args.pop("path"), **args)
        assert err.value.status == Status.INVALID_ARGUMENT and reason in err.value.message, (reason, err.value)
    assert share  # the key itself still signs
    await _sign(coordinator, "wallet-bad", share, SIGHASH, taproot=TaprootOutput())


async def test_an_approval_binds_taproot_and_its_script_tree(coordinator):
    """docs/contract.md §11.2: a Taproot signing's context carries its output-key parameters, so P1's approval
    of the plain signing of the same sighash, or of another script tree, is PERMISSION_DENIED (and consumes
    nothing: the same session id then starts with the right approval)."""
    await _keygen(coordinator, "wallet-tr-approve")
    node, sid, root = coordinator.nodes[2], "sign-tr-approve", bytes(range(32))

    def approvals(**extra):
        return coordinator.approvals("sign", sid, "wallet-tr-approve", SIGHASH, (1, 2), **extra)

    for wrong in (approvals(), approvals(extra=sign_extra(True)), approvals(extra=sign_extra(True, bytes(32)))):
        with pytest.raises(GRPCError) as err:
            await node.start_sign(
                sid, "wallet-tr-approve", SIGHASH, (1, 2), taproot=True, taproot_merkle_root=root, approvals=wrong
            )
        assert err.value.status == Status.PERMISSION_DENIED and "approval of party 1" in err.value.message
    view = await node.start_sign(
        sid,
        "wallet-tr-approve",
        SIGHASH,
        (1, 2),
        taproot=True,
        taproot_merkle_root=root,
        approvals=approvals(extra=sign_extra(True, root)),
    )
    assert view.outbound and view.outbound[0].from_party == 2
