"""Node configuration: one table of keys, read from YAML, overridden by MPC_* variables, then by CLI flags.

Precedence is file < environment < command line (docs/contract.md §8). Every key is declared once in `KEYS` with
its YAML path, environment name, type and default; validation runs at start-up and a bad value is a
`ConfigError` whose one-line message names the key, which the CLI prints before exiting with code 2.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from signer import limits
from signer.session_context import APPROVAL_POLICIES, APPROVE_ALL_OTHER_SIGNERS


class ConfigError(Exception):
    """A bad configuration value; str() is one line that names the key."""


@dataclass(frozen=True)
class Key:
    path: str  # dotted YAML path
    env: str  # environment variable
    kind: str  # str | int | float | bool | list | path | choice | listen
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None


KEYS: tuple[Key, ...] = (
    Key("node.id", "MPC_NODE_ID", "str", "server-signer-p2", "this node's identifier (Ping, logs, key binding)"),
    Key("node.type", "MPC_NODE_TYPE", "choice", "signer", "node role; only 'signer' is valid here", ("signer",)),
    Key("node.data_dir", "MPC_DATA_DIR", "path", "./data", "directory for the SQLite store and dev KEK/HMAC key"),
    Key("grpc.listen", "MPC_GRPC_LISTEN", "listen", "0.0.0.0:9091", "gRPC listen address HOST:PORT"),
    Key("grpc.tls_enabled", "MPC_GRPC_TLS_ENABLED", "bool", False, "serve gRPC over (m)TLS"),
    Key("grpc.cert_file", "MPC_GRPC_CERT_FILE", "path", "", "server certificate (PEM), required with TLS"),
    Key("grpc.key_file", "MPC_GRPC_KEY_FILE", "path", "", "server private key (PEM), required with TLS"),
    Key("grpc.ca_cert", "MPC_GRPC_CA_CERT", "path", "", "CA that signs client certificates (mTLS)"),
    Key(
        "grpc.client_auth",
        "MPC_GRPC_CLIENT_AUTH",
        "choice",
        "require",
        "'require': clients need a certificate from grpc.ca_cert",
        ("require", "none"),
    ),
    # Connection limits (signer/transport/guard.py explains each and how it is enforced).
    Key(
        "grpc.max_message_bytes",
        "MPC_GRPC_MAX_MESSAGE_BYTES",
        "int",
        2 << 20,
        "largest request message; larger ones get RESOURCE_EXHAUSTED before they are read",
        minimum=4096,
    ),
    Key(
        "grpc.max_connection_buffered_bytes",
        "MPC_GRPC_MAX_CONNECTION_BUFFERED_BYTES",
        "int",
        16 << 20,
        "request bytes one connection's unfinished calls may hold",
        minimum=4096,
    ),
    Key(
        "grpc.max_buffered_bytes",
        "MPC_GRPC_MAX_BUFFERED_BYTES",
        "int",
        64 << 20,
        "request bytes all unfinished calls together may hold",
        minimum=4096,
    ),
    Key(
        "grpc.max_concurrent_streams",
        "MPC_GRPC_MAX_CONCURRENT_STREAMS",
        "int",
        100,
        "open calls per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)",
        minimum=1,
    ),
    Key(
        "grpc.max_resets_per_s",
        "MPC_GRPC_MAX_RESETS_PER_S",
        "float",
        100.0,
        "calls a client may cancel per second before its connection is closed (rapid reset)",
        minimum=1,
    ),
    Key("grpc.max_connections", "MPC_GRPC_MAX_CONNECTIONS", "int", 256, "open client connections", minimum=1),
    Key(
        "grpc.idle_timeout_s",
        "MPC_GRPC_IDLE_TIMEOUT_S",
        "float",
        300.0,
        "a connection with no call open this long is closed",
        minimum=0.1,
    ),
    Key(
        "grpc.tls_handshake_timeout_s",
        "MPC_GRPC_TLS_HANDSHAKE_TIMEOUT_S",
        "float",
        10.0,
        "a TLS handshake not done within this time is closed (such connections are not yet counted)",
        minimum=0.1,
    ),
    Key(
        "grpc.request_timeout_s",
        "MPC_GRPC_REQUEST_TIMEOUT_S",
        "float",
        30.0,
        "a call's request (headers and body) must arrive within this time (DEADLINE_EXCEEDED)",
        minimum=0.1,
    ),
    Key("auth.jwt.issuer", "MPC_JWT_ISSUER", "str", "mpc-service", "required `iss` of service tokens"),
    Key("auth.jwt.audience", "MPC_JWT_AUDIENCE", "str", "mpc-signer", "required `aud` of service tokens"),
    Key(
        "auth.jwt.public_key_file",
        "MPC_JWT_PUBLIC_KEY_FILE",
        "path",
        "",
        "PEM public key or JWKS (.json) verifying service tokens; empty = tokens not checked (development)",
    ),
    Key(
        "auth.jwt.algorithms",
        "MPC_JWT_ALGORITHMS",
        "list",
        ["EdDSA", "ES256", "RS256"],
        "allowed JWT algorithms (never 'none', never HS* with a public key)",
    ),
    Key("auth.jwt.leeway_s", "MPC_JWT_LEEWAY_S", "float", 30.0, "clock leeway for exp/nbf/iat", minimum=0),
    Key(
        "auth.jwt.max_lifetime_s",
        "MPC_JWT_MAX_LIFETIME_S",
        "float",
        300.0,
        "longest accepted token lifetime, exp - iat (without iat: exp - now)",
        minimum=1,
    ),
    Key(
        "auth.hmac.key_file",
        "MPC_HMAC_KEY_FILE",
        "path",
        "",
        "shared HMAC key for protocol messages (64 hex chars); default <data_dir>/hmac.hex, created if missing",
    ),
    Key(
        "auth.approvals",
        "MPC_AUTH_APPROVALS",
        "choice",
        APPROVE_ALL_OTHER_SIGNERS,
        "approvals a signing needs: every other signer's (all-other-signers) or none (server-to-server only)",
        APPROVAL_POLICIES,
    ),
    Key(
        "auth.device_authority",
        "MPC_AUTH_DEVICE_AUTHORITY",
        "path",
        "",
        "PEM key or JWKS of the device authority; set: non-node identities in StartDKG need its certificate",
    ),
    Key(
        "storage.url",
        "MPC_STORAGE_URL",
        "str",
        "",
        "sqlite:///PATH or postgresql://...; default sqlite:///<data_dir>/signer.db",
    ),
    Key("storage.kek_file", "MPC_KEK_FILE", "path", "", "key-encryption key file; default <data_dir>/kek.hex"),
    Key(
        "storage.connect_timeout_s",
        "MPC_STORAGE_CONNECT_TIMEOUT_S",
        "float",
        60.0,
        "at start-up, how long to wait for an unreachable database (PostgreSQL) before exiting",
        minimum=0,
    ),
    Key(
        "storage.probe_interval_s",
        "MPC_STORAGE_PROBE_INTERVAL_S",
        "float",
        5.0,
        "how often the running node checks that its database answers (within the same time); gRPC health is "
        "NOT_SERVING while it does not",
        minimum=0.1,
    ),
    Key(
        "session.round_timeout_s",
        "MPC_SESSION_ROUND_TIMEOUT_S",
        "float",
        30.0,
        "deadline per protocol round",
        minimum=0.001,
    ),
    Key(
        "session.max_sessions",
        "MPC_SESSION_MAX_SESSIONS",
        "int",
        1000,
        "concurrent sessions before RESOURCE_EXHAUSTED",
        minimum=1,
    ),
    Key(
        "session.retention_s",
        "MPC_SESSION_RETENTION_S",
        "float",
        600.0,
        "how long finished sessions answer status calls",
        minimum=0,
    ),
    Key(
        "session.max_message_bytes",
        "MPC_SESSION_MAX_MESSAGE_BYTES",
        "int",
        limits.DEFAULT_MAX_MESSAGE_BYTES,
        "largest accepted payload",
        minimum=limits.MIN_MAX_MESSAGE_BYTES,
    ),
    Key(
        "session.grace_period_s",
        "MPC_SESSION_GRACE_PERIOD_S",
        "float",
        20.0,
        "on SIGTERM, time running sessions get to finish",
        minimum=0,
    ),
    Key("pools.preparams_size", "MPC_POOLS_PREPARAMS_SIZE", "int", 2, "GG20 pre-parameter sets kept ready", minimum=0),
    Key(
        "pools.precompute_presignings",
        "MPC_POOLS_PRECOMPUTE_PRESIGNINGS",
        "int",
        2,
        "GG20 presignings' worth of precomputed nonces and masks kept in memory per recent key; 0 = off",
        minimum=0,
    ),
    Key(
        "pools.presignature_ttl_s",
        "MPC_POOLS_PRESIGNATURE_TTL_S",
        "float",
        86400.0,
        "a stored GG20 presignature older than this is refused (never used)",
        minimum=1,
    ),
    Key("log.level", "MPC_LOG_LEVEL", "choice", "info", "log level", ("debug", "info", "warning", "error")),
    Key(
        "log.format", "MPC_LOG_FORMAT", "choice", "text", "'text' for people, 'json' for log shippers", ("text", "json")
    ),
    Key("metrics.listen", "MPC_METRICS_LISTEN", "str", "", "Prometheus metrics HOST:PORT; empty = off"),
    Key(
        "healthcheck.client_cert",
        "MPC_HEALTHCHECK_CLIENT_CERT",
        "path",
        "",
        "client certificate `signer healthcheck` presents to an mTLS node (container HEALTHCHECK); node ignores it",
    ),
    Key("healthcheck.client_key", "MPC_HEALTHCHECK_CLIENT_KEY", "path", "", "private key of healthcheck.client_cert"),
    # Accepted for compatibility with the original deployment's environment (seed README); unused by the node.
    Key("service.endpoint", "MPC_SERVICE_ENDPOINT", "str", "", "mpc-service address (informational)"),
    Key("consul.address", "MPC_CONSUL_ADDRESS", "str", "", "Consul agent address (informational)"),
    Key("redis.endpoint", "MPC_REDIS_ENDPOINT", "str", "", "Redis address (informational)"),
)

KEYS_BY_PATH: dict[str, Key] = {k.path: k for k in KEYS}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


#: `MPC_*` variables of the project's own test suite and benchmarks; not the node's, but not typos either.
TOOLING_ENV_PREFIXES = ("MPC_TEST_", "MPC_BENCH_", "MPC_REQUIRE_POSTGRES")


def unknown_env_warnings(env: Mapping[str, str]) -> list[str]:
    """One warning per `MPC_*` variable that is no configuration key: a misspelt name is otherwise ignored
    silently and the node runs with the default (docs/contract.md §8: the compatibility names are keys, so
    accepted)."""
    known = {k.env for k in KEYS}
    warnings = []
    for name in sorted(env):
        if name.startswith("MPC_") and name not in known and not name.startswith(TOOLING_ENV_PREFIXES):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            warnings.append(f"environment variable {name} is not a configuration key and is ignored{hint}")
    return warnings


def parse_listen(value: str) -> tuple[str, int]:
    """Split HOST:PORT (IPv6 as [::1]:9091); raise ValueError when it is not one."""
    host, sep, port_s = value.rpartition(":")
    if not sep or not host or not port_s.isdigit():
        raise ValueError("expected HOST:PORT")
    port = int(port_s)
    if not 0 <= port <= 65535:
        raise ValueError("port out of range 0..65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)
    return host, port


def _convert(key: Key, raw: Any) -> Any:
    """Turn a YAML/env/flag value into the key's type, or raise ValueError with the reason."""
    if key.kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise ValueError("expected true or false")
    if key.kind in ("int", "float"):
        if isinstance(raw, bool):
            raise ValueError(f"expected a number, got {raw!r}")
        try:
            value: float = int(raw) if key.kind == "int" else float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"expected {'an integer' if key.kind == 'int' else 'a number'}") from None
        if key.minimum is not None and value < key.minimum:
            raise ValueError(f"must be at least {key.minimum:g}")
        return value
    if key.kind == "list":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError("expected a list of strings")
        cleaned = [i.strip() for i in items if i.strip()]
        if not cleaned:
            raise ValueError("must not be empty")
        return cleaned
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ValueError("expected a string")
    text = str(raw)
    if key.kind == "choice" and text not in key.choices:
        raise ValueError(f"expected one of {', '.join(key.choices)}")
    if key.kind == "listen":
        parse_listen(text)
    return text


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in tree.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's keys, flattened to dotted paths; unknown keys are errors (a typo must not pass silently)."""
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"--config: cannot read {path}: {exc.strerror}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"--config: {where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config: {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(tree, Mapping):
        raise ConfigError(f"--config: {path} must hold a mapping of keys")
    flat = _flatten(tree)
    for path_key in flat:
        if path_key not in KEYS_BY_PATH:
            raise ConfigError(f"{path_key}: unknown configuration key")
    return flat


@dataclass(frozen=True)
class Config:
    """The validated configuration; `values` maps every dotted key to its typed value."""

    values: Mapping[str, Any]

    def __getitem__(self, path: str) -> Any:
        return self.values[path]

    @property
    def data_dir(self) -> Path:
        return Path(self["node.data_dir"])

    @property
    def storage_url(self) -> str:
        return self["storage.url"] or f"sqlite:///{(self.data_dir / 'signer.db').as_posix()}"

    @property
    def kek_file(self) -> Path:
        return Path(self["storage.kek_file"] or self.data_dir / "kek.hex")

    @property
    def hmac_key_file(self) -> Path:
        return Path(self["auth.hmac.key_file"] or self.data_dir / "hmac.hex")

    @property
    def listen(self) -> tuple[str, int]:
        return parse_listen(self["grpc.listen"])


def load_config(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Merge defaults < file < env < flags, convert and validate; raise ConfigError naming the key."""
    env = os.environ if env is None else env
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if file is not None:
        layers.append(("file", read_yaml(file)))
    layers.append(("env", {k.path: env[k.env] for k in KEYS if k.env in env}))
    layers.append(("flag", dict(flags or {})))
    values: dict[str, Any] = {k.path: k.default for k in KEYS}
    for source, layer in layers:
        for path, raw in layer.items():
            key = KEYS_BY_PATH.get(path)
            if key is None:
                raise ConfigError(f"{path}: unknown configuration key")
            name = key.env if source == "env" else path
            try:
                values[path] = _convert(key, raw)
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc} (got {raw!r})") from None
    _validate_together(values)
    return Config(values)


def _require(values: Mapping[str, Any], path: str, why: str) -> None:
    if not values[path]:
        raise ConfigError(f"{path}: required when {why}")


def _validate_together(values: Mapping[str, Any]) -> None:
    """Checks that involve more than one key, or the file system."""
    if values["grpc.tls_enabled"]:
        _require(values, "grpc.cert_file", "grpc.tls_enabled is true")
        _require(values, "grpc.key_file", "grpc.tls_enabled is true")
        if values["grpc.client_auth"] == "require":
            _require(values, "grpc.ca_cert", "grpc.client_auth is require")
        for path in ("grpc.cert_file", "grpc.key_file", "grpc.ca_cert"):
            _must_exist(values, path)
    _must_exist(values, "auth.jwt.public_key_file")
    algorithms = values["auth.jwt.algorithms"]
    bad = [a for a in algorithms if a.lower() == "none" or a.upper().startswith("HS")]
    if bad:
        raise ConfigError(f"auth.jwt.algorithms: {bad[0]} is not allowed (no 'none', no HMAC with a public key)")
    url = values["storage.url"]
    if url and not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError("storage.url: expected sqlite:///PATH or postgresql://...")
    if values["metrics.listen"]:
        try:
            parse_listen(values["metrics.listen"])
        except ValueError as exc:
            raise ConfigError(f"metrics.listen: {exc}") from None


def _must_exist(values: Mapping[str, Any], path: str) -> None:
    if values[path] and not Path(values[path]).is_file():
        raise ConfigError(f"{path}: file not found: {values[path]}")
