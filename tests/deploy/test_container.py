"""The Dockerfile: multi-stage, non-root, healthcheck, env names from the config table, a clean build context;
and the wheel its build stage makes really contains the node."""

import fnmatch
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from signer.config import KEYS

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, rest = pending.partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def test_multi_stage_slim_runtime() -> None:
    froms = [args for word, args in _instructions() if word == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]
    arg = next(args for word, args in _instructions() if word == "ARG" and args.startswith("PYTHON_IMAGE="))
    assert arg.split("=", 1)[1].startswith("python:3.11-slim")


def test_runtime_is_non_root_with_healthcheck() -> None:
    ins = _instructions()
    runtime = ins[[i for i, (w, a) in enumerate(ins) if w == "FROM"][-1] :]
    users = [a for w, a in runtime if w == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    health = [a for w, a in runtime if w == "HEALTHCHECK"]
    assert len(health) == 1 and '["signer", "healthcheck"]' in health[0]
    assert ("ENTRYPOINT", '["signer"]') in runtime
    assert ("CMD", '["serve"]') in runtime


def test_env_names_are_configuration_keys() -> None:
    config_env = {k.env for k in KEYS}
    for word, args in _instructions():
        if word == "ENV":
            for assignment in args.split():
                name = assignment.split("=", 1)[0]
                if name.startswith("MPC_"):
                    assert name in config_env, name


def test_copied_paths_exist_and_are_not_ignored() -> None:
    ignore = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for word, args in _instructions():
        if word == "COPY" and "--from" not in args:
            for src in args.split()[:-1]:
                assert (ROOT / src).exists(), src
                assert not any(fnmatch.fnmatch(src, pat) for pat in ignore), src
    # credentials and local state never enter the build context
    for must in ("certs", "secrets", "data", ".venv", "**/*.key", "**/*.hex", "**/*.pem"):
        assert must in ignore, must


def test_wheel_contains_the_node(tmp_path: Path) -> None:
    """What the build stage's `pip wheel .` produces, built offline from a copy of the sources."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("signer", "gen"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip(f"pip/setuptools not available offline: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("mpc_signer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = ("signer/cli.py", "signer/chain/keccak.py", "signer/metrics.py", "signer/sdnotify.py", "signer/py.typed")
    for module in modules:
        assert module in names, module
    assert any(n.startswith("gen/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "signer = signer.launcher:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
