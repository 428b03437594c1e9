"""The client library for the teams that build on the node: what mpc-service (the relay) and a wallet app
(P1) need, in plain asyncio.

    from signer.client import Coordinator, NodeClient, new_session_id

- `NodeClient`: one node over gRPC (mTLS, service tokens, message MACs), every call retried on transient
  failures (see `signer.client.coordinator` for the retry and idempotency rules).
- `Coordinator`: runs a DKG, signing or presigning, or a key refresh or reshare (contract §12), across
  nodes and local parties (contract §6.1) and returns an `Outcome` (`.ok`, `.error`, `.culprits`; results
  through accessors that raise `SessionFailed` on a failed outcome; `.key_version` after a DKG, refresh or
  reshare).
- `LocalParty`: a party run in this process from relayed messages (P1); the protocol sessions it drives
  come from `signer.protocols` (imported by the caller, so a pure relay never loads protocol math).
- `WireMessage`, `seal`, `unseal`, `MessageAuthenticator`: the relayed message and its MAC (contract §3),
  for relays that move messages themselves.
- `client_ssl_context`, `load_hex_key`, `TokenMinter`: credentials; `verify_*`: independent signature checks.
- `IdentityKey`: a local party's identity key (docs/contract.md §11), given to `Coordinator(identities=)`;
  `KeyParties`: what a coordinator remembers of a key made by an earlier run (`remember_key`).
- Trio programs: `signer.client.in_trio` wraps the same objects (trio-asyncio).

Importing this package loads neither the node's store nor its metrics nor protocol arithmetic
(tests/client/test_imports.py checks it).
"""

from signer.auth.jwt import TokenMinter
from signer.auth.keyfiles import load_hex_key
from signer.auth.mac import MacError, MessageAuthenticator
from signer.auth.tls import client_ssl_context
from signer.client.coordinator import (
    Coordinator,
    KeyParties,
    NodeClient,
    NodeView,
    Outcome,
    RelayError,
    SessionFailed,
    new_session_id,
)
from signer.client.party import LocalParty
from signer.client.verify import verify_ecdsa, verify_ed25519, verify_signature
from signer.crypto.identity import IdentityKey
from signer.wire import ProtocolMessage as WireMessage
from signer.wire import seal, unseal

__all__ = [
    "Coordinator",
    "IdentityKey",
    "KeyParties",
    "LocalParty",
    "MacError",
    "MessageAuthenticator",
    "NodeClient",
    "NodeView",
    "Outcome",
    "RelayError",
    "SessionFailed",
    "TokenMinter",
    "WireMessage",
    "client_ssl_context",
    "load_hex_key",
    "new_session_id",
    "seal",
    "unseal",
    "verify_ecdsa",
    "verify_ed25519",
    "verify_signature",
]
