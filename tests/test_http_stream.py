"""A real HTTP server on loopback streams SSE slowly; httpx reads it through iter_chunks and
aiter_chunks, chunk by chunk as the bytes arrive."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from chatchunk import (
    StreamAccumulator,
    StreamError,
    aiter_chunks,
    iter_chunks,
    merge,
    merge_sse,
)

STREAM = corpus.make_stream("tool_calls", random.Random(21))
TEXT = corpus.make_stream("text", random.Random(22))
ERROR_EVENT = {"error": {"message": "upstream went away", "type": "server_error"}}
PAUSE = 0.3  # before the last piece: the client must have seen chunks by then


def body_for(path: str) -> bytes:
    if path.startswith("/tools"):
        return STREAM.sse(line_end="\r\n")
    if path.startswith("/error"):
        half = TEXT.chunks[: len(TEXT.chunks) // 2]
        return (
            corpus.to_sse(half, done=False) + b"data: " + json.dumps(ERROR_EVENT).encode() + b"\n\n"
        )
    return TEXT.sse()


def pieces(body: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, pos = [], 0
    while pos < len(body):
        step = rng.randint(1, 64)
        out.append(body[pos : pos + step])
        pos += step
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stop: threading.Event  # set on the class by the fixture

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        chunked = "close" not in self.path
        body = body_for(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        parts = pieces(body, len(self.path))
        try:
            for i, part in enumerate(parts):
                if self.stop.is_set():
                    return
                time.sleep(PAUSE if i == len(parts) - 1 else 0.001)
                self.write(part, chunked)
            if "linger" in self.path:
                # A server that keeps the response open after [DONE]: clients must not wait.
                self.stop.wait(5)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def write(self, part: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        else:
            self.wfile.write(part)
        self.wfile.flush()


@pytest.fixture(scope="module")
def server():
    stop = threading.Event()
    handler = type("BoundHandler", (Handler,), {"stop": stop})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def read_sync(url: str):
    acc = StreamAccumulator()
    arrivals = []
    with httpx.Client(timeout=10) as client, client.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in iter_chunks(response.iter_bytes(), accumulator=acc):
            arrivals.append((time.monotonic(), chunk))
    return acc, arrivals, time.monotonic()


async def read_async(url: str):
    acc = StreamAccumulator()
    arrivals = []
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as response:
        response.raise_for_status()
        async for chunk in aiter_chunks(response.aiter_bytes(), accumulator=acc):
            arrivals.append((time.monotonic(), chunk))
    return acc, arrivals, time.monotonic()


def check(stream: corpus.Stream, acc, arrivals, end) -> None:
    assert [c.to_dict() for _, c in arrivals] == stream.chunks
    assert acc.done
    completion = acc.completion()
    assert completion == merge(stream.chunks)
    assert completion == merge_sse(stream.sse())
    # Chunks came as the bytes arrived, not all at the end.
    assert end - arrivals[0][0] >= PAUSE * 0.8


@pytest.mark.parametrize("path", ["/tools", "/tools/close", "/text", "/text/close"])
def test_httpx_iter_chunks(server, path):
    stream = STREAM if path.startswith("/tools") else TEXT
    check(stream, *read_sync(server + path))


@pytest.mark.parametrize("path", ["/tools", "/tools/close", "/text"])
def test_httpx_aiter_chunks(server, path):
    stream = STREAM if path.startswith("/tools") else TEXT
    check(stream, *asyncio.run(read_async(server + path)))


def test_stops_reading_at_done(server):
    start = time.monotonic()
    acc, arrivals, end = read_sync(server + "/text/linger")
    assert [c.to_dict() for _, c in arrivals] == TEXT.chunks
    assert acc.done
    assert end - start < 4  # did not wait for the lingering server


def test_async_stops_reading_at_done(server):
    start = time.monotonic()
    acc, arrivals, end = asyncio.run(read_async(server + "/text/linger"))
    assert acc.done
    assert len(arrivals) == len(TEXT.chunks)
    assert end - start < 4


def test_server_error_event_over_http(server):
    half = TEXT.chunks[: len(TEXT.chunks) // 2]
    with pytest.raises(StreamError) as info:
        read_sync(server + "/error")
    assert info.value.error == ERROR_EVENT
    assert info.value.partial == merge(half)
    with pytest.raises(StreamError) as info:
        asyncio.run(read_async(server + "/error/close"))
    assert info.value.partial == merge(half)


def test_iter_chunks_from_plain_iterables():
    body = STREAM.sse()
    assert [c.to_dict() for c in iter_chunks([body])] == STREAM.chunks
    assert [c.to_dict() for c in iter_chunks(body)] == STREAM.chunks  # a whole body
    assert [c.to_dict() for c in iter_chunks(pieces(body, 3))] == STREAM.chunks
    assert list(iter_chunks([])) == []

    async def gen():
        for p in pieces(body, 4):
            yield p

    async def collect():
        return [c.to_dict() async for c in aiter_chunks(gen())]

    assert asyncio.run(collect()) == STREAM.chunks
