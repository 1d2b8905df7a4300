"""The suite itself proves that nothing reaches the network: the guard must really block."""

from __future__ import annotations

import socket

import pytest
from helpers.network import NetworkBlockedError


def test_connecting_to_an_outside_address_fails_loudly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlockedError):
        sock.connect(("93.184.216.34", 443))


def test_resolving_an_outside_host_fails_loudly() -> None:
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("huggingface.co", 443)


def test_loopback_stays_reachable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
