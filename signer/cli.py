"""The `signer` command line (also `python -m signer`).

Every failure an operator can cause prints one line, `signer: error: ...`, and exits non-zero:
2 for usage and configuration errors, 1 for runtime failures. Tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grpclib.exceptions import GRPCError

from signer import __version__, limits, schemes
from signer.auth.keyfiles import KeyFileError
from signer.auth.tls import TlsConfigError
from signer.config import KEYS, KEYS_BY_PATH, Config, ConfigError, load_config, unknown_env_warnings
from signer.store.errors import StoreConfigError, StoreError, StoreInUse
from signer.store.records import AuditEntry, KeyInfo

EXIT_USAGE = 2


class CliError(Exception):
    """A one-line error for the operator; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _config_epilog() -> str:
    rows = [f"  {k.path:28} {k.env:34} {k.help}" for k in KEYS]
    return "configuration keys (YAML path, environment variable):\n" + "\n".join(rows)


def add_config_flags(p: argparse.ArgumentParser) -> None:
    """Flags shared by every command that reads the node's configuration."""
    p.add_argument("--config", type=Path, help="YAML configuration file (see config/signer.example.yaml)")
    p.add_argument("--listen", dest="grpc.listen", help="gRPC listen address HOST:PORT (grpc.listen)")
    p.add_argument("--node-id", dest="node.id", help="node identifier (node.id)")
    p.add_argument("--data-dir", dest="node.data_dir", help="data directory (node.data_dir)")
    p.add_argument("--storage-url", dest="storage.url", help="sqlite:///PATH or postgresql://... (storage.url)")
    p.add_argument("--log-level", dest="log.level", help="debug, info, warning or error (log.level)")
    p.add_argument("--log-format", dest="log.format", help="text or json (log.format)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set any configuration key, e.g. --set session.round_timeout_s=10 (repeatable)",
    )


def config_from_args(args: argparse.Namespace) -> Config:
    """Build the config with flag values over environment over file; warn about unknown MPC_* variables."""
    for warning in unknown_env_warnings(os.environ):
        print(f"signer: warning: {warning}", file=sys.stderr)
    flags: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item}: expected KEY=VALUE")
        if key not in KEYS_BY_PATH:
            raise ConfigError(f"{key}: unknown configuration key")
        flags[key] = value
    for path in KEYS_BY_PATH:
        value = getattr(args, path, None)
        if value is not None:
            flags[path] = value
    return load_config(args.config, flags=flags)


def cmd_serve(args: argparse.Namespace) -> int:
    import trio

    from signer.app import serve_forever
    from signer.logs import setup_logging

    config = config_from_args(args)
    setup_logging(config["log.level"], config["log.format"])
    try:
        trio.run(serve_forever, config)
    except (OSError, ConfigError, StoreError, BaseExceptionGroup) as exc:
        raise operator_error(exc, config) from None
    return 0


def operator_error(exc: BaseException, config: Config) -> BaseException:
    """The one-line error for a start-up failure the operator can fix; a bug is re-raised as it is."""
    cause = first_of(exc, (ConfigError, StoreError, OSError))
    if isinstance(cause, ConfigError):
        return cause
    if isinstance(cause, StoreConfigError):  # the operator's to fix (path, permissions): like a config error
        return CliError(f"storage: {cause}", EXIT_USAGE)
    if isinstance(cause, StoreError):
        return CliError(f"storage: {cause}")
    if isinstance(cause, OSError):
        return CliError(f"cannot serve on {config['grpc.listen']}: {cause.strerror or cause}")
    return exc


def first_of(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first exception of one of `kinds` inside `exc`, looking through Trio's exception groups."""
    if isinstance(exc, kinds):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = first_of(inner, kinds)
            if found is not None:
                return found
    return None


def cmd_version(args: argparse.Namespace) -> int:
    print(f"mpc-signer {__version__}")
    return 0


def cmd_certs_dev(args: argparse.Namespace) -> int:
    from signer.auth.devcerts import DevCertsError, make_dev_certs

    try:
        paths = make_dev_certs(
            args.dir, node_id=args.node_id, hosts=args.host or ("localhost", "127.0.0.1"), overwrite=args.force
        )
    except DevCertsError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"cannot write to {args.dir}: {exc.strerror or exc}") from None
    for path in paths.all():
        print(path)
    print("development credentials only: never use them in production", file=sys.stderr)
    return 0


