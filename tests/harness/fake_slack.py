"""A fake Slack Web API on 127.0.0.1: answers like Slack and records every call.

Point Bolt at it with WebClient(base_url=...) (SLACK_API_URL). It also serves response_url
webhooks under /hooks/..., so `respond()` calls are recorded too, and the upload URLs that
files.getUploadURLExternal hands out (files_upload_v2), under /upload/<file id>.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str  # Web API method ("chat.postMessage") or "response_url"
    args: dict[str, Any]
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a burst of response_url posts from the bot's workers
    # (the hostile-input tests press every button at once) overflowed it on a loaded machine and
    # the kernel reset the connections; Slack itself takes them.
    request_queue_size = 128


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self.fail_methods: dict[str, str] = {}  # method -> Slack error code to answer with
        self.http_errors: dict[str, int] = {}  # method -> HTTP status to answer with (500, 503: Slack down)
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out
        self._rate_limits: dict[str, list[int]] = {}  # method -> [429 answers left, Retry-After seconds]
        self._files = itertools.count(1)
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes posted to its upload URL
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-slack", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/hooks/{name}"

    # -- assertions ------------------------------------------------------------------------
    def reset(self) -> None:
        with self._cond:
            self.calls.clear()

    def of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, predicate: Callable[[Call], bool] = lambda c: True, timeout: float = 10.0,
                 after: int = 0) -> Call:
        """Block until a call of `method` (the n-th after index `after`) matches; lazy work is async."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for c in self.calls[after:]:
                    if c.method == method and predicate(c):
                        return c
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls[after:]]
                    raise AssertionError(f"no {method} call matched within {timeout}s; calls seen: {seen}")
                self._cond.wait(left)

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with HTTP 429 and Retry-After, as Slack does."""
        with self._cond:
            self._rate_limits[method] = [times, retry_after]

    def mark(self) -> int:
        with self._cond:
            return len(self.calls)

    # -- HTTP ------------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method in self.fail_methods:
            return {"ok": False, "error": self.fail_methods[method]}
        if method == "apps.connections.open" and self.socket_mode_url:
            return {"ok": True, "url": self.socket_mode_url}
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "peerbot",
                    "team_id": "T111", "user_id": "UBOT", "bot_id": "BBOT"}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": args.get("channel", "C111"), "ts": ts, "message_ts": ts,
                    "message": {"text": args.get("text"), "blocks": args.get("blocks"), "ts": ts}}
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._files):07d}"
            return {"ok": True, "file_id": fid, "upload_url": f"{self.url}/upload/{fid}"}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else (files or [])
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = args.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            vid = args.get("view_id") or f"V{next(self._views):05d}"
            # like Slack, a new hash with every version of a view (views.update may check it)
            return {"ok": True, "view": {**(view or {}), "id": vid, "hash": f"{time.time():.0f}.{next(self._ts):08d}"}}
        if method == "users.info":
            return {"ok": True, "user": {"id": args.get("user"), "name": "user", "real_name": "A User",
                                         "profile": {"email": "user@example.net"}}}
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/upload/"):  # a file's bytes (files_upload_v2, step 2)
                    fid = self.path.removeprefix("/upload/")
                    with fake._cond:
                        fake.uploads[fid] = data
                    fake._record(Call("upload", {"file_id": fid, "length": len(data)}, self.path))
                    self._send(200, b"OK - " + str(len(data)).encode(), "text/plain")
                    return
                raw = data.decode()
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype:
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                for key in ("blocks", "view", "attachments"):
                    if isinstance(args.get(key), str):
                        try:
                            args[key] = json.loads(args[key])
                        except ValueError:
                            pass
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith("/hooks/"):
                    fake._record(Call("response_url", args, self.path, headers))
                    body = b"ok"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                else:
                    method = self.path.removeprefix("/api/").split("?")[0]
                    fake._record(Call(method, args, self.path, headers))
                    with fake._cond:
                        limit = fake._rate_limits.get(method)
                        if limit and limit[0] > 0:
                            limit[0] -= 1
                        else:
                            limit = None
                    status = fake.http_errors.get(method) or fake.http_errors.get("*")
                    if status:
                        self._send(status, json.dumps({"ok": False, "error": "internal_error"}).encode(),
                                   "application/json")
                        return
                    if limit:
                        self.send_response(429)
                        self.send_header("Retry-After", str(limit[1]))
                        self._send_body(json.dumps({"ok": False, "error": "ratelimited"}).encode(), "application/json")
                        return
                    body = json.dumps(fake._answer(method, args)).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self._send_body(body, ctype)

            def _send_body(self, body: bytes, ctype: str) -> None:
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
