"""The `grpc.*` limit keys reach the guard unchanged, from file, environment or flag."""

from __future__ import annotations

import dataclasses

import pytest

from signer.app import connection_limits
from signer.config import KEYS_BY_PATH, ConfigError, load_config


def test_every_guard_limit_is_a_config_key_and_the_environment_sets_it():
    limits = connection_limits(load_config(env={"MPC_GRPC_MAX_MESSAGE_BYTES": "3000000"}))
    assert limits.max_message_bytes == 3_000_000
    for field in dataclasses.fields(limits):
        key = KEYS_BY_PATH[f"grpc.{field.name}"]
        assert key.env == f"MPC_GRPC_{field.name.upper()}"
        if field.name != "max_message_bytes":
            assert getattr(limits, field.name) == key.default


def test_windows_follow_the_limits():
    limits = connection_limits(load_config(env={}, flags={"grpc.max_message_bytes": 1 << 20}))
    config = limits.grpclib_config()
    assert config.http2_stream_window_size == (1 << 20) + 5
    assert config.http2_connection_window_size == limits.max_connection_buffered_bytes


def test_a_bad_limit_is_a_one_line_error():
    with pytest.raises(ConfigError, match="MPC_GRPC_MAX_CONCURRENT_STREAMS"):
        load_config(env={"MPC_GRPC_MAX_CONCURRENT_STREAMS": "0"})
