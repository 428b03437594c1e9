from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Protocol(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTOCOL_UNSPECIFIED: _ClassVar[Protocol]
    PROTOCOL_GG20: _ClassVar[Protocol]
    PROTOCOL_FROST: _ClassVar[Protocol]

class Curve(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CURVE_UNSPECIFIED: _ClassVar[Curve]
    CURVE_SECP256K1: _ClassVar[Curve]
    CURVE_ED25519: _ClassVar[Curve]

class SessionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATE_UNSPECIFIED: _ClassVar[SessionState]
    SESSION_STATE_RUNNING: _ClassVar[SessionState]
    SESSION_STATE_COMPLETED: _ClassVar[SessionState]
    SESSION_STATE_FAILED: _ClassVar[SessionState]
    SESSION_STATE_TIMED_OUT: _ClassVar[SessionState]
    SESSION_STATE_CANCELLED: _ClassVar[SessionState]

class IdentityScheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_SCHEME_UNSPECIFIED: _ClassVar[IdentityScheme]
    IDENTITY_SCHEME_ED25519: _ClassVar[IdentityScheme]
    IDENTITY_SCHEME_ECDSA_P256_SHA256: _ClassVar[IdentityScheme]

class KeyOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_OPERATION_CREATE: _ClassVar[KeyOperation]
    KEY_OPERATION_REFRESH: _ClassVar[KeyOperation]
    KEY_OPERATION_RESHARE: _ClassVar[KeyOperation]
PROTOCOL_UNSPECIFIED: Protocol
PROTOCOL_GG20: Protocol
PROTOCOL_FROST: Protocol
CURVE_UNSPECIFIED: Curve
CURVE_SECP256K1: Curve
CURVE_ED25519: Curve
SESSION_STATE_UNSPECIFIED: SessionState
SESSION_STATE_RUNNING: SessionState
SESSION_STATE_COMPLETED: SessionState
SESSION_STATE_FAILED: SessionState
SESSION_STATE_TIMED_OUT: SessionState
SESSION_STATE_CANCELLED: SessionState
IDENTITY_SCHEME_UNSPECIFIED: IdentityScheme
IDENTITY_SCHEME_ED25519: IdentityScheme
IDENTITY_SCHEME_ECDSA_P256_SHA256: IdentityScheme
KEY_OPERATION_CREATE: KeyOperation
KEY_OPERATION_REFRESH: KeyOperation
KEY_OPERATION_RESHARE: KeyOperation

class ProtocolMessage(_message.Message):
    __slots__ = ("session_id", "from_party", "to_party", "round", "sequence", "payload", "mac", "party_signature")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_PARTY_FIELD_NUMBER: _ClassVar[int]
    TO_PARTY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    PARTY_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    from_party: int
    to_party: int
    round: int
    sequence: int
    payload: bytes
    mac: bytes
    party_signature: bytes
    def __init__(self, session_id: _Optional[str] = ..., from_party: _Optional[int] = ..., to_party: _Optional[int] = ..., round: _Optional[int] = ..., sequence: _Optional[int] = ..., payload: _Optional[bytes] = ..., mac: _Optional[bytes] = ..., party_signature: _Optional[bytes] = ...) -> None: ...

class PartyIdentity(_message.Message):
    __slots__ = ("party", "scheme", "public_key", "certificate")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    party: int
    scheme: IdentityScheme
    public_key: bytes
    certificate: str
    def __init__(self, party: _Optional[int] = ..., scheme: _Optional[_Union[IdentityScheme, str]] = ..., public_key: _Optional[bytes] = ..., certificate: _Optional[str] = ...) -> None: ...

class PartyApproval(_message.Message):
    __slots__ = ("party", "signature")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    party: int
    signature: bytes
    def __init__(self, party: _Optional[int] = ..., signature: _Optional[bytes] = ...) -> None: ...

class StartDKGRequest(_message.Message):
    __slots__ = ("session_id", "key_id", "protocol", "curve", "threshold", "total_parties", "party_index", "party_identities", "operation", "old_parties")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CURVE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PARTIES_FIELD_NUMBER: _ClassVar[int]
    PARTY_INDEX_FIELD_NUMBER: _ClassVar[int]
    PARTY_IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    OLD_PARTIES_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    key_id: str
    protocol: Protocol
    curve: Curve
    threshold: int
    total_parties: int
    party_index: int
    party_identities: _containers.RepeatedCompositeFieldContainer[PartyIdentity]
    operation: KeyOperation
    old_parties: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, session_id: _Optional[str] = ..., key_id: _Optional[str] = ..., protocol: _Optional[_Union[Protocol, str]] = ..., curve: _Optional[_Union[Curve, str]] = ..., threshold: _Optional[int] = ..., total_parties: _Optional[int] = ..., party_index: _Optional[int] = ..., party_identities: _Optional[_Iterable[_Union[PartyIdentity, _Mapping]]] = ..., operation: _Optional[_Union[KeyOperation, str]] = ..., old_parties: _Optional[_Iterable[int]] = ...) -> None: ...

class StartDKGResponse(_message.Message):
    __slots__ = ("session_id", "state", "outbound")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    state: SessionState
    outbound: _containers.RepeatedCompositeFieldContainer[ProtocolMessage]
    def __init__(self, session_id: _Optional[str] = ..., state: _Optional[_Union[SessionState, str]] = ..., outbound: _Optional[_Iterable[_Union[ProtocolMessage, _Mapping]]] = ...) -> None: ...

class GetDKGStatusRequest(_message.Message):
    __slots__ = ("session_id", "wait_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    wait_ms: int
    def __init__(self, session_id: _Optional[str] = ..., wait_ms: _Optional[int] = ...) -> None: ...

class DKGStatusResponse(_message.Message):
    __slots__ = ("session_id", "state", "round", "key_id", "public_key", "outbound", "error", "culprits", "key_version")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CULPRITS_FIELD_NUMBER: _ClassVar[int]
    KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    state: SessionState
    round: int
    key_id: str
    public_key: bytes
    outbound: _containers.RepeatedCompositeFieldContainer[ProtocolMessage]
    error: str
    culprits: _containers.RepeatedScalarFieldContainer[int]
    key_version: int
    def __init__(self, session_id: _Optional[str] = ..., state: _Optional[_Union[SessionState, str]] = ..., round: _Optional[int] = ..., key_id: _Optional[str] = ..., public_key: _Optional[bytes] = ..., outbound: _Optional[_Iterable[_Union[ProtocolMessage, _Mapping]]] = ..., error: _Optional[str] = ..., culprits: _Optional[_Iterable[int]] = ..., key_version: _Optional[int] = ...) -> None: ...

class StartSignRequest(_message.Message):
    __slots__ = ("session_id", "key_id", "message", "signers", "derivation_path", "presign", "presignature_id", "taproot", "taproot_merkle_root", "approvals")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SIGNERS_FIELD_NUMBER: _ClassVar[int]
    DERIVATION_PATH_FIELD_NUMBER: _ClassVar[int]
    PRESIGN_FIELD_NUMBER: _ClassVar[int]
    PRESIGNATURE_ID_FIELD_NUMBER: _ClassVar[int]
    TAPROOT_FIELD_NUMBER: _ClassVar[int]
    TAPROOT_MERKLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    key_id: str
    message: bytes
    signers: _containers.RepeatedScalarFieldContainer[int]
    derivation_path: _containers.RepeatedScalarFieldContainer[int]
    presign: bool
    presignature_id: str
    taproot: bool
    taproot_merkle_root: bytes
    approvals: _containers.RepeatedCompositeFieldContainer[PartyApproval]
    def __init__(self, session_id: _Optional[str] = ..., key_id: _Optional[str] = ..., message: _Optional[bytes] = ..., signers: _Optional[_Iterable[int]] = ..., derivation_path: _Optional[_Iterable[int]] = ..., presign: _Optional[bool] = ..., presignature_id: _Optional[str] = ..., taproot: _Optional[bool] = ..., taproot_merkle_root: _Optional[bytes] = ..., approvals: _Optional[_Iterable[_Union[PartyApproval, _Mapping]]] = ...) -> None: ...

class StartSignResponse(_message.Message):
    __slots__ = ("session_id", "state", "outbound")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    state: SessionState
    outbound: _containers.RepeatedCompositeFieldContainer[ProtocolMessage]
    def __init__(self, session_id: _Optional[str] = ..., state: _Optional[_Union[SessionState, str]] = ..., outbound: _Optional[_Iterable[_Union[ProtocolMessage, _Mapping]]] = ...) -> None: ...

class GetSignStatusRequest(_message.Message):
    __slots__ = ("session_id", "wait_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    wait_ms: int
    def __init__(self, session_id: _Optional[str] = ..., wait_ms: _Optional[int] = ...) -> None: ...

class SignStatusResponse(_message.Message):
    __slots__ = ("session_id", "state", "round", "signature", "recovery_id", "public_key", "outbound", "error", "culprits", "output_key")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CULPRITS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    state: SessionState
    round: int
    signature: bytes
    recovery_id: int
    public_key: bytes
    outbound: _containers.RepeatedCompositeFieldContainer[ProtocolMessage]
    error: str
    culprits: _containers.RepeatedScalarFieldContainer[int]
    output_key: bytes
    def __init__(self, session_id: _Optional[str] = ..., state: _Optional[_Union[SessionState, str]] = ..., round: _Optional[int] = ..., signature: _Optional[bytes] = ..., recovery_id: _Optional[int] = ..., public_key: _Optional[bytes] = ..., outbound: _Optional[_Iterable[_Union[ProtocolMessage, _Mapping]]] = ..., error: _Optional[str] = ..., culprits: _Optional[_Iterable[int]] = ..., output_key: _Optional[bytes] = ...) -> None: ...

class ProtocolMessageRequest(_message.Message):
    __slots__ = ("message", "messages")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    message: ProtocolMessage
    messages: _containers.RepeatedCompositeFieldContainer[ProtocolMessage]
    def __init__(self, message: _Optional[_Union[ProtocolMessage, _Mapping]] = ..., messages: _Optional[_Iterable[_Union[ProtocolMessage, _Mapping]]] = ...) -> None: ...

class MessageOutcome(_message.Message):
    __slots__ = ("index", "session_id", "code", "status_message", "accepted", "state", "outbound", "public_key", "signature", "recovery_id", "error", "culprits", "output_key")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CULPRITS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    index: int
    session_id: str
    code: int
    status_message: str
    accepted: bool
    state: SessionState
    outbound: _containers.RepeatedCompositeFieldContainer[ProtocolMessage]
    public_key: bytes
    signature: bytes
    recovery_id: int
    error: str
    culprits: _containers.RepeatedScalarFieldContainer[int]
    output_key: bytes
    def __init__(self, index: _Optional[int] = ..., session_id: _Optional[str] = ..., code: _Optional[int] = ..., status_message: _Optional[str] = ..., accepted: _Optional[bool] = ..., state: _Optional[_Union[SessionState, str]] = ..., outbound: _Optional[_Iterable[_Union[ProtocolMessage, _Mapping]]] = ..., public_key: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., recovery_id: _Optional[int] = ..., error: _Optional[str] = ..., culprits: _Optional[_Iterable[int]] = ..., output_key: _Optional[bytes] = ...) -> None: ...

class ProtocolMessageResponse(_message.Message):
    __slots__ = ("accepted", "state", "outbound", "public_key", "signature", "recovery_id", "error", "culprits", "output_key", "results")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CULPRITS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KEY_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    state: SessionState
    outbound: _containers.RepeatedCompositeFieldContainer[ProtocolMessage]
    public_key: bytes
    signature: bytes
    recovery_id: int
    error: str
    culprits: _containers.RepeatedScalarFieldContainer[int]
    output_key: bytes
    results: _containers.RepeatedCompositeFieldContainer[MessageOutcome]
    def __init__(self, accepted: _Optional[bool] = ..., state: _Optional[_Union[SessionState, str]] = ..., outbound: _Optional[_Iterable[_Union[ProtocolMessage, _Mapping]]] = ..., public_key: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., recovery_id: _Optional[int] = ..., error: _Optional[str] = ..., culprits: _Optional[_Iterable[int]] = ..., output_key: _Optional[bytes] = ..., results: _Optional[_Iterable[_Union[MessageOutcome, _Mapping]]] = ...) -> None: ...

class PingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PongResponse(_message.Message):
    __slots__ = ("node_id", "version", "timestamp_ms", "identity_public_key", "identity_scheme")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_SCHEME_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    version: str
    timestamp_ms: int
    identity_public_key: bytes
    identity_scheme: IdentityScheme
    def __init__(self, node_id: _Optional[str] = ..., version: _Optional[str] = ..., timestamp_ms: _Optional[int] = ..., identity_public_key: _Optional[bytes] = ..., identity_scheme: _Optional[_Union[IdentityScheme, str]] = ...) -> None: ...
