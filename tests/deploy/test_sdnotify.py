"""sd_notify against real AF_UNIX datagram sockets, as systemd listens for them."""

import os
import socket

import pytest

from signer.sdnotify import READY, STOPPING, sd_notify


def test_noop_without_notify_socket() -> None:
    assert sd_notify(READY, env={}) is False
    assert sd_notify(READY, env={"NOTIFY_SOCKET": ""}) is False


def test_path_socket_receives_state(tmp_path) -> None:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(path)
        listener.settimeout(5)
        assert sd_notify(READY, env={"NOTIFY_SOCKET": path}) is True
        assert listener.recv(4096) == b"READY=1"
        assert sd_notify(STOPPING + "\nSTATUS=draining", env={"NOTIFY_SOCKET": path})
        assert listener.recv(4096) == b"STOPPING=1\nSTATUS=draining"


def test_abstract_socket_receives_state() -> None:
    name = f"mpc-signer-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(b"\x00" + name.encode())
        listener.settimeout(5)
        assert sd_notify(READY, env={"NOTIFY_SOCKET": "@" + name})
        assert listener.recv(4096) == b"READY=1"


def test_reads_process_environment(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "n")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(path)
        listener.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        assert sd_notify(READY)
        assert listener.recv(4096) == b"READY=1"


def test_missing_socket_is_an_error(tmp_path) -> None:
    with pytest.raises(OSError):
        sd_notify(READY, env={"NOTIFY_SOCKET": str(tmp_path / "absent")})


@pytest.mark.parametrize(("state", "address"), [("", "/x"), ("A=\x00", "/x"), (READY, "relative/path")])
def test_bad_input(state: str, address: str) -> None:
    with pytest.raises(ValueError):
        sd_notify(state, env={"NOTIFY_SOCKET": address})
