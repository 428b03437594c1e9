"""Service tokens: the whole refusal matrix of docs/contract.md §2.2 and issue 7, each with the reason it names."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from signer.auth.devcerts import make_ca, make_client_cert
from signer.auth.jwt import (
    Claims,
    TokenConfigError,
    TokenError,
    TokenMinter,
    TokenVerifier,
    bearer_token,
)

ISS = "mpc-service"
AUD = "server-signer-p2"


def _priv_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pub_pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def keys():
    return {
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


@pytest.fixture(scope="module")
def pem_files(keys, tmp_path_factory):
    d = tmp_path_factory.mktemp("jwtkeys")
    out = {}
    for alg, k in keys.items():
        p = d / f"{alg}.pub.pem"
        p.write_bytes(_pub_pem(k))
        out[alg] = p
    return out


@pytest.fixture
def ed(keys, pem_files):
    """A verifier on the Ed25519 public key and a minter with the matching private key."""
    return (
        TokenVerifier(pem_files["EdDSA"], ISS, AUD),
        TokenMinter(_priv_pem(keys["EdDSA"]), ISS, AUD, "EdDSA", ttl_s=60),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**over):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": "mpc-service", "iat": now, "nbf": now, "exp": now + 60}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def _reason(verifier, token):
    with pytest.raises(TokenError) as e:
        verifier.verify(token)
    if isinstance(token, str) and len(token) > 20:
        assert token not in str(e.value)  # never echo the token
    return e.value.reason, str(e.value)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_good_token_passes_for_each_default_algorithm(keys, pem_files, alg):
    verifier = TokenVerifier(pem_files[alg], ISS, AUD)
    minter = TokenMinter(_priv_pem(keys[alg]), ISS, AUD, alg, subject="coordinator-1")
    claims = verifier.verify(minter.mint())
    assert isinstance(claims, Claims)
    assert claims.issuer == ISS and claims.audience == (AUD,) and claims.subject == "coordinator-1"
    assert claims.expires_at - claims.issued_at == 60 and claims.not_before == claims.issued_at
    assert claims.token_id and len(claims.token_id) == 32
    assert verifier.verify_bearer(minter.authorization()).subject == "coordinator-1"


def test_missing_token(ed):
    verifier, _ = ed
    for token in (None, ""):
        assert _reason(verifier, token) == ("missing", "service token missing")
    for header in (None, "", "Bearer ", "Bearer    "):
        with pytest.raises(TokenError) as e:
            verifier.verify_bearer(header)
        assert e.value.reason == "missing"


def test_bearer_parsing():
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer  abc ") == "abc"
    with pytest.raises(TokenError, match="not a Bearer") as e:
        bearer_token("Basic dXNlcjpwdw==")
    assert e.value.reason == "malformed"


@pytest.mark.parametrize("token", ["abc", "a.b.c", "a.b", "...", "e30.e30.", "x" * 9000])
def test_malformed(ed, token):
    verifier, _ = ed
    reason, _ = _reason(verifier, token)
    assert reason == "malformed"


def test_expired_and_leeway(ed):
    verifier, minter = ed
    now = int(time.time())
    assert _reason(verifier, minter.mint(now=now - 200)) == ("expired", "service token expired")
    # expired 10 s ago, within the default 30 s leeway
    assert verifier.verify(minter.mint(now=now - 70)).expires_at == now - 10


def test_not_yet_valid_nbf_and_iat(ed):
    verifier, minter = ed
    now = int(time.time())
    assert _reason(verifier, minter.mint(now=now + 300))[0] == "not_yet_valid"
    t = minter.mint(extra_claims={"nbf": now + 300})
    assert _reason(verifier, t) == ("not_yet_valid", "service token not yet valid")
    t = minter.mint(extra_claims={"iat": now + 300, "nbf": now})
    assert _reason(verifier, t)[0] == "not_yet_valid"
    # 10 s clock skew is within the leeway
    assert verifier.verify(minter.mint(now=now + 10))


def test_zero_leeway_is_strict(keys, pem_files):
    verifier = TokenVerifier(pem_files["EdDSA"], ISS, AUD, leeway_s=0)
    minter = TokenMinter(_priv_pem(keys["EdDSA"]), ISS, AUD, ttl_s=60)
    assert _reason(verifier, minter.mint(now=time.time() - 70))[0] == "expired"


def test_wrong_issuer_and_audience(keys, ed):
    verifier, minter = ed
    assert _reason(verifier, minter.mint(extra_claims={"iss": "someone-else"})) == (
        "wrong_issuer",
        "service token issuer not accepted",
    )
    assert _reason(verifier, minter.mint(extra_claims={"aud": "server-signer-p3"})) == (
        "wrong_audience",
        "service token audience not accepted",
    )
    assert _reason(verifier, minter.mint(extra_claims={"aud": ["a", "b"]}))[0] == "wrong_audience"
    assert verifier.verify(minter.mint(extra_claims={"aud": ["other", AUD]})).audience == ("other", AUD)


@pytest.mark.parametrize("claim", ["exp", "iss", "aud"])
def test_required_claims(keys, ed, claim):
    verifier, _ = ed
    token = jwt.encode(_claims(**{claim: None}), keys["EdDSA"], algorithm="EdDSA")
    assert _reason(verifier, token) == ("missing_claim", f"service token lacks the {claim} claim")


def test_alg_none_is_refused(ed):
    verifier, _ = ed
    header = _b64(b'{"alg":"none","typ":"JWT"}')
    token = f"{header}.{_b64(json.dumps(_claims()).encode())}."
    assert _reason(verifier, token) == ("algorithm_not_allowed", "service token algorithm none not allowed")
    token = jwt.encode(_claims(), None, algorithm="none")
    assert _reason(verifier, token)[0] == "algorithm_not_allowed"


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_hs256_signed_with_the_public_key_is_refused(pem_files, alg):
    """The classic confusion attack: HMAC keyed with the verifier's public key bytes."""
    verifier = TokenVerifier(pem_files[alg], ISS, AUD)
    secret = pem_files[alg].read_bytes()
    header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    signing_input = f"{header}.{_b64(json.dumps(_claims()).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(sig)}"
    assert _reason(verifier, token) == ("algorithm_not_allowed", "service token algorithm HS256 not allowed")


