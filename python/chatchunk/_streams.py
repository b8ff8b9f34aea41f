"""Chunks from a streamed HTTP response body as its bytes arrive (httpx, aiohttp, requests)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Optional, Union

from chatchunk._core import ChatCompletionChunk, ParseError, StreamAccumulator, StreamError

_Bytes = Union[bytes, bytearray, memoryview]


def iter_chunks(
    body: Iterable[_Bytes], *, accumulator: Optional[StreamAccumulator] = None
) -> Iterator[ChatCompletionChunk]:
    """Yield the chunks of an SSE body as its pieces arrive (``response.iter_bytes()``).

    Stops reading at ``data: [DONE]``. Pass an ``accumulator`` to read the merged
    ``accumulator.completion()`` afterwards (or while iterating). A server error event raises
    ``StreamError`` and a bad chunk ``ParseError``, after the chunks received before it have
    been yielded; both carry ``.partial``, the completion merged so far.
    """
    acc = StreamAccumulator() if accumulator is None else accumulator
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = (body,)
    for data in body:
        yield from _feed(acc, data, False)
        if acc.done:
            break
    yield from _feed(acc, b"", True)


async def aiter_chunks(
    body: AsyncIterable[_Bytes], *, accumulator: Optional[StreamAccumulator] = None
) -> AsyncIterator[ChatCompletionChunk]:
    """``iter_chunks`` for an async body (``response.aiter_bytes()``, aiohttp's ``iter_any()``)."""
    acc = StreamAccumulator() if accumulator is None else accumulator
    async for data in body:
        for chunk in _feed(acc, data, False):
            yield chunk
        if acc.done:
            break
    for chunk in _feed(acc, b"", True):
        yield chunk


def _feed(acc: StreamAccumulator, data: _Bytes, final: bool) -> Iterator[ChatCompletionChunk]:
    try:
        chunks = acc.feed(data, final)
    except (StreamError, ParseError) as error:
        # Nothing received is lost: what the failing piece completed comes first.
        yield from error.chunks or ()
        raise
    yield from chunks
