"""Skip (locally) or fail (under CI) when the Redis of this machine is not there."""

from __future__ import annotations

import os
import socket

import pytest


def require_redis(host: str = "127.0.0.1", port: int = 6379) -> None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis not reachable on {host}:{port} (CI must have it)")
        pytest.skip(f"Redis not reachable on {host}:{port}")
