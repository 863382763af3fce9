"""Listening ports are picked below the kernel's ephemeral range, so no outgoing connection of the run
can sit on a middleware's port when it restarts."""

from __future__ import annotations

import socket

from harness.ports import LISTEN_RANGE, _ephemeral_low, free_port


def test_free_ports_are_bindable_and_outside_the_ephemeral_range() -> None:
    ports = {free_port() for _ in range(20)}
    assert len(ports) > 1, "picked at random, not the same port every time"
    for port in ports:
        assert LISTEN_RANGE[0] <= port < _ephemeral_low(), port
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))  # free: it binds


def test_a_port_in_use_is_never_handed_out() -> None:
    taken = []
    try:
        for _ in range(30):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            port = free_port()
            sock.bind(("127.0.0.1", port))
            sock.listen()
            taken.append(sock)
        held = {s.getsockname()[1] for s in taken}
        assert len(held) == 30
        assert free_port() not in held
    finally:
        for sock in taken:
            sock.close()