@pytest.mark.parametrize("algs", [["none"], ["HS256"], ["EdDSA", "HS512"], ["hs384"], ["NONE"], [], ["XX1"]])
def test_forbidden_allow_lists(pem_files, algs):
    with pytest.raises(TokenConfigError):
        TokenVerifier(pem_files["EdDSA"], ISS, AUD, algorithms=algs)


def test_algorithm_outside_allow_list(keys, pem_files):
    verifier = TokenVerifier(pem_files["RS256"], ISS, AUD, algorithms=["RS256"])
    token = TokenMinter(_priv_pem(keys["RS256"]), ISS, AUD, "PS256").mint()
    assert _reason(verifier, token)[0] == "algorithm_not_allowed"


def test_allowed_algorithm_that_does_not_fit_the_key(keys, pem_files):
    verifier = TokenVerifier(pem_files["EdDSA"], ISS, AUD)  # default list includes ES256 and RS256
    token = TokenMinter(_priv_pem(keys["ES256"]), ISS, AUD, "ES256").mint()
    reason, msg = _reason(verifier, token)
    assert reason == "algorithm_not_allowed" and "does not fit" in msg


def test_tampered_payload_and_signature(ed):
    verifier, minter = ed
    header, payload, sig = minter.mint().split(".")
    forged = _b64(json.dumps(_claims(sub="admin")).encode())
    assert _reason(verifier, f"{header}.{forged}.{sig}") == ("bad_signature", "service token signature invalid")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[0] ^= 1
    assert _reason(verifier, f"{header}.{payload}.{_b64(bytes(raw))}")[0] == "bad_signature"


def test_token_from_another_key(pem_files):
    verifier = TokenVerifier(pem_files["EdDSA"], ISS, AUD)
    other = TokenMinter(_priv_pem(ed25519.Ed25519PrivateKey.generate()), ISS, AUD)
    assert _reason(verifier, other.mint())[0] == "bad_signature"


