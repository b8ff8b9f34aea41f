"""Errors in streams: server error events, bad chunks, oversized events, truncated
streams; in each case nothing received is lost."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chatchunk
import corpus
from chatchunk import (
    ParseError,
    StreamAccumulator,
    StreamError,
    iter_chunks,
    merge,
    merge_sse,
    parse_sse,
)


def content_chunk(text: str, **extra) -> dict:
    return {
        "id": "chatcmpl-e1",
        "object": "chat.completion.chunk",
        "created": 1753000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        **extra,
    }


def sse(*events: str) -> bytes:
    return "".join(e + "\n\n" for e in events).encode()


def data(obj) -> str:
    return "data: " + json.dumps(obj, separators=(",", ":"))


HELLO = [data(content_chunk("Hel")), data(content_chunk("lo"))]

OPENAI_ERROR = {
    "error": {
        "message": "The server is overloaded",
        "type": "server_error",
        "param": None,
        "code": "overloaded",
    }
}


def test_stream_error_is_an_exception_with_payload_and_partial():
    assert issubclass(StreamError, Exception)
    assert not issubclass(StreamError, ValueError)
    assert StreamError.__module__ == "chatchunk"
    body = sse(*HELLO, data(OPENAI_ERROR), data(content_chunk("never")), "data: [DONE]")
    with pytest.raises(StreamError) as info:
        merge_sse(body)
    err = info.value
    assert err.error == OPENAI_ERROR
    assert err.partial.choices[0].message.content == "Hello"
    assert err.partial.id == "chatcmpl-e1"
    assert err.chunks is None
    assert "overloaded" in str(err) and "line 5" in str(err)


def test_error_event_type():
    body = sse(*HELLO, 'event: error\ndata: {"message": "rate limited", "code": 429}')
    with pytest.raises(StreamError) as info:
        merge_sse(body)
    assert info.value.error == {"message": "rate limited", "code": 429}
    assert info.value.partial.choices[0].message.content == "Hello"
    # Not JSON: the text itself; no data: None.
    with pytest.raises(StreamError) as info:
        merge_sse(sse(*HELLO, "event: error\ndata: upstream timed out"))
    assert info.value.error == "upstream timed out"
    with pytest.raises(StreamError) as info:
        merge_sse(sse(*HELLO, "event: error\ndata:"))
    assert info.value.error is None


def test_old_vllm_error_object():
    payload = {
        "object": "error",
        "message": "context too long",
        "type": "BadRequestError",
        "code": 400,
    }
    with pytest.raises(StreamError) as info:
        merge_sse(sse(*HELLO, data(payload)))
    assert info.value.error == payload
    assert info.value.partial.choices[0].message.content == "Hello"


def test_error_alongside_choices_and_null_error():
    # A chunk whose "error" is null is a chunk; a non-null one is an error even with choices.
    ok = content_chunk("!", error=None)
    assert merge_sse(sse(*HELLO, data(ok))).choices[0].message.content == "Hello!"
    bad = content_chunk("?", error={"message": "cut"})
    with pytest.raises(StreamError) as info:
        merge_sse(sse(*HELLO, data(bad)))
    assert info.value.error["error"] == {"message": "cut"}
    assert info.value.partial.choices[0].message.content == "Hello"


def test_accumulator_error_keeps_what_was_merged_and_the_chunks_of_the_call():
    body = sse(*HELLO, data(OPENAI_ERROR), data(content_chunk(" after")), "data: [DONE]")
    acc = StreamAccumulator()
    with pytest.raises(StreamError) as info:
        acc.feed(body)
    err = info.value
    assert [c.choices[0].delta.content for c in err.chunks] == ["Hel", "lo"]
    assert err.partial.choices[0].message.content == "Hello"
    assert acc.completion().choices[0].message.content == "Hello"
    assert not acc.done
    # What followed the error was received too: carrying on handles it.
    more = acc.feed(b"")
    assert [c.choices[0].delta.content for c in more] == [" after"]
    assert acc.done
    assert acc.close().choices[0].message.content == "Hello after"


def test_iter_chunks_yields_what_came_before_an_error_then_raises():
    body = sse(*HELLO, data(OPENAI_ERROR))
    got = []
    acc = StreamAccumulator()
    with pytest.raises(StreamError) as info:
        for chunk in iter_chunks([body], accumulator=acc):
            got.append(chunk.choices[0].delta.content)
    assert got == ["Hel", "lo"]
    assert info.value.partial.choices[0].message.content == "Hello"
    assert acc.completion() == info.value.partial


def test_merge_and_add_recognise_error_payloads():
    with pytest.raises(StreamError) as info:
        merge([content_chunk("Hel"), content_chunk("lo"), OPENAI_ERROR])
    assert info.value.error == OPENAI_ERROR
    assert info.value.partial.choices[0].message.content == "Hello"
    with pytest.raises(StreamError) as info:
        merge([json.dumps(content_chunk("a")), json.dumps(OPENAI_ERROR).encode()])
    assert info.value.error == OPENAI_ERROR
    assert info.value.partial.choices[0].message.content == "a"
    acc = StreamAccumulator()
    acc.add(content_chunk("Hi"))
    with pytest.raises(StreamError) as info:
        acc.add({"object": "error", "message": "nope"})
    assert info.value.error == {"object": "error", "message": "nope"}
    assert acc.completion().choices[0].message.content == "Hi"
    with pytest.raises(ParseError) as info:
        acc.add({"choices": [{"index": "x"}]})
    assert info.value.partial.choices[0].message.content == "Hi"


# ---------------------------------------------------------------------------
# Bad chunks: ParseError with a position in the whole body
# ---------------------------------------------------------------------------

BAD_BODY = (
    b": keep-alive\n\n"
    + sse(*HELLO)
    + b'data: {"choices": [{"index": 0, "delta": {"content": 5}}]}\n\n'
    + sse(data(content_chunk("!")), "data: [DONE]")
)
BAD_OFFSET = BAD_BODY.index(b"5}}]}")


def test_parse_error_position_is_relative_to_the_body():
    with pytest.raises(ParseError) as info:
        merge_sse(BAD_BODY)
    err = info.value
    assert err.offset == BAD_OFFSET
    assert err.line == 7
    line_start = BAD_BODY.rindex(b"\n", 0, BAD_OFFSET) + 1
    assert err.column == BAD_OFFSET - line_start + 1
    assert err.path == "$.choices[0].delta.content"
    assert err.partial.choices[0].message.content == "Hello"
    with pytest.raises(ParseError) as info:
        parse_sse(BAD_BODY)
    assert info.value.offset == BAD_OFFSET
    assert [c.choices[0].delta.content for c in info.value.chunks] == ["Hel", "lo"]


def test_parse_error_position_when_fed_byte_by_byte_and_nothing_lost():
    acc = StreamAccumulator()
    got = []
    errors = []
    for i in range(len(BAD_BODY)):
        try:
            got += acc.feed(BAD_BODY[i : i + 1])
        except ParseError as e:
            errors.append(e)
    assert len(errors) == 1
    assert (errors[0].line, errors[0].offset) == (7, BAD_OFFSET)
    assert [c.choices[0].delta.content for c in got] == ["Hel", "lo", "!"]
    assert acc.done
    assert acc.close().choices[0].message.content == "Hello!"


def test_parse_error_with_crlf_and_data_without_space():
    body = BAD_BODY.replace(b"\n", b"\r\n").replace(b"data: ", b"data:")
    with pytest.raises(ParseError) as info:
        merge_sse(body)
    assert info.value.offset == body.index(b"5}}]}")
    assert info.value.line == 7


def test_invalid_json_event():
    body = sse(*HELLO) + b"data: {not json\n\n"
    with pytest.raises(ParseError) as info:
        merge_sse(body)
    assert info.value.line == 5
    assert info.value.partial.choices[0].message.content == "Hello"


# ---------------------------------------------------------------------------
# Truncated streams and the end of input
# ---------------------------------------------------------------------------


def test_truncated_stream_still_merges_and_is_not_done():
    stream = corpus.make_stream("text", random.Random(2))
    body = stream.sse(done=False)
    assert merge_sse(body) == merge(stream.chunks)
    acc = StreamAccumulator()
    acc.feed(body)
    assert not acc.done
    assert acc.close() == merge(stream.chunks)
    # Cut inside an event: the cut event is a bad chunk, what arrived before it is kept.
    whole = stream.sse()
    cut = whole[: whole.index(b"\n\n", len(whole) // 2) - 5]
    with pytest.raises(ParseError) as info:
        merge_sse(cut)
    assert cut.rindex(b"data: ") < info.value.offset <= len(cut)
    assert info.value.partial.id == stream.expected["id"]
    kept = cut[: cut.rindex(b"\n\n") + 2]
    assert info.value.partial == merge_sse(kept)


def test_final_event_without_blank_line_is_flushed_by_close():
    last = json.dumps(content_chunk("!")).encode()
    for tail in (b"data: " + last, b"data: " + last + b"\n", b"data: " + last + b"\r"):
        body = sse(*HELLO) + tail
        acc = StreamAccumulator()
        assert len(acc.feed(body)) == 2
        assert acc.completion().choices[0].message.content == "Hello"
        assert acc.close().choices[0].message.content == "Hello!"
        assert merge_sse(body).choices[0].message.content == "Hello!"
        assert len(parse_sse(body)) == 3
        acc = StreamAccumulator()
        acc.feed(body)
        assert [c.choices[0].delta.content for c in acc.feed(b"", final=True)] == ["!"]


def test_closed_accumulator():
    acc = StreamAccumulator()
    acc.feed(sse(*HELLO))
    first = acc.close()
    assert acc.close() == first
    assert acc.completion() == first
    with pytest.raises(ValueError, match="closed"):
        acc.feed(b"data: {}\n\n")
    with pytest.raises(ValueError, match="closed"):
        acc.add(content_chunk("x"))
    assert repr(acc) == "StreamAccumulator(chunks=2, done=False, closed=True)"


def test_done_ends_the_stream():
    body = sse(*HELLO, "data: [DONE]", data(content_chunk("ignored")), "data: {broken")
    acc = StreamAccumulator()
    assert len(acc.feed(body)) == 2
    assert acc.done
    assert acc.feed(b"data: more\n\n") == []
    assert acc.close().choices[0].message.content == "Hello"
    assert merge_sse(body).choices[0].message.content == "Hello"


def test_feed_accepts_bytes_like_and_str():
    body = sse(*HELLO)
    for piece in (body, bytearray(body), memoryview(body), body.decode()):
        acc = StreamAccumulator()
        assert len(acc.feed(piece)) == 2
    with pytest.raises(TypeError):
        StreamAccumulator().feed(5)


# ---------------------------------------------------------------------------
# Oversized events
# ---------------------------------------------------------------------------


def test_oversized_event_is_a_stream_error():
    big = data(content_chunk("x" * 500))
    body = sse(*HELLO, big, "data: [DONE]")
    acc = StreamAccumulator(max_event_size=300)
    with pytest.raises(StreamError) as info:
        acc.feed(body)
    err = info.value
    assert err.error is None
    assert "larger than 300 bytes" in str(err)
    assert err.partial.choices[0].message.content == "Hello"
    assert len(err.chunks) == 2
    # Final: every later call fails the same way, and the merge so far stays.
    with pytest.raises(StreamError, match="larger than 300"):
        acc.feed(b"")
    with pytest.raises(StreamError, match="larger than 300"):
        acc.close()
    assert acc.completion().choices[0].message.content == "Hello"
    with pytest.raises(StreamError, match="larger than 300"):
        merge_sse(body, max_event_size=300)
    with pytest.raises(StreamError, match="larger than 300"):
        parse_sse(body, max_event_size=300)
    assert merge_sse(body, max_event_size=1000).choices[0].message.content == "Hello" + "x" * 500


def test_default_limit_is_16_mib_and_memory_stays_bounded():
    acc = StreamAccumulator()
    acc.feed(sse(*HELLO))
    piece = b"x" * (1024 * 1024)
    acc.feed(b'data: {"choices":[{"index":0,"delta":{"content":"')
    with pytest.raises(StreamError, match="larger than 16777216 bytes"):
        for _ in range(40):
            acc.feed(piece)
    assert acc.completion().choices[0].message.content == "Hello"


def test_max_event_size_must_be_positive():
    with pytest.raises(ValueError):
        StreamAccumulator(max_event_size=0)
    with pytest.raises((OverflowError, TypeError, ValueError)):
        StreamAccumulator(max_event_size=-1)
    with pytest.raises(ValueError):
        merge_sse(b"", max_event_size=0)
    with pytest.raises(TypeError):
        StreamAccumulator(1024)  # keyword-only


def test_parse_error_outside_streams_has_no_partial():
    with pytest.raises(ParseError) as info:
        chatchunk.ChatCompletionChunk.from_json("{")
    assert info.value.partial is None
    assert info.value.chunks is None
    assert StreamError("x").error is None
