"""The scheme registry (signer.schemes) is the one list of protocol and curve names: the engine binds
exactly its schemes, the gRPC edge maps each name to a proto enum value, and the store and metrics take
their names from it."""

from __future__ import annotations

from gen.mpc.v1 import Curve, Protocol
from signer import metrics, schemes
from signer.engine import default_protocols
from signer.transport import convert


def test_the_engine_binds_exactly_the_registered_schemes() -> None:
    bindings = default_protocols()
    assert set(bindings) == {(s.protocol, s.curve) for s in schemes.SCHEMES}
    for s in schemes.SCHEMES:
        assert (bindings[(s.protocol, s.curve)].new_presign is not None) == s.presign
        assert schemes.default_curve(s.protocol) in schemes.curves_of(s.protocol)


def test_every_name_has_its_proto_enum_value_and_metric_labels() -> None:
    assert sorted(convert.PROTOCOLS.values()) == sorted(schemes.PROTOCOLS)
    assert sorted(convert.CURVES.values()) == sorted(schemes.CURVES)
    assert convert.protocol_name(Protocol.FROST) == "frost" and convert.curve_name(Curve.SECP256K1) == "secp256k1"
    assert metrics.PROTOCOLS == schemes.PROTOCOLS
    # Series exist up front for each protocol; presign ones only where the protocol presigns.
    labels = {tuple(s.labels.values()) for m in metrics.SESSIONS_STARTED.collect() for s in m.samples}
    for p in schemes.PROTOCOLS:
        assert (p, "dkg") in labels and ((p, "presign") in labels) == schemes.has_presign(p)
