"""RFC 9591 Appendix E, every suite we implement: every intermediate value from the JSON vectors.

E.1 FROST(Ed25519, SHA-512) and E.5 FROST(secp256k1, SHA-256), plus ZcashFoundation's own vectors for its
Taproot variant (frost-secp256k1-tr, untweaked key) in the same format. Final signatures are also checked
by a verifier that shares no code with ours: libsodium and pyca/cryptography for Ed25519, the frost-rs
(ZcashFoundation) binding for secp256k1, libsecp256k1's BIP-340 verifier for the Taproot variant.
"""

import base64
import functools
import json
from collections.abc import Callable
from pathlib import Path

import coincurve
import frost_rs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey

from signer.crypto import vss
from signer.crypto.secp256k1 import Point
from signer.protocols.frost import core
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, FROST_SECP256K1_SHA256, Ciphersuite
from signer.protocols.frost.taproot import FROST_SECP256K1_TR_SHA256
from tests.frost import frost_rs_codec

h = bytes.fromhex
VECTORS = Path(__file__).parent / "vectors"


def _ed25519_independent(pk: bytes, msg: bytes, sig: bytes) -> None:
    VerifyKey(pk).verify(msg, sig)
    Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)


def _secp256k1_independent(pk: object, msg: bytes, sig: bytes) -> None:
    package = frost_rs_codec.public_key_package(FROST_SECP256K1_SHA256.group, {}, pk)
    assert frost_rs.utility_secp256k1.verify(msg, package, base64.urlsafe_b64encode(sig).decode())


def _bip340_independent(pk: Point, msg: bytes, sig: bytes) -> None:
    assert coincurve.PublicKeyXOnly(pk.encode()[1:]).verify(sig, msg)


SUITES: list[tuple[Ciphersuite, str, Callable]] = [
    (FROST_ED25519_SHA512, "rfc9591-frost-ed25519-sha512.json", _ed25519_independent),
    (FROST_SECP256K1_SHA256, "rfc9591-frost-secp256k1-sha256.json", _secp256k1_independent),
    (FROST_SECP256K1_TR_SHA256, "zf-frost-secp256k1-tr-sha256.json", _bip340_independent),
]
CASES = [pytest.param(s, json.loads((VECTORS / f).read_text()), v, id=f.split(".")[0]) for s, f, v in SUITES]


def _scalar(suite: Ciphersuite, hexstr: str) -> int:
    return suite.group.decode_scalar(h(hexstr))


@pytest.mark.parametrize(("suite", "V", "independent"), CASES)
def test_config(suite: Ciphersuite, V: dict, independent: Callable) -> None:
    assert V["config"]["context_string"].encode() == suite.context_string
    assert V["config"]["group"] == suite.group.name


@pytest.mark.parametrize(("suite", "V", "independent"), CASES)
def test_key_material(suite: Ciphersuite, V: dict, independent: Callable) -> None:
    G = suite.group
    inputs = V["inputs"]
    secret = _scalar(suite, inputs["group_secret_key"])
    assert G.encode_point(G.base_mul(secret)).hex() == inputs["group_public_key"]
    coeffs = [secret] + [_scalar(suite, c) for c in inputs["share_polynomial_coefficients"]]
    poly = vss.Polynomial(coeffs, G.order)
    for p in inputs["participant_shares"]:
        assert G.encode_scalar(vss.share_for(poly, p["identifier"])).hex() == p["participant_share"]


def _signing(suite: Ciphersuite, V: dict) -> dict:
    G = suite.group
    inputs = V["inputs"]
    pk = G.decode_point(h(inputs["group_public_key"]))
    msg = h(inputs["message"])
    shares = {p["identifier"]: _scalar(suite, p["participant_share"]) for p in inputs["participant_shares"]}
    nonces = {}
    for out in V["round_one_outputs"]["outputs"]:
        i = out["identifier"]
        randomness = h(out["hiding_nonce_randomness"]), h(out["binding_nonce_randomness"])
        nonces[i] = core.commit_with_randomness(suite, shares[i], *randomness)
    commitments = {i: n.commitments for i, n in nonces.items()}
    ctx = core.signing_context(suite, pk, commitments, msg)
    return {"pk": pk, "msg": msg, "shares": shares, "nonces": nonces, "ctx": ctx, "commitments": commitments}


