"""`peerbot serve --http --processes N`: gunicorn's master with N worker processes on one port.

The master binds the port, forks the workers and replaces any that dies (crash, SIGKILL, out of
memory); it starts no thread and opens no database connection before the fork. Each worker builds
the whole bot after it was forked (`worker_app`, called in the worker: gunicorn loads the app
there because preload_app is off): its own engine and pool, Bolt app, change runner, schedulers
and router pool. Background jobs then run in every worker and guard themselves through the
database, as they do across hosts (README, "Several processes").

gunicorn's `gthread` worker: each worker accepts on the shared socket and runs requests on
`threads` threads, like waitress in the single-process mode.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

log = logging.getLogger("peerbot.http")

WsgiApp = Callable[..., Iterable[bytes]]
# How long the master waits for a silent worker before it kills and replaces it (gunicorn's
# heartbeat; a gthread worker beats from its accept loop, so long requests do not count).
WORKER_TIMEOUT = 30
ACCESS_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s pid=%(p)s %(M)sms'


class _Gunicorn(BaseApplication):
    def __init__(self, load: Callable[[], WsgiApp], options: dict[str, Any]):
        self._load, self._options = load, options
        super().__init__()

    def load_config(self) -> None:
        # only our options: no command line, no gunicorn.conf.py and no GUNICORN_CMD_ARGS are read
        for key, value in self._options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25's control socket (a Unix socket in $HOME, served by a thread of the
            # master): not needed (signals do its work), and two peerbots would share its path
            self.cfg.set("control_socket_disable", True)

    def load(self) -> WsgiApp:
        return self._load()  # in the worker, after the fork (preload_app is off)


def gunicorn_options(host: str, port: int, processes: int, threads: int = 8,
                     access_log: bool = False) -> dict[str, Any]:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    options: dict[str, Any] = {
        "bind": [f"{host}:{port}"],
        "workers": processes,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": False,  # never build the bot (threads, DB pool) in the master
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": 10,
        "keepalive": 10,  # as waitress' channel_timeout
        "worker_connections": 500,
        # bodies over MAX_BODY are refused by the app from Content-Length (bot/serve/wsgi.py)
        "limit_request_field_size": 32 * 1024,
        "proc_name": "peerbot",  # process titles carry no secret (they come from the environment)
        "loglevel": "info",
        "errorlog": "-",
        "forwarded_allow_ips": "",  # no proxy headers trusted (waitress: clear_untrusted_proxy_headers)
    }
    if access_log:
        options.update(accesslog="-", access_log_format=ACCESS_FORMAT)
    return options


def run_processes(load: Callable[[], WsgiApp], host: str, port: int, processes: int, *,
                  threads: int = 8, access_log: bool = False) -> None:
    """Serve until SIGTERM/SIGINT (gunicorn's master: SIGHUP reloads the workers, TTIN/TTOU add
    or remove one). `load` builds a worker's WSGI app; it runs in each worker."""
    _Gunicorn(load, gunicorn_options(host, port, processes, threads, access_log)).run()
