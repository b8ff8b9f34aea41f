"""Property tests: generated chunk dicts round-trip losslessly, and no input --
bytes or text -- makes the parser raise anything but ParseError."""

from __future__ import annotations

import json
from typing import Any

import chatchunk
from chatchunk import ChatCompletionChunk, ParseError
from conftest import FIELDS, assert_matches_dict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

I64 = st.integers(-(2**63), 2**63 - 1)
U64 = st.integers(0, 2**64 - 1)
U32 = st.integers(0, 2**32 - 1)
TEXT = st.text(max_size=12)
FINITE = st.floats(allow_nan=False, allow_infinity=False)

json_scalars = st.one_of(st.none(), st.booleans(), I64, FINITE, TEXT)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def model(
    draw, cls_name: str, fields: dict[str, st.SearchStrategy], required: tuple[str, ...] = ()
) -> dict:
    """A dict for ``cls_name``: each field absent, null or a value; plus extras."""
    known = FIELDS[cls_name]
    assert set(fields) == known, cls_name
    d: dict[str, Any] = {}
    for key, strategy in fields.items():
        state = draw(
            st.sampled_from(("value", "null") if key in required else ("absent", "null", "value"))
        )
        if state == "null":
            d[key] = None
        elif state == "value":
            d[key] = draw(strategy)
    extras = draw(st.dictionaries(TEXT.filter(lambda k: k not in known), json_values, max_size=2))
    d.update(extras)
    order = draw(st.permutations(list(d)))
    return {k: d[k] for k in order}


index = st.one_of(U32, U32.map(str))
byte_list = st.lists(st.one_of(st.integers(0, 255), I64), max_size=4)
stop_reason = st.one_of(I64, TEXT, I64.map(lambda i: {"Int": i}), TEXT.map(lambda s: {"String": s}))
arguments = st.one_of(
    TEXT, st.dictionaries(TEXT, json_values, max_size=3), st.lists(json_values, max_size=2)
)

top_logprob = model("ChatCompletionLogProb", {"token": TEXT, "logprob": FINITE, "bytes": byte_list})
logprob_content = model(
    "ChatCompletionLogProbsContent",
    {
        "token": TEXT,
        "logprob": FINITE,
        "bytes": byte_list,
        "top_logprobs": st.lists(top_logprob, max_size=2),
    },
)
logprobs = model(
    "ChatCompletionLogProbs",
    {
        "content": st.lists(logprob_content, max_size=2),
        "refusal": st.lists(logprob_content, max_size=1),
    },
)
function = model("ChatCompletionChunkDeltaToolCallFunction", {"name": TEXT, "arguments": arguments})
function_call = model("FunctionCall", {"name": TEXT, "arguments": arguments})
tool_call = model(
    "ChatCompletionChunkDeltaToolCall",
    {"index": index, "id": TEXT, "type": TEXT, "function": function},
)
delta = model(
    "ChatCompletionChunkDelta",
    {
        "role": TEXT,
        "content": TEXT,
        "refusal": TEXT,
        "reasoning_content": TEXT,
        "reasoning": TEXT,
        "tool_calls": st.lists(tool_call, max_size=2),
        "function_call": function_call,
    },
)
choice = model(
    "ChatCompletionChunkChoice",
    {
        "index": index,
        "delta": delta,
        "finish_reason": TEXT,
        "logprobs": logprobs,
        "stop_reason": stop_reason,
    },
)
prompt_details = model("PromptTokensDetails", {"cached_tokens": U64, "audio_tokens": U64})
completion_details = model(
    "CompletionTokensDetails",
    {
        "reasoning_tokens": U64,
        "audio_tokens": U64,
        "accepted_prediction_tokens": U64,
        "rejected_prediction_tokens": U64,
    },
)
usage = model(
    "CompletionUsage",
    {
        "prompt_tokens": U64,
        "completion_tokens": U64,
        "total_tokens": U64,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": completion_details,
    },
)
chunk = model(
    "ChatCompletionChunk",
    {
        "id": TEXT,
        "object": st.one_of(st.just("chat.completion.chunk"), TEXT),
        "created": I64,
        "model": TEXT,
        "choices": st.lists(choice, max_size=3),
        "usage": usage,
        "system_fingerprint": TEXT,
        "service_tier": TEXT,
    },
    required=("choices",),
)


@SETTINGS
@given(chunk, st.booleans())
@example(
    {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": "0",
                "delta": {"tool_calls": [{"index": "1", "function": {"arguments": {"a": [1.5]}}}]},
                "stop_reason": {"Int": -1},
            }
        ],
        "": None,
    },
    False,
)
def test_generated_chunks_round_trip(d, ascii_only):
    text = json.dumps(d, ensure_ascii=ascii_only)
    c = ChatCompletionChunk.from_json(text)
    assert c.to_dict() == d
    assert json.loads(c.to_json()) == d
    assert ChatCompletionChunk.from_dict(d) == c
    assert ChatCompletionChunk.from_json(text.encode()) == c
    assert ChatCompletionChunk.from_json(c.to_json()) == c
    assert_matches_dict(c, d)
    dump = c.model_dump()
    assert json.loads(c.model_dump_json()) == dump
    assert set(dump) == FIELDS["ChatCompletionChunk"] | (d.keys() - FIELDS["ChatCompletionChunk"])


