"""A real OpenAI-compatible HTTP server that answers from scripted fixtures.

Why it exists: the LLM client code (``langchain_openai.ChatOpenAI``, the ``openai`` SDK) must be tested over the
real HTTP protocol -- request encoding, JSON and server-sent-event parsing, retries, timeouts, dropped
connections, error bodies -- but tests may not reach the internet and have no model to run. This module speaks the
OpenAI Chat Completions protocol over TCP on 127.0.0.1 and answers with replies a test scripted beforehand, so a
test points a genuine client at ``server.base_url`` and checks both what the client got and what it sent.

It is built on the standard library (``http.server.ThreadingHTTPServer`` in a background thread), so it starts in
milliseconds and shuts down cleanly, joining every thread it started and closing every socket it accepted::

    with ScriptedServer() as server:
        server.script(Reply(content="hello"), Reply(tool_call=("route", {"intent": "recommend"})))
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-local")
        ...
        assert server.requests[-1]["messages"][-1]["content"] == "hi"
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["RecordedRequest", "Reply", "ReplyFactory", "ScriptedServer"]

DEFAULT_MODEL = "scripted-model"

# OpenAI-style error ``type`` and ``code`` for the statuses tests are likely to script.
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("conflict", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", "overloaded"),
}

# Errors a handler meets when the client went away first (a client timeout, a dropped connection).
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one ``POST /v1/chat/completions`` request.

    ``content`` is the assistant text; ``tool_call`` is ``(function name, arguments)`` where a ``dict`` is sent as
    JSON and a ``str`` is sent verbatim (so tests can send truncated or malformed JSON). ``status`` other than 200
    sends an OpenAI-style error body instead (429 also gets ``retry-after: 0`` unless ``retry_after`` is set).
    ``delay`` sleeps before answering (to trip client timeouts); ``chunk_delay`` sleeps between streamed chunks;
    ``close_connection`` drops the connection without any response.
    """

    content: str | None = None
    tool_call: tuple[str, dict[str, Any] | str] | None = None
    status: int = 200
    delay: float = 0.0
    close_connection: bool = False
    error_message: str | None = None
    retry_after: float | None = None
    chunk_delay: float = 0.0
    tool_call_id: str | None = None


