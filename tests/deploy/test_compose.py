"""docker-compose.yml: every env name is a configuration key, every mounted file is one the project makes,
and the environment it gives the node is a configuration `load_config` accepts.

No Docker engine runs here, so the file is checked the way compose would read it, against the real
config table (signer.config.KEYS) and real credentials from `make_dev_certs`.
"""

import re
import secrets
from pathlib import Path

import pytest
import yaml

from signer.auth.devcerts import make_dev_certs
from signer.config import KEYS, load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
OPS_DOC = ROOT / "docs" / "operations.md"
# libpq's environment variables that asyncpg honours (SPEC §4: "the standard PGHOST/PGUSER/... variables")
LIBPQ_ENV = {"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "PGPASSFILE", "PGSSLROOTCERT"}
SECRETS_DIR = "/run/secrets/"


def _substitute(text: str, values: dict[str, str]) -> str:
    # compose interpolation as used in the file: ${NAME:?message}
    def repl(m: re.Match[str]) -> str:
        return values[m.group(1)]

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?::\?[^}]*)?\}", repl, text)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(_substitute(COMPOSE.read_text(), {"PG_PASSWORD": "test-password"}))


@pytest.fixture(scope="module")
def node(compose) -> dict:
    return compose["services"]["server-signer-p2"]


def test_services(compose) -> None:
    assert set(compose["services"]) == {"server-signer-p2", "postgres"}
    assert compose["services"]["server-signer-p2"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_env_name_is_known(node) -> None:
    config_env = {k.env for k in KEYS}
    for name in node["environment"]:
        if name.startswith("MPC_"):
            assert name in config_env, f"{name} is not a configuration key (signer/config.py)"
        else:
            assert name in LIBPQ_ENV, f"{name} is neither MPC_* nor a libpq variable"


def test_secret_sources_are_files_the_project_makes(compose, tmp_path) -> None:
    dev = {p.name for p in make_dev_certs(tmp_path / "certs").all()}
    ops = OPS_DOC.read_text()
    for name, spec in compose["secrets"].items():
        source = spec["file"]
        assert source.startswith("./")
        folder, _, filename = source[2:].partition("/")
        assert filename == name, "a secret is mounted under its own file name"
        if folder == "certs":
            assert filename in dev, f"{source} is not written by `signer certs dev ./certs`"
        else:
            # made by hand; docs/operations.md must say how
            assert folder == "secrets" and source[2:] in ops, f"{source} is not explained in docs/operations.md"


def test_node_environment_is_a_valid_configuration(node, compose, tmp_path) -> None:
    """Map /run/secrets/* to real files and let the node's own loader validate every value."""
    certs = make_dev_certs(tmp_path / "certs")
    kek = tmp_path / "kek.hex"
    kek.write_text(secrets.token_hex(32) + "\n")
    local = {p.name: str(p) for p in certs.all()} | {"kek.hex": str(kek)}
    mounted = set(node["secrets"])
    assert mounted <= set(compose["secrets"])

    env: dict[str, str] = {}
    for name, value in node["environment"].items():
        value = str(value)
        if value.startswith(SECRETS_DIR):
            secret = value[len(SECRETS_DIR) :]
            assert secret in mounted, f"{name} points at {value}, which is not mounted"
            value = local[secret]
        env[name] = value
    config = load_config(env=env)
    assert config["node.id"] == "server-signer-p2"
    assert config["grpc.tls_enabled"] is True
    assert config["grpc.client_auth"] == "require"
    assert config.kek_file == kek
    assert config.storage_url.startswith("postgresql://")


def test_healthcheck_files_are_mounted(node) -> None:
    test = node["healthcheck"]["test"]
    assert test[:3] == ["CMD", "signer", "healthcheck"]
    for arg in test:
        if arg.startswith(SECRETS_DIR):
            assert arg[len(SECRETS_DIR) :] in node["secrets"]


def test_postgres_matches_node(compose, node) -> None:
    pg = compose["services"]["postgres"]["environment"]
    env = node["environment"]
    assert env["PGHOST"] == "postgres"
    assert env["PGUSER"] == pg["POSTGRES_USER"]
    assert env["PGDATABASE"] == pg["POSTGRES_DB"]
    assert env["PGPASSWORD"] == pg["POSTGRES_PASSWORD"] == "test-password"


def test_build_context_and_stop_grace(node) -> None:
    assert (ROOT / node["build"] / "Dockerfile").is_file()
    grace = next(k.default for k in KEYS if k.path == "session.grace_period_s")
    assert int(node["stop_grace_period"].removesuffix("s")) > grace


def _dockerfile_healthcheck() -> list[str]:
    import json

    from tests.deploy.test_container import _instructions

    (args,) = [a for word, a in _instructions() if word == "HEALTHCHECK"]
    return json.loads(args.split("CMD", 1)[1])


def _dockerfile_env() -> dict[str, str]:
    from tests.deploy.test_container import _instructions

    env: dict[str, str] = {}
    for word, args in _instructions():
        if word == "ENV":
            env.update(a.split("=", 1) for a in args.split())
    return env


def test_image_healthcheck_passes_against_the_mtls_node(node, compose, tmp_path, free_port) -> None:
    """Issue 13 item 10: the image's HEALTHCHECK, run with the environment compose gives the container,
    against a real node that requires client certificates: SERVING, exit 0."""
    import os
    import subprocess
    import sys
    import time

    certs = make_dev_certs(tmp_path / "certs")
    kek = tmp_path / "kek.hex"
    kek.write_text(secrets.token_hex(32) + "\n")
    local = {p.name: str(p) for p in certs.all()} | {"kek.hex": str(kek)}
    env = _dockerfile_env()
    for name, value in node["environment"].items():
        value = str(value)
        env[name] = local[value[len(SECRETS_DIR) :]] if value.startswith(SECRETS_DIR) else value
    # what differs outside a container: a free loopback port, SQLite instead of the postgres service
    env |= {
        "MPC_GRPC_LISTEN": f"127.0.0.1:{free_port}",
        "MPC_DATA_DIR": str(tmp_path / "data"),
        "MPC_STORAGE_URL": f"sqlite:///{tmp_path / 'signer.db'}",
        "MPC_METRICS_LISTEN": "",
        "MPC_POOLS_PREPARAMS_SIZE": "0",
        "PATH": os.environ["PATH"],
    }
    assert env["MPC_GRPC_CLIENT_AUTH"] == "require"
    health = _dockerfile_healthcheck()
    assert health == node["healthcheck"]["test"][1:] == ["signer", "healthcheck"]
    command = [sys.executable, "-m", "signer", *health[1:]]
    proc = subprocess.Popen(
        [sys.executable, "-m", "signer", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            res = subprocess.run(command, env=env, capture_output=True, timeout=30)
            if res.returncode == 0 or time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(0.3)
        assert res.returncode == 0, res.stderr.decode()
        assert res.stdout.decode().strip() == "SERVING"
        assert res.stderr == b""
        # without the client certificate the probe says what is missing, in one line
        bare = {k: v for k, v in env.items() if not k.startswith("MPC_HEALTHCHECK_")}
        res = subprocess.run(command, env=bare, capture_output=True, timeout=30)
        assert res.returncode == 2
        assert res.stderr.decode().splitlines() == [
            "signer: error: the node requires client certificates (grpc.client_auth: require): pass --client-cert "
            "and --client-key, or set healthcheck.client_cert and healthcheck.client_key"
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
