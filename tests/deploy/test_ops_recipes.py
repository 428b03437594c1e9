"""The operator recipes in README.md and docs/operations.md, checked against what they drive (issue 13
item 11): the systemd unit's user, group, paths and environment, the CLI's own parser, and .gitignore.

No systemd runs here and other users cannot reach this interpreter, so the recipes are read as a shell
would split them and every path and name in them is compared with the unit and the code.
"""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
from pathlib import Path

import yaml

from signer.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
OPS = (ROOT / "docs" / "operations.md").read_text()
README = (ROOT / "README.md").read_text()


def _unit() -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((ROOT / "config" / "mpc-signer.service").read_text())
    return dict(parser["Service"])


UNIT = _unit()
USER, GROUP = UNIT["User"], UNIT["Group"]
EXEC = shlex.split(UNIT["ExecStart"])
SIGNER_BIN, CONFIG_FILE = EXEC[0], EXEC[EXEC.index("--config") + 1]
DATA_DIR = UNIT["Environment"].split("MPC_DATA_DIR=", 1)[1].split()[0]
WRITABLE = UNIT["ReadWritePaths"].split()


def _commands(markdown: str) -> list[list[str]]:
    """Every command line of the bash blocks, continuation lines joined, comments dropped."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", markdown, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                out.append(words[1:] if words[0] == "sudo" else words)
    return out


def _installs_of(markdown: str, target: str) -> list[list[str]]:
    return [c for c in _commands(markdown) if c[0] == "install" and c[-1] == target]


def test_config_file_is_readable_by_the_service_group() -> None:
    for doc in (OPS, README):
        (install,) = _installs_of(doc, CONFIG_FILE)
        assert install[install.index("-m") + 1] == "0640"
        assert install[install.index("-g") + 1] == GROUP, install
        (mkdir,) = [c for c in _commands(doc) if c[:2] == ["install", "-d"] and c[-1] == str(Path(CONFIG_FILE).parent)]
        assert mkdir[mkdir.index("-g") + 1] == GROUP and mkdir[mkdir.index("-m") + 1] == "0750"
        (useradd,) = [c for c in _commands(doc) if c[0] == "useradd"]
        assert useradd[-1] == USER and "--user-group" in useradd  # the group the files are given exists


def test_key_files_are_installed_for_the_group() -> None:
    (install,) = [c for c in _installs_of(OPS, "/etc/mpc-signer/") if "kek.hex" in c]
    assert install[install.index("-m") + 1] == "0640" and install[install.index("-g") + 1] == GROUP


def test_kek_rotate_recipe() -> None:
    """Full path of the installed command, the unit's data dir, a new KEK where the service can write,
    installed back for the group; and the command line is one the CLI accepts."""
    (rotate,) = [c for c in _commands(OPS) if "rotate" in c]
    assert rotate[:3] == ["-u", USER, SIGNER_BIN], rotate
    args = build_parser().parse_args(rotate[3:])
    assert args.func.__name__ == "cmd_kek_rotate"
    assert str(args.config) == CONFIG_FILE
    assert getattr(args, "node.data_dir") == DATA_DIR
    assert any(args.new.is_relative_to(w) for w in WRITABLE), args.new
    example = yaml.safe_load((ROOT / "config" / "signer.example.yaml").read_text())
    assert example["storage"]["kek_file"] == ""  # so the doc must say where it lives: /etc/mpc-signer/kek.hex
    (install,) = [c for c in _commands(OPS) if c[0] == "install" and str(args.new) in c]
    assert install[-1] == "/etc/mpc-signer/kek.hex" and install[install.index("-g") + 1] == GROUP
    assert "storage.kek_file: /etc/mpc-signer/kek.hex" in OPS


def test_credentials_are_ignored_by_git() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text().replace("${PG_PASSWORD:?", "${X:-"))
    sources = {spec["file"][2:] for spec in compose["secrets"].values()}
    assert {s.split("/")[0] for s in sources} == {"certs", "secrets"}
    res = subprocess.run(["git", "check-ignore", *sources], cwd=ROOT, capture_output=True, text=True)
    assert sorted(res.stdout.split()) == sorted(sources), res.stderr


def test_inspection_recipes() -> None:
    """`key list` and `audit show` as documented: the installed command, as the service user, the unit's data dir."""
    found = {}
    for command in _commands(OPS):
        if command[:3] == ["-u", USER, SIGNER_BIN] and command[3] in ("key", "audit"):
            args = build_parser().parse_args(command[3:])
            assert str(args.config) == CONFIG_FILE and getattr(args, "node.data_dir") == DATA_DIR
            found[args.func.__name__] = args
    assert set(found) == {"cmd_key_list", "cmd_audit_show"}
    assert found["cmd_audit_show"].json and found["cmd_audit_show"].session_id == "sig-01"