@pytest.mark.parametrize(("suite", "V", "independent"), CASES)
def test_round_one(suite: Ciphersuite, V: dict, independent: Callable) -> None:
    G = suite.group
    signing = _signing(suite, V)
    for out in V["round_one_outputs"]["outputs"]:
        i = out["identifier"]
        share = signing["shares"][i]
        assert G.encode_scalar(core.nonce_generate(suite, share, h(out["hiding_nonce_randomness"]))) == h(
            out["hiding_nonce"]
        )
        assert G.encode_scalar(core.nonce_generate(suite, share, h(out["binding_nonce_randomness"]))) == h(
            out["binding_nonce"]
        )
        c = signing["commitments"][i]
        assert G.encode_point(c.hiding).hex() == out["hiding_nonce_commitment"]
        assert G.encode_point(c.binding).hex() == out["binding_nonce_commitment"]
        inputs = core.binding_factor_inputs(suite, signing["pk"], signing["commitments"], signing["msg"])
        assert inputs[i].hex() == out["binding_factor_input"]
        assert G.encode_scalar(signing["ctx"].binding_factors[i]).hex() == out["binding_factor"]


@pytest.mark.parametrize(("suite", "V", "independent"), CASES)
def test_round_two_aggregate_and_verify(suite: Ciphersuite, V: dict, independent: Callable) -> None:
    G = suite.group
    signing = _signing(suite, V)
    ctx = signing["ctx"]
    sig_shares = {}
    for out in V["round_two_outputs"]["outputs"]:
        i = out["identifier"]
        kp = core.KeyPackage(i, signing["shares"][i], G.base_mul(signing["shares"][i]), signing["pk"], 2)
        z = core.sign(suite, kp, signing["nonces"][i], ctx)
        assert G.encode_scalar(z).hex() == out["sig_share"]
        assert core.verify_signature_share(suite, i, kp.verifying_share, z, ctx)
        assert not core.verify_signature_share(suite, i, kp.verifying_share, z + 1, ctx)
        sig_shares[i] = z
    sig = core.aggregate(suite, sig_shares, ctx)
    assert sig.hex() == V["final_output"]["sig"]
    n = len(sig) - G.scalar_size  # the R part: a point, or its x alone for BIP-340
    generic = [functools.partial(Ciphersuite.verify, suite)] if n == G.point_size else []
    for verify in [suite.verify, *generic]:  # native and (for RFC encodings) generic
        assert verify(signing["pk"], signing["msg"], sig)
        assert not verify(signing["pk"], signing["msg"] + b"!", sig)
        assert not verify(signing["pk"], signing["msg"], sig[:n] + G.encode_scalar(1))
        assert not verify(signing["pk"], signing["msg"], sig[:-1])
    independent(signing["pk"], signing["msg"], sig)
    # The nonces were consumed by signing.
    for nonce in signing["nonces"].values():
        assert nonce.used
        with pytest.raises(core.NonceReuseError):
            nonce.take()


@pytest.mark.parametrize(("suite", "V", "independent"), CASES)
def test_own_commitment_share_shortcut_matches(suite: Ciphersuite, V: dict, independent: Callable) -> None:
    inputs = V["inputs"]
    pk = suite.group.decode_point(h(inputs["group_public_key"]))
    share1 = _scalar(suite, inputs["participant_shares"][0]["participant_share"])
    n1, n3 = core.commit(suite, share1), core.commit(suite, share1)
    commitments = {1: n1.commitments, 3: n3.commitments}
    plain = core.signing_context(suite, pk, commitments, b"m")
    fast = core.signing_context(suite, pk, commitments, b"m", own=(1, n1))
    assert plain == fast
    assert not n1.used
    with pytest.raises(ValueError):
        core.signing_context(suite, pk, commitments, b"m", own=(3, n1))
