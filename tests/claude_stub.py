"""A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI.

It listens on 127.0.0.1 only, records every request it gets, and answers ``POST /v1/messages``
with server-sent events built from a script: a list of turns, each either a ``tool_use`` block
or text. A turn may be a callable, given the requests so far, that returns the turn. Requests
that are not the conversation (``count_tokens``, a title or topic request sent with another
model, anything unknown) get a minimal valid answer and do not advance the script.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Turn = dict[str, Any]
Script = list[Turn | Callable[[list[dict[str, Any]]], Turn]]


def tool_use(name: str, tool_input: dict[str, Any]) -> Turn:
    return {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": name,
            "input": tool_input}


def text(value: str) -> Turn:
    return {"type": "text", "text": value}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def is_conversation(self) -> bool:
        """A turn of the main conversation (it carries the tools), not a side request."""
        return (self.method == "POST" and self.path.split("?")[0] == "/v1/messages"
                and isinstance(self.body, dict) and bool(self.body.get("tools")))


@dataclass
class StubModel:
    script: Script
    deadline: float = 120.0  # seconds: the server stops answering after this long
    requests: list[Request] = field(default_factory=list)
    conversation: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _started: float = 0.0

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StubModel:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _body(self) -> Any:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return raw.decode("utf-8", "replace")

            def do_GET(self) -> None:
                stub._record(self, None)
                self._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                            "message": "not served here"}})

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                request = stub._record(self, self._body())
                if time.monotonic() - stub._started > stub.deadline:
                    self._json(500, {"type": "error", "error": {"type": "api_error",
                                                                "message": "stub expired"}})
                    return
                path = self.path.split("?")[0]
                if path == "/v1/messages/count_tokens":
                    self._json(200, {"input_tokens": 100})
                elif path == "/v1/messages":
                    self._messages(request)
                else:
                    self._json(404, {"type": "error", "error": {"type": "not_found_error",
                                                                "message": "not served here"}})

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _messages(self, request: Request) -> None:
                body = request.body if isinstance(request.body, dict) else {}
                # Side requests (a session title, a topic) get a short text of their own.
                conversation = request.is_conversation
                turn = stub._next_turn(body) if conversation else text("Deployment file edit")
                model = str(body.get("model") or "claude-stub")
                if body.get("stream"):
                    self._stream(model, turn)
                else:
                    self._json(200, message(model, [turn], stop_reason(turn)))

            def _stream(self, model: str, turn: Turn) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                for event, data in events(model, turn):
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> Request:
        request = Request(handler.command, handler.path, dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(request)
        return request

    def _next_turn(self, body: dict[str, Any]) -> Turn:
        with self._lock:
            self.conversation.append(body)
            index = len(self.conversation) - 1
            if index >= len(self.script):
                return text("Done.")
            step = self.script[index]
            return step(list(self.conversation)) if callable(step) else step


def stop_reason(turn: Turn) -> str:
    return "tool_use" if turn["type"] == "tool_use" else "end_turn"


def usage() -> dict[str, int]:
    return {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0}


def message(model: str, content: list[Turn], reason: str | None) -> dict[str, Any]:
    return {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": reason,
            "stop_sequence": None, "usage": usage()}


def events(model: str, turn: Turn) -> list[tuple[str, dict[str, Any]]]:
    """The Messages API's server-sent events for a reply of one content block."""
    out: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": message(model, [], None)}),
    ]
    if turn["type"] == "tool_use":
        out.append(("content_block_start", {"type": "content_block_start", "index": 0,
                    "content_block": {**turn, "input": {}}}))
        out.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                    "delta": {"type": "input_json_delta",
                              "partial_json": json.dumps(turn["input"])}}))
    else:
        out.append(("content_block_start", {"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}))
        out.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": turn["text"]}}))
    out.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    out.append(("message_delta", {"type": "message_delta",
                "delta": {"stop_reason": stop_reason(turn), "stop_sequence": None},
                "usage": {"output_tokens": 20}}))
    out.append(("message_stop", {"type": "message_stop"}))
    return out


def request_text(body: dict[str, Any]) -> str:
    """Every text of a request's messages (tool results included), joined."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key in ("text", "content"):
                if key in value:
                    walk(value[key])

    walk(body.get("messages", []))
    return "\n".join(parts)