@pytest.fixture
def jwks(keys, tmp_path):
    k1, k2 = keys["EdDSA"], ed25519.Ed25519PrivateKey.generate()
    doc = {
        "keys": [
            {**OKPAlgorithm.to_jwk(k1.public_key(), as_dict=True), "kid": "k1", "use": "sig"},
            {**OKPAlgorithm.to_jwk(k2.public_key(), as_dict=True), "kid": "k2", "alg": "EdDSA"},
            {**ECAlgorithm.to_jwk(keys["ES256"].public_key(), as_dict=True), "kid": "k3"},
            {**RSAAlgorithm.to_jwk(keys["RS256"].public_key(), as_dict=True), "kid": "enc", "use": "enc"},
        ]
    }
    p = tmp_path / "jwks.json"
    p.write_text(json.dumps(doc))
    return p, k1, k2


def test_jwks_selects_by_kid(jwks, keys):
    path, k1, k2 = jwks
    verifier = TokenVerifier(path, ISS, AUD)
    for kid, key in (("k1", k1), ("k2", k2)):
        assert verifier.verify(TokenMinter(_priv_pem(key), ISS, AUD, kid=kid).mint()).issuer == ISS
    assert verifier.verify(TokenMinter(_priv_pem(keys["ES256"]), ISS, AUD, "ES256", kid="k3").mint())
    # right kid, wrong key
    assert _reason(verifier, TokenMinter(_priv_pem(k2), ISS, AUD, kid="k1").mint())[0] == "bad_signature"


def test_jwks_unknown_kid(jwks):
    path, k1, _ = jwks
    verifier = TokenVerifier(path, ISS, AUD)
    token = TokenMinter(_priv_pem(k1), ISS, AUD, kid="k9").mint()
    assert _reason(verifier, token) == ("unknown_key", "service token key id is not known")
    # the encryption key is skipped, so its kid is unknown too
    assert _reason(verifier, TokenMinter(_priv_pem(k1), ISS, AUD, kid="enc").mint())[0] == "unknown_key"


def test_jwks_without_kid_is_ambiguous_when_several_keys_fit(jwks, keys):
    path, k1, _ = jwks
    verifier = TokenVerifier(path, ISS, AUD)
    assert _reason(verifier, TokenMinter(_priv_pem(k1), ISS, AUD).mint())[0] == "unknown_key"
    # only one ES256 key: no kid needed
    assert verifier.verify(TokenMinter(_priv_pem(keys["ES256"]), ISS, AUD, "ES256").mint())


@pytest.mark.parametrize(
    "doc,match",
    [
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}, "symmetric"),
        ({"keys": []}, "no signature keys"),
        ({"nokeys": 1}, "'keys' list"),
        ({"keys": ["x"]}, "not an object"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "!!"}]}, "cannot be parsed"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA", "alg": "HS256"}]}, "not a public-key"),
    ],
)
def test_bad_jwks_files(tmp_path, doc, match):
    p = tmp_path / "jwks.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(TokenConfigError, match=match):
        TokenVerifier(p, ISS, AUD)


def test_jwks_with_private_key_is_refused(keys, tmp_path):
    jwk = json.loads(OKPAlgorithm.to_jwk(keys["EdDSA"]))
    p = tmp_path / "jwks.json"
    p.write_text(json.dumps({"keys": [jwk]}))
    with pytest.raises(TokenConfigError, match="private key"):
        TokenVerifier(p, ISS, AUD)


