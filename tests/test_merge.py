"""Merging streams into ChatCompletion: the corpus oracle, openai-python's accumulator,
every input form, and the result classes' protocol."""

from __future__ import annotations

import copy
import json
import pickle
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chatchunk
import corpus
from chatchunk import (
    ChatCompletion,
    ChatCompletionChunk,
    StreamAccumulator,
    merge,
    merge_sse,
    parse_sse,
)
from conftest import RECORDED_DIR, completion_view, sse_data_payloads

SEEDS = range(12)

# ---------------------------------------------------------------------------
# The merged completion as the corpus writes its expectations
# ---------------------------------------------------------------------------


def feed_in_pieces(body: bytes, rng: random.Random) -> tuple[ChatCompletion, list]:
    acc = StreamAccumulator()
    chunks = []
    pos = 0
    while pos < len(body):
        step = rng.randint(1, 97)
        chunks += acc.feed(body[pos : pos + step])
        pos += step
    chunks += acc.feed(b"", final=True)
    return acc.close(), chunks


# ---------------------------------------------------------------------------
# Every corpus kind merges to its expected completion, from every input form
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", corpus.KINDS)
def test_corpus_kind_merges_to_expected(kind):
    for seed in SEEDS:
        stream = corpus.make_stream(kind, random.Random(seed))
        expected = stream.expected
        where = (kind, seed, stream.variant)
        from_dicts = merge(stream.chunks)
        assert completion_view(from_dicts) == expected, where
        body = stream.sse()
        assert merge_sse(body) == from_dicts, where
        assert merge([json.dumps(c) for c in stream.chunks]) == from_dicts, where
        assert merge([json.dumps(c).encode() for c in stream.chunks]) == from_dicts, where
        parsed = parse_sse(body)
        assert [c.to_dict() for c in parsed] == stream.chunks, where
        assert merge(parsed) == from_dicts, where
        fed, chunks = feed_in_pieces(body, random.Random(seed))
        assert fed == from_dicts, where
        assert [c.to_dict() for c in chunks] == stream.chunks, where
        acc = StreamAccumulator()
        for c in stream.chunks:
            acc.add(c)
        assert acc.completion() == from_dicts, where


def test_mistral_tool_call_without_type_is_a_function_call():
    # The corpus expects None where the stream never sent a type; openai's model requires it.
    seen = 0
    for seed in range(40):
        stream = corpus.make_stream("mistral_no_index", random.Random(seed))
        if stream.variant != "no_type":
            continue
        seen += 1
        completion = merge(stream.chunks)
        calls = completion.choices[0].message.tool_calls
        assert calls and all(c.type == "function" for c in calls)
        assert completion.to_openai().choices[0].message.tool_calls[0].type == "function"
    assert seen > 5


def test_many_streams_merge_independently():
    streams = corpus.make_streams(3 * len(corpus.KINDS), seed=7)
    for stream in streams:
        assert completion_view(merge_sse(stream.sse(line_end="\r\n"))) == stream.expected, (
            stream.kind
        )


def test_sse_framing_examples():
    bodies = corpus.chunk_sse_examples()
    streams = corpus.chunk_sse_example_streams()
    for name, body in bodies.items():
        stream = streams[name]
        assert completion_view(merge_sse(body)) == stream.expected, name
        assert [c.to_dict() for c in parse_sse(body)] == stream.chunks, name


def test_interleaved_streams_demultiplexed_by_stream_merge_each():
    streams = corpus.make_streams(2 * len(corpus.KINDS), seed=3)
    accs = [StreamAccumulator() for _ in streams]
    for no, chunk in corpus.interleave(streams, random.Random(5)):
        accs[no].add(chunk)
    for stream, acc in zip(streams, accs):
        assert completion_view(acc.completion()) == stream.expected, stream.kind


# ---------------------------------------------------------------------------
# The recorded OpenAI streams: the same result as openai-python's accumulator
# ---------------------------------------------------------------------------

