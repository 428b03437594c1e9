"""The `signer` command line (also `python -m signer`).

Every failure an operator can cause prints one line, `signer: error: ...`, and exits non-zero:
2 for usage and configuration errors, 1 for runtime failures. Tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from signer import __version__
from signer.config import KEYS, KEYS_BY_PATH, Config, ConfigError, load_config
from signer.store.errors import StoreError

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
    """Build the config with flag values over environment over file."""
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signer",
        description="mpc-signer: the signing node of an MPC wallet (GG20 ECDSA and FROST EdDSA over gRPC).",
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

    certs = sub.add_parser("certs", help="certificates and keys", description="Certificates and keys.")
    certs_sub = certs.add_subparsers(dest="certs_command", metavar="COMMAND")
    certs_sub.required = True
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
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
