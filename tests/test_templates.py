"""ChatCompletionChunk.from_json re-reads only the varying strings of a chunk laid out like
the last one (a per-thread template). These tests hold it to giving exactly what a full
parse gives."""

import json
import threading

import pytest
from chatchunk import ChatCompletionChunk, ParseError
from conftest import recorded_streams


def fresh_parse(data: bytes) -> ChatCompletionChunk:
    """Parse on a new thread, which has no template yet."""
    out = []
    thread = threading.Thread(target=lambda: out.append(ChatCompletionChunk.from_json(data)))
    thread.start()
    thread.join()
    return out[0]


def chunk_bytes(content: str, obfuscation: str = "ab") -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-t",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
            "obfuscation": obfuscation,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


@pytest.mark.parametrize("name, payloads", recorded_streams())
def test_chunk_by_chunk_equals_full_parses(name, payloads):
    kept = [ChatCompletionChunk.from_json(p) for p in payloads]
    for chunk, payload in zip(kept, payloads):
        assert chunk == fresh_parse(payload.encode()), name
        assert json.loads(chunk.to_json()) == json.loads(payload), name


def test_a_held_chunk_is_not_changed_by_the_next_parse():
    first = ChatCompletionChunk.from_json(chunk_bytes("one", "x1"))
    second = ChatCompletionChunk.from_json(chunk_bytes("two", "x2"))
    third = ChatCompletionChunk.from_json(chunk_bytes('th"r\\ee é', "x3"))
    assert [c.choices[0].delta.content for c in (first, second, third)] == [
        "one",
        "two",
        'th"r\\ee é',
    ]
    assert [c.extra["obfuscation"] for c in (first, second, third)] == ["x1", "x2", "x3"]


def test_bad_text_in_a_hole_is_still_a_positioned_parse_error():
    ChatCompletionChunk.from_json(chunk_bytes("warm up"))
    good = chunk_bytes("abc")
    bad = good.replace(b'"abc"', b'"a\x01c"')
    with pytest.raises(ParseError) as e:
        ChatCompletionChunk.from_json(bad)
    assert e.value.path == "$.choices[0].delta.content"
    assert e.value.line == 1 and bad[e.value.offset] == 0x01


def test_strict_parses_never_use_a_lenient_template():
    lenient = chunk_bytes("x").replace(b'"index":0', b'"index":"0"')
    assert ChatCompletionChunk.from_json(lenient).choices[0].index == 0
    again = lenient.replace(b'"x"', b'"y"')
    with pytest.raises(ParseError):
        ChatCompletionChunk.from_json(again, strict=True)
    assert ChatCompletionChunk.from_json(again).to_dict() == json.loads(again)
