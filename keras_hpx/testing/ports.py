"""Free TCP ports for test servers (a Keras Tuner chief, a TensorBoard).

Imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """Returns a TCP port that is free on `host` right now.

    The port is found by binding port 0 and reading what the system chose; another
    process may take it before the caller binds it, which is rare enough for tests.

    Args:
        host: The address to bind. Defaults to `"127.0.0.1"`.

    Returns:
        The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
