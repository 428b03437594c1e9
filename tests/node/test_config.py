"""Configuration: defaults < file < env < flag; every kind of bad value is one line naming the key, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from signer.cli import main
from signer.config import KEYS, ConfigError, load_config


def test_defaults_match_spec(tmp_path):
    cfg = load_config(env={})
    assert cfg["grpc.listen"] == "0.0.0.0:9091"
    assert cfg["node.data_dir"] == "./data"
    assert cfg["grpc.tls_enabled"] is False
    assert cfg.storage_url == "sqlite:///data/signer.db"
    assert str(cfg.kek_file) == "data/kek.hex"


def test_precedence_file_env_flag(tmp_path):
    f = tmp_path / "signer.yaml"
    f.write_text("node:\n  id: from-file\n  data_dir: /tmp/file-dir\ngrpc:\n  listen: 127.0.0.1:1111\n")
    only_file = load_config(f, env={})
    assert (only_file["node.id"], only_file["grpc.listen"]) == ("from-file", "127.0.0.1:1111")
    env = {"MPC_NODE_ID": "from-env", "MPC_GRPC_LISTEN": "127.0.0.1:2222"}
    file_env = load_config(f, env=env)
    assert (file_env["node.id"], file_env["grpc.listen"], file_env["node.data_dir"]) == (
        "from-env",
        "127.0.0.1:2222",
        "/tmp/file-dir",
    )
    all_three = load_config(f, env=env, flags={"grpc.listen": "127.0.0.1:3333"})
    assert (all_three["node.id"], all_three["grpc.listen"]) == ("from-env", "127.0.0.1:3333")


def test_every_key_has_a_unique_env_name():
    envs = [k.env for k in KEYS]
    assert len(envs) == len(set(envs))
    assert all(e.startswith("MPC_") for e in envs)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"MPC_GRPC_LISTEN": "nonsense"}, "MPC_GRPC_LISTEN"),
        ({"MPC_GRPC_LISTEN": "127.0.0.1:99999"}, "MPC_GRPC_LISTEN"),
        ({"MPC_GRPC_TLS_ENABLED": "maybe"}, "MPC_GRPC_TLS_ENABLED"),
        ({"MPC_SESSION_MAX_SESSIONS": "many"}, "MPC_SESSION_MAX_SESSIONS"),
        ({"MPC_SESSION_MAX_SESSIONS": "0"}, "MPC_SESSION_MAX_SESSIONS"),
        ({"MPC_SESSION_ROUND_TIMEOUT_S": "-1"}, "MPC_SESSION_ROUND_TIMEOUT_S"),
        ({"MPC_GRPC_CLIENT_AUTH": "optional"}, "MPC_GRPC_CLIENT_AUTH"),
        ({"MPC_NODE_TYPE": "service"}, "MPC_NODE_TYPE"),
        ({"MPC_LOG_FORMAT": "xml"}, "MPC_LOG_FORMAT"),
        ({"MPC_GRPC_TLS_ENABLED": "true"}, "grpc.cert_file"),
        ({"MPC_JWT_ALGORITHMS": "HS256"}, "auth.jwt.algorithms"),
        ({"MPC_JWT_ALGORITHMS": "none,EdDSA"}, "auth.jwt.algorithms"),
        ({"MPC_JWT_PUBLIC_KEY_FILE": "/nonexistent/jwt.pem"}, "auth.jwt.public_key_file"),
        ({"MPC_STORAGE_URL": "mysql://x"}, "storage.url"),
    ],
)
def test_bad_values_name_the_key(env, names):
    with pytest.raises(ConfigError) as err:
        load_config(env=env)
    message = str(err.value)
    assert message.startswith(names)
    assert "\n" not in message


def test_file_errors(tmp_path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("node: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad_yaml, env={})
    typo = tmp_path / "typo.yaml"
    typo.write_text("grpc:\n  lisen: 1.2.3.4:5\n")
    with pytest.raises(ConfigError, match=r"^grpc\.lisen: unknown configuration key"):
        load_config(typo, env={})
    wrong_type = tmp_path / "type.yaml"
    wrong_type.write_text("session:\n  max_sessions: [1, 2]\n")
    with pytest.raises(ConfigError, match=r"^session\.max_sessions: expected an integer"):
        load_config(wrong_type, env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", env={})


def test_cli_bad_value_exits_2_with_one_line(capsys):
    assert main(["serve", "--listen", "not-an-address"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "signer: error: grpc.listen: expected HOST:PORT (got 'not-an-address')"
    assert main(["serve", "--set", "session.round_timeout_s=abc"]) == 2
    assert "session.round_timeout_s" in capsys.readouterr().err
    assert main(["serve", "--set", "no.such.key=1"]) == 2
    assert capsys.readouterr().err.strip() == "signer: error: no.such.key: unknown configuration key"


def test_env_error_through_real_process(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "signer", "serve"],
        capture_output=True,
        env={"MPC_GRPC_LISTEN": "x", "PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    assert res.returncode == 2
    assert res.stderr.decode().strip().splitlines() == ["signer: error: MPC_GRPC_LISTEN: expected HOST:PORT (got 'x')"]


def test_help_for_each_command():
    for argv in (["--help"], ["serve", "--help"], ["version", "--help"]):
        res = subprocess.run([sys.executable, "-m", "signer", *argv], capture_output=True, timeout=30)
        assert res.returncode == 0
        assert b"usage: signer" in res.stdout
    serve_help = subprocess.run([sys.executable, "-m", "signer", "serve", "--help"], capture_output=True).stdout
    assert b"MPC_GRPC_LISTEN" in serve_help


def test_version(capsys):
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("mpc-signer ")


def test_example_config_documents_every_key_and_loads():
    from pathlib import Path

    from signer.config import read_yaml

    example = Path(__file__).resolve().parents[2] / "config" / "signer.example.yaml"
    assert set(read_yaml(example)) == {k.path for k in KEYS}
    text = example.read_text()
    assert all(k.env in text for k in KEYS)
    cfg = load_config(example, env={})
    assert all(cfg[k.path] == k.default for k in KEYS)


# --- issue 13 item 10: one-line operator errors with the place; no silently ignored MPC_* variable ------


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("node: [unclosed\n", ":2:1:", "expected ',' or ']', but got '<stream end>'"),
        ("node:\n  id: a\n   bad: b\n", ":3:7:", "mapping values are not allowed here"),
        ("grpc:\n\tlisten: x\n", ":2:1:", "found character '\\t' that cannot start any token"),
    ],
)
def test_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path, text, where, problem):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    res = subprocess.run(
        [sys.executable, "-m", "signer", "serve", "--config", str(bad)],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    assert res.returncode == 2
    (line,) = res.stderr.decode().strip().splitlines()
    assert line == f"signer: error: --config: {bad}{where} not valid YAML: {problem}"


def test_unknown_mpc_variables_are_warned_about(tmp_path):
    from signer.config import unknown_env_warnings

    env = {
        "MPC_JWT_AUDIENCES": "x",  # a typo of MPC_JWT_AUDIENCE
        "MPC_FOO": "1",
        "MPC_CONSUL_ADDRESS": "consul:8500",  # SPEC §4: accepted
        "MPC_REDIS_ENDPOINT": "redis:6379",
        "MPC_SERVICE_ENDPOINT": "svc:9090",
        "MPC_TEST_PG_URL": "postgresql://",  # the test suite's own
        "HOME": "/root",
    }
    assert unknown_env_warnings(env) == [
        "environment variable MPC_FOO is not a configuration key and is ignored",
        "environment variable MPC_JWT_AUDIENCES is not a configuration key and is ignored; "
        "did you mean MPC_JWT_AUDIENCE?",
    ]
    # through the real command: a warning line, then the command goes on (here to a config error)
    res = subprocess.run(
        [sys.executable, "-m", "signer", "serve"],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "MPC_GRPC_LISTN": "127.0.0.1:1", "MPC_GRPC_LISTEN": "x"},
        timeout=30,
    )
    assert res.returncode == 2
    assert res.stderr.decode().strip().splitlines() == [
        "signer: warning: environment variable MPC_GRPC_LISTN is not a configuration key and is ignored; "
        "did you mean MPC_GRPC_LISTEN?",
        "signer: error: MPC_GRPC_LISTEN: expected HOST:PORT (got 'x')",
    ]


def test_token_lifetime_key_reaches_the_verifier(tmp_path):
    from signer.auth.devcerts import make_dev_certs
    from signer.security import load_security

    certs = make_dev_certs(tmp_path / "certs")
    env = {"MPC_JWT_PUBLIC_KEY_FILE": str(certs.jwt_public_key), "MPC_DATA_DIR": str(tmp_path / "data")}
    assert load_config(env=env)["auth.jwt.max_lifetime_s"] == 300
    config = load_config(env=env | {"MPC_JWT_MAX_LIFETIME_S": "60"})
    (tmp_path / "data").mkdir()
    verifier = load_security(config).token_verifier
    assert verifier is not None and verifier._max_lifetime == 60
    with pytest.raises(ConfigError, match="MPC_JWT_MAX_LIFETIME_S: must be at least 1"):
        load_config(env=env | {"MPC_JWT_MAX_LIFETIME_S": "0"})
