"""The generated message classes' cheaper field defaults (signer.wire.skip_default_warnings): installed on
every class of gen.mpc.v1 once the node's or the coordinator's code is loaded, and the bytes are still what
protobuf (the grpcio stubs, an independent implementation) makes and reads."""

from __future__ import annotations

from pathlib import Path

import betterproto2

import gen.mpc.v1 as pb
import signer.client.coordinator  # noqa: F401  (installs it on the coordinator's side too)
import signer.transport.convert  # noqa: F401  (installs it)
from signer.wire import _field_default

# Every message class the generator wrote.
GENERATED = Path(pb.__file__).read_text().count("(betterproto2.Message):")


def test_every_generated_message_class_has_the_fast_default():
    classes = [c for c in vars(pb).values() if isinstance(c, type) and issubclass(c, betterproto2.Message)]
    assert len(classes) == GENERATED and all(c._get_field_default is _field_default for c in classes)


def test_bytes_match_protobuf_both_ways(grpcio_stubs):
    signer_pb2, _ = grpcio_stubs
    ours = pb.ProtocolMessageRequest(
        messages=[
            pb.ProtocolMessage(session_id="s-1", from_party=1, to_party=0, round=2, payload=b"\x00\x01", mac=b"m"),
            pb.ProtocolMessage(session_id="s-2", from_party=2, to_party=1, round=0, payload=b""),
        ]
    )
    theirs = signer_pb2.ProtocolMessageRequest.FromString(bytes(ours))
    assert [(m.session_id, m.from_party, m.to_party, m.round) for m in theirs.messages] == [
        ("s-1", 1, 0, 2),
        ("s-2", 2, 1, 0),
    ]
    assert theirs.SerializeToString(deterministic=True) == bytes(ours)
    assert pb.ProtocolMessageRequest.parse(theirs.SerializeToString()) == ours
    assert bytes(pb.ProtocolMessageRequest()) == b""  # every field at its default: nothing on the wire
    empty = pb.ProtocolMessageRequest()
    empty._get_field_default("messages").append(pb.ProtocolMessage())  # a default is a fresh object ...
    assert empty._get_field_default("messages") == []  # ... so mutating one changes no later default