ReplyFactory = Callable[[dict[str, Any]], Reply]
"""A reply computed from the parsed request body, for tests that answer based on the prompt."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it: method, path, headers (lower-cased names) and parsed JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    received_at: float = field(default_factory=time.monotonic)


def _split_words(text: str) -> list[str]:
    """Split text into stream pieces (each word with its trailing whitespace) whose concatenation is ``text``."""
    return re.findall(r"\s*\S+\s*|\s+", text) or [text]


def _split_fixed(text: str, size: int = 8) -> list[str]:
    """Split text into pieces of at most ``size`` characters (for streamed tool-call arguments)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _count_tokens(text: str) -> int:
    """A rough token count (about four characters a token), enough for a plausible ``usage`` block."""
    return max(1, (len(text) + 3) // 4) if text else 0


def _prompt_text(body: dict[str, Any]) -> str:
    """All text of the request's messages, for the prompt token count."""
    parts: list[str] = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


class _Server(ThreadingHTTPServer):
    """The socket server: keeps a handle on its owner, on every open connection and on every handler thread, so
    that stopping can close the connections and join the threads (``socketserver`` itself does not join daemon
    handler threads, and a plain daemon thread would linger on an idle keep-alive connection)."""

    daemon_threads = True  # a server that was never stopped must not keep the interpreter alive
    allow_reuse_address = True

    def __init__(self, owner: ScriptedServer) -> None:
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Handle the connection in a new daemon thread that ``join_handlers`` can wait for."""
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), name="scripted-openai-handler"
        )
        thread.daemon = True
        with self._connections_lock:
            self._connections.add(request)
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Shut down every open connection, waking handlers blocked on an idle keep-alive read."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_handlers(self, timeout: float) -> None:
        """Wait for every handler thread to end; raise if one is still running after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._connections_lock:
            threads, self._handler_threads = self._handler_threads, []
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t for t in threads if t.is_alive()]
        if stuck:
            raise RuntimeError(f"{len(stuck)} scripted-server handler thread(s) did not stop within {timeout} s")

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Record unexpected handler errors on the owner instead of printing tracebacks; ignore disconnects."""
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, _DISCONNECTS):
            self.owner._record_error(error)


class _Handler(BaseHTTPRequestHandler):
    """Speaks HTTP/1.1 with keep-alive, as the OpenAI API does; streams are sent with chunked transfer encoding."""

    protocol_version = "HTTP/1.1"
    server_version = "ScriptedOpenAI/1.0"
    server: _Server

    # -- plumbing ---------------------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read ``server.recorded`` rather than an access log."""

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _DISCONNECTS:
            self.close_connection = True
        except OSError:
            # The socket was shut down under us (server exit or a scripted drop).
            self.close_connection = True

    def _read_json(self) -> tuple[Any, str | None]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None, None
        try:
            return json.loads(raw), None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return None, f"could not parse the JSON body of the request: {error}"

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", self.server.owner._next_id("req"))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error(self, status: int, message: str | None = None, headers: dict[str, str] | None = None) -> None:
        kind, code = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        body = {
            "error": {
                "message": message or f"Scripted error: {status} {phrase}",
                "type": kind,
                "param": None,
                "code": code,
            }
        }
        self._send_json(status, body, headers)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _authorized(self) -> bool:
        expected = self.server.owner.api_key
        if expected is None:
            return True
        if self.headers.get("authorization") == f"Bearer {expected}":
            return True
        self._send_error(401, "Incorrect API key provided.")
        return False

    # -- endpoints --------------------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        owner = self.server.owner
        path = self.path.split("?", 1)[0].rstrip("/")
        owner._record(RecordedRequest("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
        if not self._authorized():
            return
        if path == "/v1/models":
            model = {"id": owner.model, "object": "model", "created": 0, "owned_by": "scripted"}
            self._send_json(200, {"object": "list", "data": [model]})
        elif path.startswith("/v1/models/") and path.rsplit("/", 1)[1] == owner.model:
            self._send_json(200, {"id": owner.model, "object": "model", "created": 0, "owned_by": "scripted"})
        else:
            self._send_error(404, f"Unknown path: GET {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        owner = self.server.owner
        body, parse_error = self._read_json()
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path.split("?", 1)[0].rstrip("/")
        owner._record(RecordedRequest("POST", self.path, headers, body))
        if path != "/v1/chat/completions":
            self._send_error(404, f"Unknown path: POST {self.path}")
            return
        if not self._authorized():
            return
        if parse_error is not None or not isinstance(body, dict):
            self._send_error(400, parse_error or "The request body must be a JSON object.")
            return
        try:
            reply = owner._next_reply(body)
        except Exception as error:  # a scripted callable failed: tell the client, keep it for the test
            owner._record_error(error)
            self._send_error(500, f"The scripted reply raised {type(error).__name__}: {error}")
            return
        self._answer(body, reply)

    def _answer(self, body: dict[str, Any], reply: Reply) -> None:
        owner = self.server.owner
        if reply.delay > 0 and owner._stopping.wait(reply.delay):
            self.close_connection = True  # shutting down: give up on this answer
            return
        if reply.close_connection:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.status != 200:
            extra: dict[str, str] = {}
            if reply.retry_after is not None:
                extra = {"retry-after": f"{reply.retry_after:g}", "retry-after-ms": f"{reply.retry_after * 1000:g}"}
            elif reply.status == 429:
                extra = {"retry-after": "0"}
            self._send_error(reply.status, reply.error_message, extra)
            return
        if body.get("stream"):
            self._stream(body, reply)
        else:
            self._send_json(200, owner._completion(body, reply))

    def _stream(self, body: dict[str, Any], reply: Reply) -> None:
        owner = self.server.owner
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", owner._next_id("req"))
        self.end_headers()
        for index, chunk in enumerate(owner._chunks(body, reply)):
            if index and reply.chunk_delay > 0 and owner._stopping.wait(reply.chunk_delay):
                self.close_connection = True
                return
            self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")  # the zero-length chunk that ends a chunked body


class ScriptedServer:
    """An OpenAI Chat Completions server on 127.0.0.1 that answers each request with the next scripted reply.

    Use it as a context manager: entering binds a free port and starts serving in a background thread,
    ``base_url`` is then ``http://127.0.0.1:PORT/v1``; leaving closes every connection and joins every thread.

    * ``script(*replies)`` queues ``Reply`` objects or callables ``(request_json) -> Reply``, consumed one per
      ``POST /v1/chat/completions`` in order; once the queue is empty, ``default`` answers (``Reply(content="ok")``).
    * ``requests`` lists the parsed JSON bodies of the chat-completion requests received, oldest first;
      ``recorded`` has every request (any path) with its headers; ``errors`` holds exceptions raised inside the
      server (a failing scripted callable, a handler bug), which a test can assert to be empty.
    * ``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` get a 401.
    """

    def __init__(
        self, *, model: str = DEFAULT_MODEL, default: Reply | ReplyFactory | None = None, api_key: str | None = None
    ) -> None:
        self.model = model
        self.default: Reply | ReplyFactory = default if default is not None else Reply(content="ok")
        self.api_key = api_key
        self._queue: deque[Reply | ReplyFactory] = deque()
        self._recorded: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> ScriptedServer:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError("the scripted server is already running")
        self._stopping.clear()
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="scripted-openai-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections, join the serving and handler threads and close the socket."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a scripted delay
        httpd.shutdown()
        thread.join()
        httpd.drop_connections()  # wakes handlers waiting on idle keep-alive connections
        httpd.server_close()  # closes the listening socket
        self._httpd = self._thread = None
        httpd.join_handlers(timeout=10.0)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the scripted server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The URL to give a client as ``base_url``: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting and records --------------------------------------------------------------------------------

    def script(self, *replies: Reply | ReplyFactory) -> None:
        """Queue replies (or callables computing one from the request body), consumed one per request, FIFO."""
        for reply in replies:
            if not isinstance(reply, Reply) and not callable(reply):
                raise TypeError(f"a scripted reply must be a Reply or a callable, not {type(reply).__name__}")
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """How many scripted replies have not been consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Parsed JSON bodies of the chat-completion requests received so far (a copy), oldest first."""
        with self._lock:
            return [r.body for r in self._recorded if r.method == "POST" and r.path.startswith("/v1/chat/completions")]

    @property
    def recorded(self) -> list[RecordedRequest]:
        """Every request received so far (any method and path), with its headers."""
        with self._lock:
            return list(self._recorded)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the server while answering (should stay empty in a passing test)."""
        with self._lock:
            return list(self._errors)

    def clear(self) -> None:
        """Forget recorded requests, errors and still-queued replies."""
        with self._lock:
            self._queue.clear()
            self._recorded.clear()
            self._errors.clear()

    # -- internals used by the handler ------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._recorded.append(request)

    def _record_error(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(error)

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}-scripted-{self._counter}"

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            scripted = self._queue.popleft() if self._queue else self.default
        reply = scripted if isinstance(scripted, Reply) else scripted(body)
        if not isinstance(reply, Reply):
            raise TypeError(f"a scripted callable must return a Reply, not {type(reply).__name__}")
        return reply

    @staticmethod
    def _arguments(reply: Reply) -> str:
        assert reply.tool_call is not None
        arguments = reply.tool_call[1]
        return arguments if isinstance(arguments, str) else json.dumps(arguments)

    def _usage(self, body: dict[str, Any], reply: Reply) -> dict[str, int]:
        completion = _count_tokens(reply.content or "")
        if reply.tool_call is not None:
            completion += _count_tokens(reply.tool_call[0] + self._arguments(reply))
        prompt = _count_tokens(_prompt_text(body))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        """The ``chat.completion`` object answering ``body`` with ``reply``."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        if reply.tool_call is None and reply.content is None:
            message["content"] = ""
        if reply.tool_call is not None:
            call_id = reply.tool_call_id or self._next_id("call")
            function = {"name": reply.tool_call[0], "arguments": self._arguments(reply)}
            message["tool_calls"] = [{"id": call_id, "type": "function", "function": function}]
        return {
            "id": self._next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "system_fingerprint": "fp_scripted",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if reply.tool_call is not None else "stop",
                }
            ],
            "usage": self._usage(body, reply),
        }

    def _chunks(self, body: dict[str, Any], reply: Reply) -> Iterator[dict[str, Any]]:
        """The ``chat.completion.chunk`` objects streaming ``reply``: role first, then pieces, then the finish."""
        base = {
            "id": self._next_id("chatcmpl"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "system_fingerprint": "fp_scripted",
        }
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return {**base, "choices": [choice], **({"usage": None} if include_usage else {})}

        if reply.tool_call is None:
            yield chunk({"role": "assistant", "content": "", "refusal": None})
            for piece in _split_words(reply.content or ""):
                yield chunk({"content": piece})
        else:
            if reply.content:
                yield chunk({"role": "assistant", "content": "", "refusal": None})
                for piece in _split_words(reply.content):
                    yield chunk({"content": piece})
                first: dict[str, Any] = {}
            else:
                first = {"role": "assistant", "content": None, "refusal": None}
            call_id = reply.tool_call_id or self._next_id("call")
            head = {
                "index": 0,
                "id": call_id,
                "type": "function",
                "function": {"name": reply.tool_call[0], "arguments": ""},
            }
            yield chunk({**first, "tool_calls": [head]})
            for piece in _split_fixed(self._arguments(reply)):
                yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if reply.tool_call is not None else "stop")
        if include_usage:
            yield {**base, "choices": [], "usage": self._usage(body, reply)}