def test_key_file_errors(keys, tmp_path):
    with pytest.raises(TokenConfigError, match="not found"):
        TokenVerifier(tmp_path / "missing.pem", ISS, AUD)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    with pytest.raises(TokenConfigError, match="not a PEM public key"):
        TokenVerifier(garbage, ISS, AUD)
    private = tmp_path / "private.pem"
    private.write_bytes(_priv_pem(keys["EdDSA"]))
    with pytest.raises(TokenConfigError):
        TokenVerifier(private, ISS, AUD)
    small = tmp_path / "rsa1024.pem"
    small.write_bytes(_pub_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    with pytest.raises(TokenConfigError, match="2048"):
        TokenVerifier(small, ISS, AUD)


def test_no_key_fits_allow_list(pem_files):
    with pytest.raises(TokenConfigError, match="no key fits"):
        TokenVerifier(pem_files["EdDSA"], ISS, AUD, algorithms=["ES256"])


@pytest.mark.parametrize("kw", [{"issuer": ""}, {"audience": ""}, {"leeway_s": -1}, {"leeway_s": 3600}])
def test_bad_verifier_settings(pem_files, kw):
    args = {"issuer": ISS, "audience": AUD, **kw}
    with pytest.raises(TokenConfigError):
        TokenVerifier(pem_files["EdDSA"], **args)


def test_certificate_as_public_key(tmp_path):
    ca = make_ca()
    client = make_client_cert(ca)
    cert = tmp_path / "signer.crt"
    cert.write_bytes(client.cert_pem())
    verifier = TokenVerifier(cert, ISS, AUD, algorithms=["ES256"])
    assert verifier.verify(TokenMinter(client.key_pem(), ISS, AUD, "ES256").mint()).issuer == ISS


def test_minter_checks_and_hides_its_key(keys, tmp_path):
    pem = _priv_pem(keys["EdDSA"])
    minter = TokenMinter(pem, ISS, AUD)
    assert "PRIVATE" not in repr(minter)
    with pytest.raises(TokenConfigError, match="does not fit"):
        TokenMinter(pem, ISS, AUD, "ES256")
    with pytest.raises(TokenConfigError):
        TokenMinter(pem, ISS, AUD, "HS256")
    with pytest.raises(TokenConfigError, match="PEM private key"):
        TokenMinter(b"not a key", ISS, AUD)
    with pytest.raises(TokenConfigError, match="ttl"):
        TokenMinter(pem, ISS, AUD, ttl_s=0)
    p = tmp_path / "jwt-private.pem"
    p.write_bytes(pem)
    token = TokenMinter.from_file(p, ISS, AUD, kid="k1").mint()
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    assert minter.mint() != minter.mint()  # fresh jti each time


def test_verified_token_is_remembered_until_it_expires(keys, pem_files, monkeypatch):
    verifier = TokenVerifier(pem_files["EdDSA"], ISS, AUD, leeway_s=0)
    minter = TokenMinter(_priv_pem(keys["EdDSA"]), ISS, AUD, ttl_s=60)
    now = time.time()
    token = minter.mint(now=now)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # served from the cache: no second signature check
    # The cached claims are not a pass past expiry: the same bytes are refused once exp has gone by.
    monkeypatch.setattr(time, "time", lambda: now + 61)
    assert _reason(verifier, token)[0] == "expired"


def test_verified_cache_is_bounded(ed):
    from signer.auth.jwt import VERIFIED_CACHE_SIZE

    verifier, minter = ed
    for _ in range(VERIFIED_CACHE_SIZE + 10):
        verifier.verify(minter.mint())
    assert len(verifier._verified) == VERIFIED_CACHE_SIZE


def test_minter_reuses_its_token_for_half_its_lifetime(keys, ed, monkeypatch):
    verifier, _ = ed
    minter = TokenMinter(_priv_pem(keys["EdDSA"]), ISS, AUD, ttl_s=20)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    first = minter.authorization()
    assert minter.authorization() == first
    monkeypatch.setattr(time, "time", lambda: now + 11)
    second = minter.authorization()
    assert second != first
    assert verifier.verify_bearer(second).expires_at == int(now + 11) + 20


# --- issue 13 item 9: bounded lifetime, NumericDate claims only ---------------------------------------


def test_lifetime_is_bounded(keys, pem_files, ed):
    verifier, minter = ed
    now = int(time.time())
    # a token minted to live an hour (the default bound is 300 s)
    long_lived = minter.mint(extra_claims={"exp": now + 3600})
    assert _reason(verifier, long_lived) == ("lifetime_too_long", "service token lifetime exceeds the accepted 300 s")
    # the year-9999 token: valid signature, right issuer and audience, refused all the same
    assert _reason(verifier, minter.mint(extra_claims={"exp": 253402300799}))[0] == "lifetime_too_long"
    # exactly at the bound passes; the bound is a setting
    assert verifier.verify(minter.mint(extra_claims={"exp": now + 300})).expires_at == now + 300
    strict = TokenVerifier(pem_files["EdDSA"], ISS, AUD, max_lifetime_s=30)
    assert _reason(strict, minter.mint())[0] == "lifetime_too_long"  # the minter's 60 s
    assert strict.verify(minter.mint(extra_claims={"exp": now + 30}))
    with pytest.raises(TokenConfigError, match="max lifetime"):
        TokenVerifier(pem_files["EdDSA"], ISS, AUD, max_lifetime_s=0)


def test_token_without_iat_is_bounded_from_now(keys, ed):
    verifier, _ = ed
    now = int(time.time())
    short = jwt.encode(_claims(iat=None, exp=now + 200), keys["EdDSA"], algorithm="EdDSA")
    assert verifier.verify(short).issued_at is None
    for exp in (now + 3600, 253402300799):
        token = jwt.encode(_claims(iat=None, exp=exp), keys["EdDSA"], algorithm="EdDSA")
        assert _reason(verifier, token)[0] == "lifetime_too_long"


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "9999999999"},  # pyjwt alone would int() the string into a valid expiry
        {"exp": str(int(time.time()) + 60)},
        {"exp": True},
        {"exp": float("inf")},  # serialised as the JSON literal Infinity; int() of it raised OverflowError
        {"exp": float("nan")},
        {"exp": [1]},
        {"iat": "0"},
        {"nbf": {"t": 1}},
    ],
)
def test_time_claims_must_be_numbers(keys, ed, claims):
    verifier, _ = ed
    token = jwt.encode(_claims(**claims), keys["EdDSA"], algorithm="EdDSA")
    reason, message = _reason(verifier, token)
    assert reason == "malformed", message
    assert "not a number" in message


