"""Running uvicorn, with one correction for several workers.

uvicorn binds the shared listening socket with protocol 0; the workers' accepted connections
inherit it, and asyncio then does not recognise them as TCP and never sets TCP_NODELAY. Every
response written in two parts (headers, then body) then waits for the client's delayed ACK:
44 ms per request (measured; a trivial app answers in 0.15 ms with the socket below). So with
several workers we bind the socket ourselves, as TCP, with TCP_NODELAY, and hand it to uvicorn's
own process supervisor.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "service.app:create_app"


def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    config = uvicorn_config(host, port, workers, access_log)
    if workers == 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()


def uvicorn_config(host: str, port: int, workers: int, access_log: bool) -> uvicorn.Config:
    """uvicorn believes no X-Forwarded-* header (its default believes 127.0.0.1): the app does,
    from NRM_TRUSTED_PROXIES only (service/app.py)."""
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        forwarded_allow_ips=[],
        log_level="info",
        access_log=access_log,
    )


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
