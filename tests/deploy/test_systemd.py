"""The systemd unit: `systemd-analyze verify` accepts it and its hardening scores as systemd rates it."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "config" / "mpc-signer.service"
INSTALLED_SIGNER = "/opt/mpc-signer/venv/bin/signer"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not installed (Debian: apt-get install systemd)"
)


def _unit_for_this_machine(tmp_path: Path) -> Path:
    # verify checks that ExecStart's binary exists: point it at this checkout's entry point, nothing else changes
    signer = Path(sys.executable).parent / "signer"
    if not signer.exists():
        pytest.skip("the `signer` entry point is not installed in this environment")
    text = UNIT.read_text()
    assert INSTALLED_SIGNER in text
    out = tmp_path / "mpc-signer.service"
    out.write_text(text.replace(INSTALLED_SIGNER, str(signer)))
    return out


def _service_section() -> dict[str, list[str]]:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return {k: v.splitlines() for k, v in parser["Service"].items()}


def test_unit_settings_the_daemon_relies_on() -> None:
    service = _service_section()
    assert service["Type"] == ["notify"]  # the daemon sends READY=1 / STOPPING=1 (signer.sdnotify)
    assert service["User"] == ["mpc-signer"]
    assert service["Restart"] == ["on-failure"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["PrivateTmp"] == ["yes"]
    assert service["ReadWritePaths"] == ["/var/lib/mpc-signer"]
    assert service["Environment"] == ["MPC_DATA_DIR=/var/lib/mpc-signer"]
    assert service["LimitCORE"] == ["0"]
    # the stop timeout must outlast the default 20 s drain (session.grace_period_s)
    assert int(service["TimeoutStopSec"][0]) > 20


def _verify_problems(unit: Path) -> str:
    """What `systemd-analyze verify` says about this unit: "" when it is clean.

    verify exits 0 even for settings it ignores ("Failed to parse service type, ignoring"), so the
    warnings naming the unit count as failures too.
    """
    proc = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in proc.stderr.splitlines() if unit.name in line]
    if proc.returncode != 0:
        problems.append(f"exit status {proc.returncode}: {proc.stderr.strip()}")
    return "\n".join(problems)


@needs_analyze
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    assert _verify_problems(_unit_for_this_machine(tmp_path)) == ""


@needs_analyze
def test_verify_check_catches_a_bad_setting(tmp_path: Path) -> None:
    unit = _unit_for_this_machine(tmp_path)
    unit.write_text(unit.read_text().replace("Type=notify", "Type=notifyy"))
    assert "notifyy" in _verify_problems(unit)


@needs_analyze
def test_hardening_exposure_is_low(tmp_path: Path) -> None:
    unit = _unit_for_this_machine(tmp_path)
    proc = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--threshold=20", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "--offline" in proc.stderr or "unrecognized option" in proc.stderr:
        pytest.skip("this systemd-analyze has no offline security scoring (needs systemd >= 250)")
    # exit status is non-zero when the overall exposure is above 2.0 ("OK" territory)
    assert proc.returncode == 0, proc.stdout[-2000:]