RECORDED = sorted(RECORDED_DIR.glob("*.sse"))


def openai_snapshot(body: bytes):
    from openai._models import construct_type
    from openai.lib.streaming.chat import ChatCompletionStreamState
    from openai.types.chat import ChatCompletionChunk as OpenAIChunk

    state = ChatCompletionStreamState()
    for payload in sse_data_payloads(body.decode("utf-8")):
        if payload == "[DONE]":
            break
        # As openai's Stream does: construct the chunk from its JSON without validation.
        chunk = construct_type(type_=OpenAIChunk, value=json.loads(payload))
        state.handle_chunk(chunk)
    return state.current_completion_snapshot


def assert_same_as_openai(ours: ChatCompletion, theirs) -> None:
    assert ours.id == theirs.id
    assert ours.model == theirs.model
    assert ours.created == theirs.created
    assert ours.object == "chat.completion"
    assert ours.system_fingerprint == theirs.system_fingerprint
    assert ours.service_tier == theirs.service_tier
    assert len(ours.choices) == len(theirs.choices)
    for mine, other in zip(ours.choices, sorted(theirs.choices, key=lambda c: c.index)):
        assert mine.index == other.index
        assert mine.finish_reason == other.finish_reason
        m, o = mine.message, other.message
        assert m.role == o.role
        assert m.content == o.content
        assert m.refusal == o.refusal
        if o.tool_calls is None:
            assert m.tool_calls is None
        else:
            assert [
                (t.id, t.type, t.function.name, t.function.arguments) for t in m.tool_calls
            ] == [(t.id, t.type, t.function.name, t.function.arguments) for t in o.tool_calls]
            for t in m.tool_calls:
                json.loads(t.function.arguments)  # whole, valid JSON
        if other.logprobs is None:
            assert mine.logprobs is None
        else:
            for key in ("content", "refusal"):
                theirs_lp = getattr(other.logprobs, key)
                ours_lp = getattr(mine.logprobs, key)
                if theirs_lp is None:
                    assert ours_lp is None
                else:
                    assert [x.to_dict() for x in ours_lp] == [
                        x.model_dump(exclude_unset=True) for x in theirs_lp
                    ]
    if theirs.usage is None:
        assert ours.usage is None
    else:
        assert ours.usage.to_dict() == theirs.usage.model_dump(exclude_unset=True)


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_recorded_stream_matches_openai_accumulator(path):
    body = path.read_bytes()
    theirs = openai_snapshot(body)
    ours = merge_sse(body)
    assert_same_as_openai(ours, theirs)
    acc = StreamAccumulator()
    fed = []
    for i in range(len(body)):
        fed += acc.feed(body[i : i + 1])
    assert acc.done
    assert acc.close() == ours
    chunks = parse_sse(body)
    assert [c.to_dict() for c in fed] == [c.to_dict() for c in chunks]
    assert merge(chunks) == ours
    # A finished stream validates as openai's ChatCompletion, through to_dict and to_openai.
    from openai.types.chat import ChatCompletion as OpenAICompletion

    assert ours.to_dict()["object"] == "chat.completion"
    validated = OpenAICompletion.model_validate(ours.to_dict())
    assert validated == ours.to_openai()
    assert isinstance(ours.to_openai(), OpenAICompletion)
    assert ChatCompletion.from_openai(ours.to_openai()).to_openai() == ours.to_openai()


def test_recorded_streams_exist():
    assert len(RECORDED) >= 10


def test_openai_chunk_objects_merge():
    from openai.types.chat import ChatCompletionChunk as OpenAIChunk

    body = RECORDED[0].read_bytes()
    payloads = [p for p in sse_data_payloads(body.decode()) if p != "[DONE]"]
    objects = [OpenAIChunk.model_validate_json(p) for p in payloads]
    assert merge(objects) == merge_sse(body)


