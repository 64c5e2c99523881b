"""Running uvicorn: several workers forked from a parent that imported the app once, which die
with that parent, and stop gracefully.

- **TCP_NODELAY.** uvicorn binds the shared listening socket with protocol 0; the workers'
  accepted connections inherit it, and asyncio then does not recognise them as TCP and never
  sets TCP_NODELAY. Every response written in two parts (headers, then body) then waits for the
  client's delayed ACK: 44 ms per request (measured; a trivial app answers in 0.15 ms with the
  socket below). So with several workers we bind the socket ourselves, as TCP, with
  TCP_NODELAY, and hand it to uvicorn's own process supervisor.
- **Fork, after one import.** uvicorn spawns each worker as a fresh interpreter that imports
  the whole app again: 2.5 s of CPU each, so 4 workers on a loaded 2-core machine took
  15-19 s to answer, and the supervisor killed one whose interpreter had not answered its
  ping within 5 s (`bench/serve_startup.py`). The parent imports the app once and the workers
  are forked from it: 5-6 s on the same machine, none killed. The parent holds no thread and
  no database connection when it forks (`nrm serve` closes its start-up checks' connections
  first; each worker opens its own pool in its lifespan).
- **Die with the parent.** Each worker asks Linux for SIGTERM when its parent dies
  (PR_SET_PDEATHSIG), so a parent killed with SIGKILL takes its workers with it and frees the
  port; a SIGTERM is a graceful stop (below).
- **Graceful stop.** SIGTERM (to the parent or a worker) stops accepting, lets in-flight
  requests finish for at most `NRM_GRACEFUL_SHUTDOWN_SECONDS`, then ends.
- **Health-check budget.** uvicorn's supervisor pings each worker and kills one that does not
  answer within `NRM_WORKER_HEALTHCHECK_SECONDS` (uvicorn's default is 5 s).
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
import socket
import sys
from dataclasses import dataclass

import uvicorn
import uvicorn._subprocess
from uvicorn.supervisors import Multiprocess

from service.kit.logs import logging_config
from service.kit.metrics import MULTIPROC_DIR, prepare_multiprocess_dir

APP = "service.app:create_app"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    access_log: bool
    graceful_shutdown_seconds: int
    worker_healthcheck_seconds: int
    metrics: bool = False  # /metrics is on (NRM_METRICS_TOKEN)


class ServeRefused(RuntimeError):
    """`nrm serve` must not start this way; the message says what to set."""


def serve(options: ServeOptions) -> None:
    config = uvicorn_config(options)
    prepare_multiprocess_dir()
    if options.workers == 1:
        uvicorn.Server(config).run()
        return
    if options.metrics and not os.environ.get(MULTIPROC_DIR):
        raise ServeRefused(
            f"with several workers and NRM_METRICS_TOKEN set, set {MULTIPROC_DIR} to a directory "
            "of its own (the workers' metrics meet there; it is emptied at each start)"
        )
    sockets = [listening_socket(options.host, options.port)]
    fork_workers_from_here()
    Multiprocess(config, sockets=sockets).run()


def uvicorn_config(options: ServeOptions) -> uvicorn.Config:
    """uvicorn believes no X-Forwarded-* header (its default believes 127.0.0.1): the app does,
    from NRM_TRUSTED_PROXIES only (service/app.py). Logs are JSON lines (service/kit/logs.py);
    uvicorn's access line (the raw path) is replaced by the app's `nrm.access` (route template)."""
    return uvicorn.Config(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        proxy_headers=False,
        forwarded_allow_ips=[],
        log_level="info",
        access_log=False,
        log_config=logging_config(options.access_log),
        timeout_graceful_shutdown=options.graceful_shutdown_seconds,
        timeout_worker_healthcheck=options.worker_healthcheck_seconds,
    )


def fork_workers_from_here() -> None:
    """Import the app in this process and make uvicorn fork its workers from it, each one
    bound to die with this process."""
    importlib.import_module(APP.partition(":")[0])
    if not sys.platform.startswith("linux"):
        return  # spawn (uvicorn's default) elsewhere: no PR_SET_PDEATHSIG to lean on
    parent = os.getpid()
    os.register_at_fork(after_in_child=lambda: die_with(parent))
    # uvicorn makes its workers with this context (uvicorn/_subprocess.py); tests/test_serving.py
    # fails if an upgrade moves it
    uvicorn._subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]


def die_with(parent: int) -> None:
    """In a freshly forked worker: SIGTERM when `parent` dies (now, if it already has). The
    parent's signal handlers (uvicorn's supervisor's) are dropped; the worker's server installs
    its own."""
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
