"""With several workers the shared socket is TCP with TCP_NODELAY (else 44 ms per request)."""

from __future__ import annotations

import socket

from service.kit.serving import listening_socket


def test_the_shared_listening_socket_is_tcp_without_nagle() -> None:
    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY only on TCP sockets
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert sock.get_inheritable()
    finally:
        sock.close()