# ---------------------------------------------------------------------------
# Input forms and the result classes
# ---------------------------------------------------------------------------


def _text_stream(seed: int = 1) -> corpus.Stream:
    return corpus.make_stream("tool_calls", random.Random(seed))


def test_merge_accepts_mixed_inputs_and_generators():
    stream = _text_stream()
    forms = []
    for i, c in enumerate(stream.chunks):
        text = json.dumps(c)
        forms.append(
            [
                c,
                text,
                text.encode(),
                bytearray(text.encode()),
                memoryview(text.encode()),
                ChatCompletionChunk.from_dict(c),
            ][i % 6]
        )
    reference = merge(stream.chunks)
    assert merge(forms) == reference
    assert merge(iter(forms)) == reference
    assert merge(c for c in stream.chunks) == reference
    assert merge(tuple(stream.chunks)) == reference


def test_merge_of_nothing():
    empty = merge([])
    assert empty.choices == []
    assert empty.object == "chat.completion"
    assert empty.id is None and empty.usage is None
    assert empty.to_dict() == {"choices": [], "object": "chat.completion"}
    assert merge_sse(b"") == empty
    assert merge_sse(b"data: [DONE]\n\n") == empty
    assert parse_sse(b"") == []


def test_merge_rejects_what_is_not_a_chunk():
    with pytest.raises(TypeError, match="int"):
        merge([{"choices": []}, 5])
    with pytest.raises(TypeError):
        merge(5)
    with pytest.raises(chatchunk.ParseError) as info:
        merge([{"choices": [{"index": 0, "delta": {"content": "Hi"}}]}, {"choices": "x"}])
    assert info.value.path == "$.choices"
    assert info.value.partial.choices[0].message.content == "Hi"
    with pytest.raises(TypeError):
        merge_sse(["data: x"])
    with pytest.raises(TypeError, match="ChatCompletion"):
        merge([merge([])])  # a completion is not a chunk


def test_merge_borrows_chunk_objects_without_reparsing():
    # A chunk object is merged from its Rust value: one built from a dict merges the same.
    stream = _text_stream(2)
    objects = [ChatCompletionChunk.from_dict(c) for c in stream.chunks]
    assert merge(objects) == merge(stream.chunks)
    # And the objects are untouched.
    assert [o.to_dict() for o in objects] == stream.chunks


def test_completion_protocol():
    stream = corpus.make_stream("logprobs", random.Random(4))
    c = merge_sse(stream.sse())
    assert c == merge(stream.chunks)
    assert c != merge(stream.chunks[:-2])
    assert (c == "x") is False
    assert pickle.loads(pickle.dumps(c)) == c
    assert copy.copy(c) is c
    assert copy.deepcopy(c) is c
    r = repr(c)
    assert r.startswith("ChatCompletion(id=") and "ChatCompletionChoice(finish_reason=" in r
    assert "ChatCompletionMessage(content=" in r
    assert ChatCompletion.from_json(c.to_json()) == c
    assert ChatCompletion.from_dict(c.to_dict()) == c
    assert ChatCompletion(**c.to_dict()) == c
    dumped = c.model_dump()
    assert set(dumped) >= {
        "id",
        "choices",
        "created",
        "model",
        "object",
        "service_tier",
        "system_fingerprint",
        "usage",
    }
    assert set(dumped["choices"][0]) >= {
        "finish_reason",
        "index",
        "logprobs",
        "message",
        "stop_reason",
    }
    assert json.loads(c.model_dump_json()) == dumped
    assert json.loads(c.model_dump_json(indent=2)) == dumped
    with pytest.raises(AttributeError):
        c.id = "x"
    with pytest.raises(TypeError):
        hash(c)


def test_chat_completion_response_is_the_same_class():
    assert chatchunk.ChatCompletionResponse is ChatCompletion
    assert isinstance(merge([]), chatchunk.ChatCompletionResponse)