def test_cache_keeps_the_rules(keys, pem_files, monkeypatch):
    """A refused token is refused again (never cached); an accepted one without iat stays within its bound."""
    verifier = TokenVerifier(pem_files["EdDSA"], ISS, AUD, leeway_s=0)
    now = int(time.time())
    long_lived = jwt.encode(_claims(exp=now + 3600), keys["EdDSA"], algorithm="EdDSA")
    for _ in range(2):
        assert _reason(verifier, long_lived)[0] == "lifetime_too_long"
    assert long_lived not in verifier._verified
    no_iat = jwt.encode(_claims(iat=None, exp=now + 120), keys["EdDSA"], algorithm="EdDSA")
    first = verifier.verify(no_iat)
    assert verifier.verify(no_iat) is first
    monkeypatch.setattr(time, "time", lambda: now + 121)
    assert _reason(verifier, no_iat)[0] == "expired"


def test_minter_takes_its_algorithm_from_the_key(keys, pem_files):
    """`signer demo --jwt-private-key` with an ES256 or RS256 key (issue 13 item 10): no algorithm named."""
    for alg, key in keys.items():
        token = TokenMinter(_priv_pem(key), ISS, AUD).mint()
        assert jwt.get_unverified_header(token)["alg"] == alg
        assert TokenVerifier(pem_files[alg], ISS, AUD).verify(token).issuer == ISS
    k1 = TokenMinter(_priv_pem(ec.generate_private_key(ec.SECP256K1())), ISS, AUD).mint()
    assert jwt.get_unverified_header(k1)["alg"] == "ES256K"
    with pytest.raises(TokenConfigError, match="curve secp224r1 fits no JWT algorithm"):
        TokenMinter(_priv_pem(ec.generate_private_key(ec.SECP224R1())), ISS, AUD)
    with pytest.raises(TokenConfigError, match=r"\(RSA 2048\) does not fit algorithm EdDSA"):
        TokenMinter(_priv_pem(keys["RS256"]), ISS, AUD, "EdDSA")
