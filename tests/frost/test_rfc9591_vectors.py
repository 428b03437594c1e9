"""RFC 9591 Appendix E.1, FROST(Ed25519, SHA-512): every intermediate value from the JSON vectors."""

import functools
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey

from signer.crypto import vss
from signer.protocols.frost import core
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512 as SUITE
from signer.protocols.frost.ciphersuite import Ciphersuite

V = json.loads((Path(__file__).parent / "vectors" / "rfc9591-frost-ed25519-sha512.json").read_text())
G = SUITE.group
h = bytes.fromhex


def _scalar(hexstr: str) -> int:
    return G.decode_scalar(h(hexstr))


def test_config() -> None:
    assert V["config"]["context_string"].encode() == SUITE.context_string
    assert V["config"]["group"] == G.name


def test_key_material() -> None:
    inputs = V["inputs"]
    secret = _scalar(inputs["group_secret_key"])
    assert G.encode_point(G.base_mul(secret)).hex() == inputs["group_public_key"]
    coeffs = [secret] + [_scalar(c) for c in inputs["share_polynomial_coefficients"]]
    poly = vss.Polynomial(coeffs, G.order)
    for p in inputs["participant_shares"]:
        assert G.encode_scalar(vss.share_for(poly, p["identifier"])).hex() == p["participant_share"]


@pytest.fixture(scope="module")
def signing() -> dict:
    inputs = V["inputs"]
    pk = G.decode_point(h(inputs["group_public_key"]))
    msg = h(inputs["message"])
    shares = {p["identifier"]: _scalar(p["participant_share"]) for p in inputs["participant_shares"]}
    nonces = {}
    for out in V["round_one_outputs"]["outputs"]:
        i = out["identifier"]
        randomness = h(out["hiding_nonce_randomness"]), h(out["binding_nonce_randomness"])
        nonces[i] = core.commit_with_randomness(SUITE, shares[i], *randomness)
    commitments = {i: n.commitments for i, n in nonces.items()}
    ctx = core.signing_context(SUITE, pk, commitments, msg)
    return {"pk": pk, "msg": msg, "shares": shares, "nonces": nonces, "ctx": ctx, "commitments": commitments}


@pytest.mark.parametrize("out", V["round_one_outputs"]["outputs"], ids=lambda o: f"participant{o['identifier']}")
def test_round_one(out: dict, signing: dict) -> None:
    i = out["identifier"]
    share = signing["shares"][i]
    assert G.encode_scalar(core.nonce_generate(SUITE, share, h(out["hiding_nonce_randomness"]))) == h(
        out["hiding_nonce"]
    )
    assert G.encode_scalar(core.nonce_generate(SUITE, share, h(out["binding_nonce_randomness"]))) == h(
        out["binding_nonce"]
    )
    c = signing["commitments"][i]
    assert G.encode_point(c.hiding).hex() == out["hiding_nonce_commitment"]
    assert G.encode_point(c.binding).hex() == out["binding_nonce_commitment"]
    inputs = core.binding_factor_inputs(SUITE, signing["pk"], signing["commitments"], signing["msg"])
    assert inputs[i].hex() == out["binding_factor_input"]
    assert G.encode_scalar(signing["ctx"].binding_factors[i]).hex() == out["binding_factor"]


def test_round_two_aggregate_and_verify(signing: dict) -> None:
    ctx = signing["ctx"]
    sig_shares = {}
    for out in V["round_two_outputs"]["outputs"]:
        i = out["identifier"]
        kp = core.KeyPackage(i, signing["shares"][i], G.base_mul(signing["shares"][i]), signing["pk"], 2)
        z = core.sign(SUITE, kp, signing["nonces"][i], ctx)
        assert G.encode_scalar(z).hex() == out["sig_share"]
        assert core.verify_signature_share(SUITE, i, kp.verifying_share, z, ctx)
        assert not core.verify_signature_share(SUITE, i, kp.verifying_share, z + 1, ctx)
        sig_shares[i] = z
    sig = core.aggregate(SUITE, sig_shares, ctx)
    assert sig.hex() == V["final_output"]["sig"]
    for verify in (SUITE.verify, functools.partial(Ciphersuite.verify, SUITE)):  # native and generic
        assert verify(signing["pk"], signing["msg"], sig)
        assert not verify(signing["pk"], signing["msg"] + b"!", sig)
        assert not verify(signing["pk"], signing["msg"], sig[:32] + G.encode_scalar(1))
        assert not verify(signing["pk"], signing["msg"], sig[:63])
    VerifyKey(signing["pk"]).verify(signing["msg"], sig)
    Ed25519PublicKey.from_public_bytes(signing["pk"]).verify(sig, signing["msg"])
    # The nonces were consumed by signing.
    for n in signing["nonces"].values():
        assert n.used
        with pytest.raises(core.NonceReuseError):
            n.take()


def test_own_commitment_share_shortcut_matches() -> None:
    inputs = V["inputs"]
    pk = G.decode_point(h(inputs["group_public_key"]))
    share1 = _scalar(inputs["participant_shares"][0]["participant_share"])
    n1, n3 = core.commit(SUITE, share1), core.commit(SUITE, share1)
    commitments = {1: n1.commitments, 3: n3.commitments}
    plain = core.signing_context(SUITE, pk, commitments, b"m")
    fast = core.signing_context(SUITE, pk, commitments, b"m", own=(1, n1))
    assert plain == fast
    assert not n1.used
    with pytest.raises(ValueError):
        core.signing_context(SUITE, pk, commitments, b"m", own=(3, n1))