def test_tool_call_classes():
    stream = corpus.make_stream("tool_calls", random.Random(3))
    c = merge(stream.chunks)
    call = c.choices[0].message.tool_calls[0]
    assert type(call) is chatchunk.ToolCall
    assert type(call.function) is chatchunk.ToolCallFunction
    assert call.to_dict() == {
        "id": call.id,
        "function": {"name": call.function.name, "arguments": call.function.arguments},
        "type": "function",
    }
    assert chatchunk.ToolCall.from_dict(call.to_dict()) == call
    assert pickle.loads(pickle.dumps(call)) == call
    assert repr(call).startswith("ToolCall(id=")
    message = c.choices[0].message
    assert type(message) is chatchunk.ChatCompletionMessage
    assert type(c.choices[0]) is chatchunk.ChatCompletionChoice


def test_legacy_function_call_class():
    stream = corpus.make_stream("legacy_function_call", random.Random(0))
    fc = merge(stream.chunks).choices[0].message.function_call
    assert type(fc) is chatchunk.FunctionCall
    assert fc.name == stream.expected["choices"][0]["message"]["function_call"]["name"]


def test_unknown_keys_are_kept_last_value_wins():
    chunks = [
        {
            "id": "c1",
            "choices": [{"index": 0, "delta": {"content": "a", "x_delta": 1}, "x_choice": 1}],
            "obfuscation": "aa",
            "x_first_only": True,
        },
        {
            "id": "c1",
            "choices": [{"index": 0, "delta": {"content": "b", "x_delta": 2}, "x_choice": 2}],
            "obfuscation": "b",
        },
    ]
    c = merge(chunks)
    assert c.extra == {"obfuscation": "b", "x_first_only": True}
    assert c.choices[0].extra == {"x_choice": 2}
    assert c.choices[0].message.extra == {"x_delta": 2}
    assert c.choices[0].message.content == "ab"


def test_to_dict_of_an_unfinished_stream_is_written_as_merged():
    c = merge([{"choices": [{"index": 0, "delta": {"content": "par"}}]}])
    d = c.to_dict()
    assert d["object"] == "chat.completion"
    assert d["choices"] == [
        {
            "finish_reason": None,
            "index": 0,
            "message": {"content": "par", "role": "assistant"},
        }
    ]
    # openai requires an id, a model, a creation time and a finish reason.
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        c.to_openai()


def test_absurd_indices_merge_without_huge_memory():
    import resource

    big = 4294967295
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    chunks = [
        {"id": "x", "choices": [{"index": big, "delta": {"content": "far"}}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"content": "near"}}]},
        {
            "id": "x",
            "choices": [
                {
                    "index": big,
                    "delta": {
                        "tool_calls": [
                            {"index": big, "id": "t1", "function": {"name": "f", "arguments": "{"}},
                            {"index": 0, "id": "t0", "function": {"name": "g", "arguments": "[]"}},
                        ]
                    },
                }
            ],
        },
        {
            "id": "x",
            "choices": [
                {
                    "index": big,
                    "delta": {"tool_calls": [{"index": big, "function": {"arguments": "}"}}]},
                }
            ],
        },
    ]
    c = merge(chunks)
    body = corpus.to_sse(chunks)
    assert merge_sse(body) == c
    acc = StreamAccumulator()
    for i in range(len(body)):
        acc.feed(body[i : i + 1])
    assert acc.close() == c
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 100_000  # KiB: far from 4 billion of anything
    assert [ch.index for ch in c.choices] == [0, big]
    assert c.choices[0].message.content == "near"
    far = c.choices[1].message
    assert far.content == "far"
    assert [(t.id, t.function.name, t.function.arguments) for t in far.tool_calls] == [
        ("t0", "g", "[]"),
        ("t1", "f", "{}"),
    ]
    # An index beyond u32 is not an index: a ParseError, not an allocation.
    with pytest.raises(chatchunk.ParseError):
        merge([{"choices": [{"index": 2**40, "delta": {}}]}])