def parse_reshare_to(value: str) -> tuple[int, int]:
    """`--reshare-to T-of-N` as (T, N), within the limits every threshold and party count has."""
    t, sep, n = value.partition("-of-")
    if not (sep and t.isdigit() and n.isdigit()):
        raise ConfigError(f"--reshare-to {value}: expected T-of-N, e.g. 2-of-3")
    try:
        parties = limits.check_party_count(int(n), "N")
        return limits.check_threshold(int(t), parties, "T"), parties
    except limits.LimitError as exc:
        raise ConfigError(f"--reshare-to {value}: {exc}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    import trio
    from grpclib.exceptions import StreamTerminatedError

    from signer.auth.jwt import TokenConfigError
    from signer.client.coordinator import RelayError
    from signer.client.demo import DemoError, DemoOptions, print_result, run_demo
    from signer.client.diagnose import connection_failure

    try:
        messages = [bytes.fromhex(m) for m in args.message] if args.message else None
    except ValueError:
        raise ConfigError("--message: expected hex") from None
    if args.count < 1:
        raise ConfigError("--count: must be at least 1")
    reshare_to = None if args.reshare_to is None else parse_reshare_to(args.reshare_to)
    options = DemoOptions(
        protocol=args.protocol,
        curve=args.curve,
        key_id=args.key_id,
        chain=args.chain,
        target=args.target,
        data_dir=args.data_dir,
        ca_cert=args.ca_cert,
        client_cert=args.client_cert,
        client_key=args.client_key,
        jwt_private_key=args.jwt_private_key,
        jwt_issuer=args.jwt_issuer,
        jwt_audience=args.jwt_audience,
        jwt_algorithm=args.jwt_algorithm,
        hmac_key_file=args.hmac_key_file,
        timeout_s=args.timeout,
        refresh=args.refresh,
        reshare_to=reshare_to,
    )
    if messages is not None:
        options.messages = messages
    options.messages = options.messages * args.count
    curve = args.curve or schemes.default_curve(args.protocol)
    if curve not in schemes.curves_of(args.protocol):
        raise ConfigError(
            f"--curve {curve}: --protocol {args.protocol} runs on {', '.join(schemes.curves_of(args.protocol))}"
        )
    if args.chain is not None:
        # the schemes whose signatures the chain takes: Solana Ed25519, Ethereum ECDSA, Bitcoin ECDSA or Taproot
        allowed = {
            "solana": [(schemes.FROST, schemes.ED25519)],
            "ethereum": [(schemes.GG20, schemes.SECP256K1)],
            "bitcoin": [(schemes.GG20, schemes.SECP256K1), (schemes.FROST, schemes.SECP256K1)],
        }[args.chain]
        if (args.protocol, curve) not in allowed:
            needs = " or ".join(f"--protocol {p} --curve {c}" for p, c in allowed)
            raise ConfigError(f"--chain {args.chain}: needs {needs}")
    from signer.logs import setup_logging

    setup_logging("warning")
    try:
        return trio.run(run_demo, options, print_result(args.json))
    except Exception as exc:  # one-line errors for every failure an operator can cause; bugs re-raised
        cause = first_of(
            exc,
            (
                DemoError,
                RelayError,
                ConfigError,
                trio.TooSlowError,
                OSError,
                StoreError,
                KeyFileError,
                TlsConfigError,
                TokenConfigError,
                GRPCError,
                StreamTerminatedError,
            ),
        )
        if cause is None:
            raise
        if isinstance(cause, ConfigError):
            raise cause from None
        if isinstance(cause, trio.TooSlowError):
            raise CliError(f"demo did not finish within {args.timeout:g}s") from None
        if isinstance(cause, GRPCError):
            raise CliError(f"node answered {cause.status.name}: {cause.message}") from None
        if isinstance(cause, OSError | StreamTerminatedError) and not isinstance(cause, FileNotFoundError):
            where = args.target or "the in-process node"
            tls, client_cert = args.ca_cert is not None, args.client_cert is not None
            raise CliError(connection_failure(cause, where, tls=tls, client_cert=client_cert) or str(cause)) from None
        if isinstance(cause, TokenConfigError):
            raise CliError(f"--jwt-private-key: {cause}") from None
        raise CliError(str(cause)) from None


def cmd_healthcheck(args: argparse.Namespace) -> int:
    from grpclib.exceptions import StreamTerminatedError

    from signer.auth.tls import client_ssl_context
    from signer.client.diagnose import connection_failure
    from signer.client.health import check_health
    from signer.config import parse_listen

    config = config_from_args(args)
    target = args.target or config["grpc.listen"].replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")
    try:
        host, port = parse_listen(target)
    except ValueError as exc:
        raise ConfigError(f"--target: {exc}") from None
    tls = bool(config["grpc.tls_enabled"] or args.ca_cert)
    client_cert = args.client_cert or config["healthcheck.client_cert"] or None
    client_key = args.client_key or config["healthcheck.client_key"] or None
    ctx = None
    if tls:
        if not client_cert and config["grpc.tls_enabled"] and config["grpc.client_auth"] == "require":
            raise ConfigError(
                "the node requires client certificates (grpc.client_auth: require): pass --client-cert and "
                "--client-key, or set healthcheck.client_cert and healthcheck.client_key"
            )
        try:
            ctx = client_ssl_context(
                args.ca_cert or config["grpc.ca_cert"], client_cert, client_key, server_name=args.server_name
            )
        except TlsConfigError as exc:
            raise ConfigError(f"--ca-cert: {exc}") from None
    try:
        status = check_health(host, port, ctx, args.timeout)
    except GRPCError as exc:
        raise CliError(f"{target} answered {exc.status.name}: {exc.message}") from None
    except (OSError, StreamTerminatedError) as exc:
        raise CliError(connection_failure(exc, target, tls=tls, client_cert=bool(client_cert)) or str(exc)) from None
    print(status)
    return 0 if status == "SERVING" else 1


def cmd_db(args: argparse.Namespace) -> int:
    from signer.store import commands

    config = config_from_args(args)
    print((commands.db_migrate if args.db_command == "migrate" else commands.db_status)(config.storage_url))
    return 0


def cmd_kek_rotate(args: argparse.Namespace) -> int:
    from signer.store import commands

    config = config_from_args(args)
    try:
        count = commands.kek_rotate(config.storage_url, config.kek_file, args.new, config["node.id"])
    except StoreInUse as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    print(f"re-wrapped {count} record(s) under {args.new}; now set storage.kek_file to it and restart the node")
    return 0


def cmd_key_delete(args: argparse.Namespace) -> int:
    from signer.store import commands

    if not args.yes:
        raise CliError("deleting a key share destroys this node's part of the wallet: add --yes to confirm", EXIT_USAGE)
    config = config_from_args(args)
    commands.key_delete(config.storage_url, config.kek_file, config["node.id"], args.key_id)
    print(f"deleted key {args.key_id}")
    return 0


def cmd_identity_show(args: argparse.Namespace) -> int:
    from signer.store import commands

    config = config_from_args(args)
    print(commands.identity_show(config.storage_url, config.kek_file, config["node.id"]))
    return 0


def key_record(info: KeyInfo) -> dict[str, Any]:
    """The public fields `signer key list` shows of one key (never a secret); one source for text and JSON."""
    return {
        "key_id": info.key_id,
        "protocol": info.protocol,
        "curve": info.curve,
        "threshold": info.threshold,
        "parties": info.parties,
        "party_index": info.party_index,
        "public_key": info.public_key.hex(),
        "key_version": info.key_version,
        "created_at": info.created_at.isoformat(),
        # When the last refresh or reshare was committed (empty: the key never changed version).
        "refreshed_at": info.updated_at.isoformat() if info.updated_at else "",
    }


def audit_record(entry: AuditEntry) -> dict[str, Any]:
    """The fields `signer audit show` prints of one audit row, in column order."""
    return {
        "at": entry.at.isoformat(),
        "node_id": entry.node_id,
        "operation": entry.operation,
        "key_id": entry.key_id,
        "result": entry.result,
        "client_identity": entry.client_identity,
        "message_digest": entry.message_digest.hex() if entry.message_digest else "",
        "evidence": None if entry.evidence is None else evidence_record(entry.evidence),
    }


def evidence_record(blob: bytes) -> dict[str, Any]:
    """A row's blame evidence decoded (docs/contract.md §11.8), with `encoded` (hex) for a verifier of its
    own; evidence that does not decode is shown as such, never a traceback."""
    from signer.blame import Evidence, EvidenceError

    try:
        described = Evidence.decode(blob).describe()
    except EvidenceError as exc:
        described = {"error": str(exc)}
    return {**described, "encoded": blob.hex()}


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    """`signer audit show`'s text form of decoded evidence: indented lines under its row."""
    import json

    if "error" in evidence:
        return [f"  evidence: does not decode: {evidence['error']}"]
    c = evidence["context"]
    signatures = "all valid" if evidence["signatures_valid"] else "NOT ALL VALID"
    lines = [
        f"  evidence v{evidence['version']}: reporter={evidence['reporter']} culprits={evidence['culprits']} "
        f"signatures={signatures} "
        f"reason={json.dumps(evidence['reason'])}",
        f"  context {c['hash']}: kind={c['kind']} session_id={c['session_id']} key_id={c['key_id']} "
        f"protocol={c['protocol']} curve={c['curve']} threshold={c['threshold']} signers={c['signers']}",
    ]
    lines += [f"  party {p['party']}: {p['scheme']} {p['public_key']} ({p['fingerprint']})" for p in c["parties"]]
    for i, m in enumerate(evidence["messages"], 1):
        verdict = "valid" if m["signature_valid"] else f"INVALID ({m['signature_error']})"
        lines += [
            f"  message {i} ({m['source']}): from={m['from_party']} to={m['to_party']} round={m['round']} "
            f"sequence={m['sequence']} signature={verdict}",
            f"    payload={m['payload']}",
            f"    party_signature={m['party_signature']}",
        ]
    lines += [
        f"  equivocation: party {p} signed two different messages for one slot" for p in evidence["equivocations"]
    ]
    return lines


def print_records(records: list[dict[str, Any]], as_json: bool) -> None:
    """One JSON object per line, or one `field=value` line per record (values with spaces quoted; an
    `evidence` field as indented lines below its record)."""
    import json

    for record in records:
        if as_json:
            print(json.dumps(record))
        else:
            print(
                " ".join(
                    f"{k}={json.dumps(v) if isinstance(v, str) and (not v or ' ' in v) else v}"
                    for k, v in record.items()
                    if k != "evidence"
                )
            )
            if record.get("evidence"):
                print("\n".join(evidence_lines(record["evidence"])))


def cmd_key_list(args: argparse.Namespace) -> int:
    from signer.store import commands

    config = config_from_args(args)
    print_records([key_record(info) for info in commands.key_list(config.storage_url)], args.json)
    return 0


def cmd_audit_show(args: argparse.Namespace) -> int:
    from signer.store import commands

    limits.check_as(ConfigError, limits.check_session_id, args.session_id, "SESSION_ID")
    config = config_from_args(args)
    entries = commands.audit_show(config.storage_url, args.session_id)
    if not entries:
        raise CliError(f"no audit rows for session {args.session_id!r}")
    print_records([audit_record(entry) for entry in entries], args.json)
    return 0


def command_group(sub: Any, name: str, help_text: str, description: str) -> Any:
    """A command that only groups subcommands (`signer db migrate`); returns its subparsers."""
    group = sub.add_parser(name, help=help_text, description=description)
    inner = group.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
    inner.required = True
    return inner


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signer",
        description=(
            "mpc-signer: the signing node of an MPC wallet "
            "(GG20 ECDSA, FROST over Ed25519 and secp256k1 with Taproot, over gRPC)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"mpc-signer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    serve = sub.add_parser(
        "serve",
        help="run the node",
        description="Run the node: gRPC on grpc.listen (default plaintext 0.0.0.0:9091), embedded SQLite store.",
        epilog=_config_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(serve)
    serve.set_defaults(func=cmd_serve)

    certs_sub = command_group(sub, "certs", "certificates and keys", "Certificates and keys.")
    dev = certs_sub.add_parser(
        "dev",
        help="write development CA, server/client certs, JWT key pair and HMAC key",
        description="Write a development CA (ca.crt/ca.key), server and client certificates, an Ed25519 JWT "
        "key pair and an HMAC key into DIR, every file mode 0600. For development and tests only.",
    )
    dev.add_argument("dir", type=Path, metavar="DIR", help="directory to write into (created if missing)")
    dev.add_argument("--node-id", default="server-signer-p2", help="server certificate CN (default %(default)s)")
    dev.add_argument(
        "--host",
        action="append",
        help="server certificate host name or IP (repeatable; default localhost and 127.0.0.1)",
    )
    dev.add_argument("--force", action="store_true", help="overwrite existing files")
    dev.set_defaults(func=cmd_certs_dev)

    demo = sub.add_parser(
        "demo",
        help="play mpc-service and P1 against a node: DKG, sign, verify (then refresh or reshare, sign again)",
        description="Play mpc-service and the wallet (P1) against a node: DKG (skipped when --key-id names an "
        "existing key), then sign, then verify every signature with an independent library. With --refresh or "
        "--reshare-to, change the key's shares next and sign again under the same public key. Without --target "
        "an in-process node is started with mTLS, service tokens and message MACs.",
    )
    demo.add_argument("--target", metavar="HOST:PORT", help="a running node (default: start one in-process)")
    demo.add_argument("--protocol", choices=schemes.PROTOCOLS, default=schemes.FROST, help="default %(default)s")
    demo.add_argument(
        "--curve",
        choices=schemes.CURVES,
        help="default: the protocol's first (frost ed25519, gg20 secp256k1); frost secp256k1 signs for Taproot",
    )
    demo.add_argument("--key-id", help="sign with this key (made by an earlier DKG); default: a new key")
    demo.add_argument("--message", action="append", metavar="HEX", help="message to sign, hex (repeatable)")
    demo.add_argument("--count", type=int, default=1, help="sign each message this many times")
    demo.add_argument(
        "--chain", choices=("ethereum", "bitcoin", "solana"), help="add the chain's address and signature encoding"
    )
    demo.add_argument("--json", action="store_true", help="one JSON object per signing")
    change = demo.add_mutually_exclusive_group()
    change.add_argument(
        "--refresh",
        action="store_true",
        help="after signing, refresh the key (new shares for P1 and the node, same public key), sign again",
    )
    change.add_argument(
        "--reshare-to",
        metavar="T-of-N",
        help="after signing, reshare the key to T-of-N (party 2 the node, parties 3..N backup parties run "
        "locally, kept in --data-dir/p3, ...), then sign again, also without P1",
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        help="keep the demo parties' shares (p1/, p3/, ...) and the in-process node's data here",
    )
    demo.add_argument("--ca-cert", type=Path, help="CA of the node's certificate (enables TLS)")
    demo.add_argument("--client-cert", type=Path, help="client certificate for mTLS")
    demo.add_argument("--client-key", type=Path, help="client key for mTLS")
    demo.add_argument("--jwt-private-key", type=Path, help="mint service tokens with this PEM key")
    demo.add_argument("--jwt-issuer", default="mpc-service", help="token iss (default %(default)s)")
    demo.add_argument("--jwt-audience", default="mpc-signer", help="token aud (default %(default)s)")
    demo.add_argument(
        "--jwt-algorithm",
        help="token alg: EdDSA, ES256, RS256, ... (default: from the key: EdDSA, ES256 for P-256, RS256 for RSA)",
    )
    demo.add_argument("--hmac-key-file", type=Path, help="the node's message HMAC key (required with --target)")
    demo.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
    demo.set_defaults(func=cmd_demo)

    health = sub.add_parser(
        "healthcheck",
        help="exit 0 when the node's gRPC health says SERVING",
        description="Call grpc.health.v1.Health/Check; exit 0 on SERVING, 1 otherwise. The target defaults to "
        "grpc.listen (0.0.0.0 -> 127.0.0.1); TLS follows grpc.tls_enabled.",
    )
    add_config_flags(health)
    health.add_argument("--target", metavar="HOST:PORT", help="node address")
    health.add_argument("--ca-cert", type=Path, help="CA of the node's certificate (default grpc.ca_cert)")
    health.add_argument("--client-cert", type=Path, help="client certificate (mTLS; default healthcheck.client_cert)")
    health.add_argument("--client-key", type=Path, help="client key (mTLS; default healthcheck.client_key)")
    health.add_argument("--server-name", help="name to check in the server certificate")
    health.add_argument("--timeout", type=float, default=3.0, help="seconds (default %(default)s)")
    health.set_defaults(func=cmd_healthcheck)

    db_sub = command_group(sub, "db", "database schema", "Database schema migrations.")
    for name, text in (("migrate", "apply pending schema migrations"), ("status", "show the schema version")):
        p = db_sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        add_config_flags(p)
        p.set_defaults(func=cmd_db)

    kek_sub = command_group(sub, "kek", "key-encryption key", "Key-encryption key (KEK) operations.")
    rotate = kek_sub.add_parser(
        "rotate",
        help="re-wrap every data key under a new KEK",
        description="Re-wrap every data key from storage.kek_file to the KEK in --new (created if missing), in "
        "one transaction; the shares themselves are not touched. Refused (exit 2) while a node uses the store.",
    )
    add_config_flags(rotate)
    rotate.add_argument("--new", type=Path, required=True, metavar="FILE", help="the new KEK file")
    rotate.set_defaults(func=cmd_kek_rotate)

    key_sub = command_group(sub, "key", "key shares", "Key-share operations.")
    delete = key_sub.add_parser(
        "delete",
        help="delete one key share for good",
        description="Delete one key share and its presignatures. Irreversible.",
    )
    add_config_flags(delete)
    delete.add_argument("key_id", metavar="KEY_ID")
    delete.add_argument("--yes", action="store_true", help="confirm")
    delete.set_defaults(func=cmd_key_delete)
    listing = key_sub.add_parser(
        "list",
        help="list the stored keys' public metadata",
        description="One line per stored key: key id, protocol, curve, threshold, parties, party index, public "
        "key (hex) and creation time. Reads no secret and needs no KEK; works while nodes run.",
    )
    add_config_flags(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per key")
    listing.set_defaults(func=cmd_key_list)

    audit_sub = command_group(sub, "audit", "audit log", "Read the append-only audit log.")
    show = audit_sub.add_parser(
        "show",
        help="print one session's audit rows",
        description="One line per audit row of SESSION_ID: time, node, operation, key id, result, client "
        "identity and message digest (hex); under a row whose session named a culprit, its blame evidence: "
        "the session context with every party's identity key, then each signed message (from, to, round, "
        "sequence, payload and signature in hex) and whether its signature verifies. Exit 1 when the store "
        "has no row for that session.",
    )
    add_config_flags(show)
    show.add_argument("session_id", metavar="SESSION_ID")
    show.add_argument("--json", action="store_true", help="one JSON object per row")
    show.set_defaults(func=cmd_audit_show)

    identity_sub = command_group(sub, "identity", "the node's identity key", "The node's identity key.")
    identity_show = identity_sub.add_parser(
        "show",
        help="print the node's identity public key and fingerprint",
        description="Print the node's Ed25519 identity public key (hex) and its fingerprint, as Ping returns "
        "them; the key is made on the node's first start (or here, if it never started).",
    )
    add_config_flags(identity_show)
    identity_show.set_defaults(func=cmd_identity_show)

    version = sub.add_parser("version", help="print the version", description="Print the version and exit.")
    version.set_defaults(func=cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"signer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"signer: error: {exc}", file=sys.stderr)
        return exc.code
    except StoreError as exc:
        print(f"signer: error: storage: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