BY_CLASS = {
    "ChatCompletionChunkChoice": choice,
    "ChatCompletionChunkDelta": delta,
    "ChatCompletionChunkDeltaToolCall": tool_call,
    "ChatCompletionChunkDeltaToolCallFunction": function,
    "FunctionCall": function_call,
    "ChatCompletionLogProbs": logprobs,
    "ChatCompletionLogProbsContent": logprob_content,
    "ChatCompletionLogProb": top_logprob,
    "CompletionUsage": usage,
    "PromptTokensDetails": prompt_details,
    "CompletionTokensDetails": completion_details,
}
any_part = st.one_of(*[s.map(lambda d, n=n: (n, d)) for n, s in BY_CLASS.items()])


@SETTINGS
@given(any_part)
def test_generated_parts_round_trip(part):
    # Every nested class on its own: deep fields are rare in whole chunks.
    name, d = part
    cls = getattr(chatchunk, name)
    c = cls.from_json(json.dumps(d))
    assert type(c) is cls
    assert c.to_dict() == d
    assert json.loads(c.to_json()) == d
    assert cls.from_dict(d) == c
    assert cls(**d) == c
    assert_matches_dict(c, d)
    assert json.loads(c.model_dump_json()) == c.model_dump()


def _only_parse_error(data: bytes | str) -> None:
    try:
        c = ChatCompletionChunk.from_json(data)
    except ParseError as e:
        assert type(e) is ParseError
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        assert e.offset is not None and 0 <= e.offset <= size
        assert e.line is not None and e.line >= 1 and e.column is not None and e.column >= 1
        assert e.path.startswith("$")
    else:
        # accepted: then it was a JSON object that Python reads the same way
        assert json.loads(c.to_json()) == json.loads(data)


@SETTINGS
@given(st.binary(max_size=200))
@example(b"")
@example(b"\xff")
@example(b'{"choices": []}\xff')
@example(b'{"choices": [], "\xc3": 1}')
def test_arbitrary_bytes_only_raise_parse_error(data):
    _only_parse_error(data)


@SETTINGS
@given(st.text(max_size=200))
@example("")
@example("{")
@example('{"choices"')
@example('{"choices": [{"index": "0"')
def test_arbitrary_text_only_raises_parse_error(data):
    _only_parse_error(data)


LONE_SURROGATES = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2)


@st.composite
def text_with_lone_surrogate(draw) -> str:
    """Some text (arbitrary, or a valid chunk's JSON) with lone surrogates spliced in."""
    base = draw(
        st.one_of(st.text(max_size=40), chunk.map(lambda d: json.dumps(d, ensure_ascii=False)))
    )
    pos = draw(st.integers(0, len(base)))
    return base[:pos] + draw(LONE_SURROGATES) + base[pos:]


@SETTINGS
@given(text_with_lone_surrogate())
def test_text_with_lone_surrogates_raises_parse_error(data):
    # Python strs may hold lone surrogates (not encodable as UTF-8); they are
    # invalid input like any other and must be reported as ParseError.
    assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in data)
    try:
        ChatCompletionChunk.from_json(data)
    except ParseError as e:
        assert type(e) is ParseError
    else:
        raise AssertionError("accepted a str that is not valid Unicode")


@st.composite
def mutated_chunk_text(draw) -> bytes:
    """A valid chunk's JSON with a few bytes deleted, replaced or inserted."""
    data = bytearray(json.dumps(draw(chunk), ensure_ascii=draw(st.booleans())).encode())
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(("delete", "replace", "insert")))
        byte = draw(st.sampled_from(b'{}[]",:0-.eE\\ \xff\x00tfnu'))
        if op == "delete" and pos < len(data):
            del data[pos]
        elif op == "replace" and pos < len(data):
            data[pos] = byte
        else:
            data.insert(pos, byte)
    return bytes(data)


@SETTINGS
@given(mutated_chunk_text())
def test_mutated_chunks_only_raise_parse_error(data):
    try:
        c = ChatCompletionChunk.from_json(data)
    except ParseError as e:
        assert 0 <= e.offset <= len(data) and e.path.startswith("$")
        try:
            e2 = ChatCompletionChunk.from_json(data.decode("utf-8"))
        except UnicodeDecodeError:
            return
        except ParseError as err:
            e2 = err
        else:
            raise AssertionError("str accepted what bytes rejected")
        assert (e2.line, e2.column, e2.offset, e2.path) == (e.line, e.column, e.offset, e.path)
    else:
        assert json.loads(c.to_json()) == json.loads(data)
