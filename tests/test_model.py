"""The chunk model: parsing, lossless round trips, dumps, lenient/strict forms,
the Python object protocol, keyword construction, dict validation, errors with
position and path, and interoperation with openai-python and the Atoma SDK."""

from __future__ import annotations

import copy
import json
import pickle

import chatchunk
import pytest
from chatchunk import (
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionChunkDelta,
    ChatCompletionChunkDeltaToolCall,
    ChatCompletionChunkDeltaToolCallFunction,
    ChatCompletionLogProb,
    ChatCompletionLogProbs,
    ChatCompletionLogProbsContent,
    CompletionTokensDetails,
    CompletionUsage,
    FunctionCall,
    ParseError,
    PromptTokensDetails,
)
from conftest import (
    FIELDS,
    SEED_JSON,
    assert_matches_dict,
    compact_json,
    parse_in_subprocess,
)
from corpus import make_streams

MODEL_CLASSES: dict[str, type] = {name: getattr(chatchunk, name) for name in FIELDS}

HEAD = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1700000000, "model": "m"}


def chunk_json(**fields) -> str:
    return json.dumps({**HEAD, **fields})


def parse_error(fn, *args, **kwargs) -> ParseError:
    with pytest.raises(ParseError) as info:
        fn(*args, **kwargs)
    assert type(info.value) is ParseError
    return info.value


# ---------------------------------------------------------------------------
# The seed example
# ---------------------------------------------------------------------------


def test_seed_attributes(seed_json):
    c = ChatCompletionChunk.from_json(seed_json)
    assert c.id == "chatcmpl-123"
    assert c.object == "chat.completion.chunk"
    assert c.created == 1694268190 and type(c.created) is int
    assert c.model == "gpt-4o-mini"
    assert c.system_fingerprint == "fp_44709d6fcb"
    assert c.service_tier is None
    assert len(c.choices) == 1
    choice = c.choices[0]
    assert isinstance(choice, ChatCompletionChunkChoice)
    assert choice.index == 0 and type(choice.index) is int
    assert choice.finish_reason is None
    assert choice.logprobs is None
    assert choice.stop_reason is None
    assert isinstance(choice.delta, ChatCompletionChunkDelta)
    assert choice.delta.role == "assistant"
    assert choice.delta.content == "Hello"
    assert choice.delta.tool_calls is None
    assert choice.delta.function_call is None
    assert choice.delta.refusal is None
    assert choice.delta.reasoning_content is None
    assert choice.delta.reasoning is None
    assert isinstance(c.usage, CompletionUsage)
    assert (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens) == (20, 1, 21)
    assert isinstance(c.usage.prompt_tokens_details, PromptTokensDetails)
    assert c.usage.prompt_tokens_details.cached_tokens == 10
    assert c.usage.prompt_tokens_details.audio_tokens is None
    assert c.usage.completion_tokens_details is None
    assert c.extra == {}
    assert choice.extra == {} and choice.delta.extra == {} and c.usage.extra == {}


def test_seed_round_trip(seed_json, seed_dict):
    c = ChatCompletionChunk.from_json(seed_json)
    assert c.to_dict() == seed_dict
    text = c.to_json()
    assert json.loads(text) == seed_dict
    # compact: no insignificant whitespace, non-ASCII not escaped
    assert text == compact_json(json.loads(text))
    assert ChatCompletionChunk.from_dict(seed_dict) == c
    assert ChatCompletionChunk.model_validate(seed_dict) == c
    assert ChatCompletionChunk.from_json(text) == c
    assert_matches_dict(c, seed_dict)


def test_seed_parses_strictly(seed_json):
    assert ChatCompletionChunk.from_json(seed_json, strict=True) == ChatCompletionChunk.from_json(
        seed_json
    )
    assert ChatCompletionChunk.from_dict(
        json.loads(seed_json), strict=True
    ).to_dict() == json.loads(seed_json)


def test_seed_model_dump(seed_json):
    c = ChatCompletionChunk.from_json(seed_json)
    expected = {
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "role": "assistant",
                    "content": "Hello",
                    "refusal": None,
                    "reasoning_content": None,
                    "reasoning": None,
                    "tool_calls": None,
                    "function_call": None,
                },
                "finish_reason": None,
                "logprobs": None,
                "stop_reason": None,
            }
        ],
        "usage": {
            "prompt_tokens": 20,
            "completion_tokens": 1,
            "total_tokens": 21,
            "prompt_tokens_details": {"cached_tokens": 10, "audio_tokens": None},
            "completion_tokens_details": None,
        },
        "system_fingerprint": "fp_44709d6fcb",
        "service_tier": None,
    }
    assert c.model_dump() == expected
    assert json.loads(c.model_dump_json()) == expected
    assert c.model_dump(exclude_none=True) == {
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hello"}}],
        "usage": {
            "prompt_tokens": 20,
            "completion_tokens": 1,
            "total_tokens": 21,
            "prompt_tokens_details": {"cached_tokens": 10},
        },
        "system_fingerprint": "fp_44709d6fcb",
    }
    assert json.loads(c.model_dump_json(exclude_none=True)) == c.model_dump(exclude_none=True)


def test_model_dump_json_formatting(seed_json):
    c = ChatCompletionChunk.from_json(seed_json)
    compact = c.model_dump_json()
    assert "\n" not in compact and compact == compact_json(json.loads(compact))
    pretty = c.model_dump_json(indent=2)
    assert json.loads(pretty) == c.model_dump()
    assert pretty == json.dumps(c.model_dump(), indent=2, ensure_ascii=False)
    assert pretty.splitlines()[1] == '  "id": "chatcmpl-123",'
    four = c.model_dump_json(indent=4, exclude_none=True)
    assert four.splitlines()[1] == '    "id": "chatcmpl-123",'


# ---------------------------------------------------------------------------
# Input types
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda s: s, id="str"),
        pytest.param(lambda s: s.encode(), id="bytes"),
        pytest.param(lambda s: bytearray(s.encode()), id="bytearray"),
        pytest.param(lambda s: memoryview(s.encode()), id="memoryview"),
        pytest.param(lambda s: memoryview(b"xx" + s.encode() + b"yy")[2:-2], id="memoryview-slice"),
    ],
)
@pytest.mark.parametrize("method", ["from_json", "model_validate_json"])
def test_every_input_type(convert, method, seed_json):
    expected = ChatCompletionChunk.from_json(seed_json)
    c = getattr(ChatCompletionChunk, method)(convert(seed_json))
    assert type(c) is ChatCompletionChunk
    assert c == expected
    assert c.to_dict() == json.loads(seed_json)


def test_non_ascii_input_types_agree():
    src = chunk_json(choices=[{"index": 0, "delta": {"content": "Größe 日本語 🙂 \u2028"}}])
    via = [
        ChatCompletionChunk.from_json(src),
        ChatCompletionChunk.from_json(src.encode()),
        ChatCompletionChunk.from_json(bytearray(src.encode())),
        ChatCompletionChunk.from_json(memoryview(src.encode())),
        ChatCompletionChunk.from_json(json.dumps(json.loads(src), ensure_ascii=False)),
    ]
    for c in via:
        assert c == via[0]
        assert c.choices[0].delta.content == "Größe 日本語 🙂 \u2028"
    assert "Größe" in via[0].to_json()  # written as UTF-8, not \u-escaped


@pytest.mark.parametrize("bad", [None, 42, 1.5, {"choices": []}, ["{}"], object()])
def test_from_json_rejects_non_text(bad):
    with pytest.raises((TypeError, ParseError)):
        ChatCompletionChunk.from_json(bad)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_class_parses_every_input_type(name):
    cls = MODEL_CLASSES[name]
    d = {"zz_extra": [1, {"a": None}]}
    if name == "ChatCompletionChunk":
        d["choices"] = []
    src = json.dumps(d)
    objs = [
        cls.from_json(src),
        cls.model_validate_json(src.encode()),
        cls.from_json(bytearray(src.encode())),
        cls.from_json(memoryview(src.encode())),
        cls.from_dict(copy.deepcopy(d)),
        cls.model_validate(copy.deepcopy(d)),
        cls(**copy.deepcopy(d)),
    ]
    for obj in objs:
        assert type(obj) is cls
        assert obj == objs[0]
        assert obj.extra == {"zz_extra": [1, {"a": None}]}
        assert obj.to_dict() == d
        dumped = obj.model_dump()
        assert set(dumped) == FIELDS[name] | {"zz_extra"}
        assert all(dumped[k] is None for k in FIELDS[name] if k != "choices")


# ---------------------------------------------------------------------------
# Lossless round trip: explicit nulls and extras at every level
# ---------------------------------------------------------------------------

RICH = {
    "id": "chatcmpl-rich",
    "object": "chat.completion.chunk",
    "created": 1727346170,
    "model": "meta-llama/Llama-3.3-70B-Instruct",
    "system_fingerprint": None,
    "service_tier": "default",
    "prompt_filter_results": [
        {
            "prompt_index": 0,
            "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}},
        }
    ],
    "choices": [
        {
            "index": 0,
            "delta": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "reasoning_content": "thinking…",
                "reasoning": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_abc",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":', "fn_extra": 1},
                        "tc_extra": {"nested": [1, 2.5, None, True, "s"]},
                    }
                ],
                "function_call": {"name": None, "arguments": "", "fc_extra": None},
                "audio": None,
                "delta_extra": "x",
            },
            "logprobs": {
                "content": [
                    {
                        "token": "Hi",
                        "logprob": -0.25,
                        "bytes": [72, 105],
                        "top_logprobs": [
                            {"token": "Hi", "logprob": -0.25, "bytes": None, "tlp_extra": []}
                        ],
                        "lpc_extra": {},
                    }
                ],
                "refusal": None,
                "lp_extra": False,
            },
            "finish_reason": None,
            "stop_reason": None,
            "content_filter_results": {
                "hate": {"filtered": False, "severity": "safe"},
                "violence": {"filtered": False, "severity": "safe"},
            },
        }
    ],
    "usage": {
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "total_tokens": 14,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": None, "ptd_extra": 7},
        "completion_tokens_details": {
            "reasoning_tokens": 2,
            "audio_tokens": None,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
            "ctd_extra": "y",
        },
        "prompt_cache_hit_tokens": 0,
        "cost": 0.00012,
    },
    "signature": "MEUCIQDx5k/abc+def==",
    "response_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}


@pytest.mark.parametrize("source", ["str", "bytes", "dict", "keywords"])
def test_rich_chunk_is_lossless(source):
    text = json.dumps(RICH, ensure_ascii=False)
    if source == "str":
        c = ChatCompletionChunk.from_json(text)
    elif source == "bytes":
        c = ChatCompletionChunk.from_json(text.encode())
    elif source == "dict":
        c = ChatCompletionChunk.from_dict(copy.deepcopy(RICH))
    else:
        c = ChatCompletionChunk(**copy.deepcopy(RICH))
    assert c.to_dict() == RICH
    assert json.loads(c.to_json()) == RICH
    assert_matches_dict(c, RICH)
    assert c == ChatCompletionChunk.from_json(c.to_json())


def test_rich_chunk_extras_at_every_level():
    c = ChatCompletionChunk.from_json(json.dumps(RICH))
    assert c.extra == {
        "prompt_filter_results": RICH["prompt_filter_results"],
        "signature": RICH["signature"],
        "response_hash": RICH["response_hash"],
    }
    ch = c.choices[0]
    assert ch.extra == {"content_filter_results": RICH["choices"][0]["content_filter_results"]}
    assert ch.delta.extra == {"audio": None, "delta_extra": "x"}
    tc = ch.delta.tool_calls[0]
    assert tc.extra == {"tc_extra": {"nested": [1, 2.5, None, True, "s"]}}
    assert tc.function.extra == {"fn_extra": 1}
    assert ch.delta.function_call.extra == {"fc_extra": None}
    assert ch.logprobs.extra == {"lp_extra": False}
    assert ch.logprobs.content[0].extra == {"lpc_extra": {}}
    assert ch.logprobs.content[0].top_logprobs[0].extra == {"tlp_extra": []}
    assert c.usage.extra == {"prompt_cache_hit_tokens": 0, "cost": 0.00012}
    assert c.usage.prompt_tokens_details.extra == {"ptd_extra": 7}
    assert c.usage.completion_tokens_details.extra == {"ctd_extra": "y"}
    # every nested object is lossless on its own too
    assert ch.to_dict() == RICH["choices"][0]
    assert tc.to_dict() == RICH["choices"][0]["delta"]["tool_calls"][0]
    assert json.loads(c.usage.to_json()) == RICH["usage"]


def test_rich_chunk_model_dump_keeps_extras_and_fills_known_fields():
    c = ChatCompletionChunk.from_json(json.dumps(RICH))
    dump = c.model_dump()
    assert set(dump) == FIELDS["ChatCompletionChunk"] | {
        "prompt_filter_results",
        "signature",
        "response_hash",
    }
    assert dump["signature"] == RICH["signature"]
    choice = dump["choices"][0]
    assert set(choice) == FIELDS["ChatCompletionChunkChoice"] | {"content_filter_results"}
    assert set(choice["delta"]) == FIELDS["ChatCompletionChunkDelta"] | {"audio", "delta_extra"}
    tc = choice["delta"]["tool_calls"][0]
    assert set(tc) == FIELDS["ChatCompletionChunkDeltaToolCall"] | {"tc_extra"}
    assert tc["function"] == {"name": "get_weather", "arguments": '{"city":', "fn_extra": 1}
    top = choice["logprobs"]["content"][0]["top_logprobs"][0]
    assert top == {"token": "Hi", "logprob": -0.25, "bytes": None, "tlp_extra": []}
    assert dump["usage"]["completion_tokens_details"]["ctd_extra"] == "y"
    assert json.loads(c.model_dump_json()) == dump


EVERY_FIELD_NULL = {
    "id": None,
    "object": None,
    "created": None,
    "model": None,
    "system_fingerprint": None,
    "service_tier": None,
    "usage": None,
    "choices": [
        {
            "index": None,
            "finish_reason": None,
            "logprobs": None,
            "stop_reason": None,
            "delta": {
                "role": None,
                "content": None,
                "refusal": None,
                "reasoning_content": None,
                "reasoning": None,
                "function_call": {"name": None, "arguments": None},
                "tool_calls": [{"index": None, "id": None, "type": None, "function": None}],
            },
        },
        {"delta": None},
    ],
}


def test_explicit_nulls_are_kept_and_differ_from_absent():
    c = ChatCompletionChunk.from_json(json.dumps(EVERY_FIELD_NULL))
    assert c.to_dict() == EVERY_FIELD_NULL
    assert json.loads(c.to_json()) == EVERY_FIELD_NULL
    assert_matches_dict(c, EVERY_FIELD_NULL)
    assert c.choices[1].delta is None and c.choices[1].index is None
    assert c.choices[1].to_dict() == {"delta": None}
    # null and absent read the same but are different documents
    absent = ChatCompletionChunk.from_json('{"choices": []}')
    null = ChatCompletionChunk.from_json('{"choices": [], "usage": null}')
    assert absent.usage is None and null.usage is None
    assert absent.to_dict() == {"choices": []}
    assert null.to_dict() == {"choices": [], "usage": None}
    assert absent != null
    assert absent.model_dump() == null.model_dump()


def test_usage_with_every_detail():
    usage = {
        "prompt_tokens": 2**64 - 1,
        "completion_tokens": 0,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 1, "audio_tokens": 2},
        "completion_tokens_details": {
            "reasoning_tokens": 3,
            "audio_tokens": 4,
            "accepted_prediction_tokens": 5,
            "rejected_prediction_tokens": 6,
        },
    }
    u = CompletionUsage.from_json(json.dumps(usage), strict=True)
    assert u.prompt_tokens == 2**64 - 1
    assert u.completion_tokens == 0
    d = u.completion_tokens_details
    assert isinstance(d, CompletionTokensDetails)
    assert (
        d.reasoning_tokens,
        d.audio_tokens,
        d.accepted_prediction_tokens,
        d.rejected_prediction_tokens,
    ) == (3, 4, 5, 6)
    assert (u.prompt_tokens_details.cached_tokens, u.prompt_tokens_details.audio_tokens) == (1, 2)
    assert u.to_dict() == usage
    assert u.model_dump() == usage


def test_logprobs_model():
    lp = {
        "content": [
            {
                "token": " café",
                "logprob": -1.5e-05,
                "bytes": [32, 99, 97, 102, 195, 169],
                "top_logprobs": [
                    {"token": " café", "logprob": -1.5e-05, "bytes": [32, 99, 97, 102, 195, 169]},
                    {"token": " tea", "logprob": -9999.0, "bytes": [32, 116, 101, 97]},
                ],
            }
        ],
        "refusal": [{"token": "No", "logprob": 0.0, "bytes": [78, 111], "top_logprobs": []}],
    }
    c = ChatCompletionLogProbs.from_json(json.dumps(lp), strict=True)
    content = c.content[0]
    assert isinstance(content, ChatCompletionLogProbsContent)
    assert content.token == " café"
    assert content.logprob == -1.5e-05 and type(content.logprob) is float
    assert content.bytes == [32, 99, 97, 102, 195, 169]
    assert bytes(content.bytes).decode() == content.token
    assert all(isinstance(t, ChatCompletionLogProb) for t in content.top_logprobs)
    assert content.top_logprobs[1].logprob == -9999.0
    assert c.refusal[0].top_logprobs == []
    assert c.to_dict() == lp
    assert_matches_dict(c, lp)


def test_extra_json_values_round_trip():
    extras = {
        "s": 'a"b\\c\n\t\u0000\u001f\u2028😀',
        "i": -(2**63),
        "u": 2**64 - 1,
        "f": 1.5e-300,
        "g": 123456.789,
        "t": True,
        "n": None,
        "a": [[], {}, [[[1]]], {"k": {"k": [None]}}],
        "": "empty key",
        "ключ": "значение",
    }
    src = json.dumps({"choices": [], **extras})
    c = ChatCompletionChunk.from_json(src)
    assert c.extra == extras
    assert c.to_dict() == {"choices": [], **extras}
    assert json.loads(c.to_json()) == json.loads(src)
    assert type(c.extra["i"]) is int and type(c.extra["u"]) is int and type(c.extra["f"]) is float


def test_duplicate_keys_last_wins():
    c = ChatCompletionChunk.from_json('{"choices": [], "id": "a", "id": "b"}')
    assert c.id == "b"
    assert json.loads(c.to_json()) == json.loads('{"choices": [], "id": "a", "id": "b"}')


# ---------------------------------------------------------------------------
# Lenient forms and their strict rejections
# ---------------------------------------------------------------------------


def test_missing_header_fields_are_lenient_but_not_strict():
    for missing in ("id", "object", "created", "model"):
        d = {**HEAD, "choices": []}
        del d[missing]
        c = ChatCompletionChunk.from_json(json.dumps(d))
        assert getattr(c, missing) is None
        assert c.to_dict() == d
        e = parse_error(ChatCompletionChunk.from_json, json.dumps(d), strict=True)
        assert e.path == "$" and missing in e.message
        e = parse_error(ChatCompletionChunk.from_dict, d, strict=True)
        assert e.path == "$" and missing in e.message
        assert e.line is None and e.column is None and e.offset is None


def test_choices_is_required_even_when_lenient():
    for src in ("{}", json.dumps(HEAD)):
        e = parse_error(ChatCompletionChunk.from_json, src)
        assert "choices" in e.message and e.path == "$"
    e = parse_error(ChatCompletionChunk.from_dict, dict(HEAD))
    assert "choices" in e.message and e.path == "$"
    with pytest.raises(ParseError):
        ChatCompletionChunk(**HEAD)


def test_null_choices_read_as_empty_list():
    src = chunk_json(choices=None)
    c = ChatCompletionChunk.from_json(src)
    assert c.choices == []
    assert c.to_dict() == {**HEAD, "choices": None}
    with pytest.raises(ParseError):
        ChatCompletionChunk.from_json(src, strict=True)


def test_null_choices_canonical_dump_and_openai():
    # model_dump gives canonical forms: the attribute says [], so must the dump,
    # and the openai model (whose choices is a list) must be buildable.
    c = ChatCompletionChunk.from_json(chunk_json(choices=None))
    assert c.model_dump()["choices"] == []
    assert c.to_openai().choices == []


def test_wrong_object_type_only_rejected_when_strict():
    src = chunk_json(object="chat.completion", choices=[])
    assert ChatCompletionChunk.from_json(src).object == "chat.completion"
    e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
    assert e.path == "$" and "chat.completion.chunk" in e.message


def test_string_index_lenient():
    src = chunk_json(
        choices=[
            {
                "index": "0",
                "delta": {"tool_calls": [{"index": "2", "function": {"arguments": "{}"}}]},
            },
            {"index": "1", "delta": {}},
        ]
    )
    c = ChatCompletionChunk.from_json(src)
    assert [ch.index for ch in c.choices] == [0, 1]
    assert all(type(ch.index) is int for ch in c.choices)
    assert c.choices[0].delta.tool_calls[0].index == 2
    assert c.to_dict() == json.loads(src)  # written back as strings
    assert c.model_dump()["choices"][0]["index"] == 0
    assert c.model_dump()["choices"][0]["delta"]["tool_calls"][0]["index"] == 2
    # a quoted index is a different document from an int one
    assert c != ChatCompletionChunk.from_json(src.replace('"0"', "0"))


def test_string_index_rejected_when_strict():
    src = chunk_json(choices=[{"index": "0", "delta": {}}])
    e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
    assert e.path == "$.choices[0].index"
    src = chunk_json(
        choices=[{"index": 0, "delta": {"tool_calls": [{"index": 0}, {"index": "1"}]}}]
    )
    e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
    assert e.path == "$.choices[0].delta.tool_calls[1].index"
    e = parse_error(ChatCompletionChunk.from_dict, json.loads(src), strict=True)
    assert e.path == "$.choices[0].delta.tool_calls[1].index"


def test_quoted_index_with_leading_zero_is_lossless_or_rejected():
    # "01" is a digit string; to_dict must write back exactly what came.
    src = '{"choices": [{"index": "01", "delta": {}}]}'
    try:
        c = ChatCompletionChunk.from_json(src)
    except ParseError as e:
        assert e.path == "$.choices[0].index"
    else:
        assert c.choices[0].index == 1
        assert c.to_dict() == json.loads(src)


@pytest.mark.parametrize(
    "bad",
    [
        '"-1"',
        '" 1"',
        '"1 "',
        '"1.0"',
        '""',
        '"0x1"',
        '"+1"',
        "-1",
        "1.0",
        "true",
        "[0]",
        "{}",
        '"4294967296"',
        "4294967296",
    ],
)
def test_invalid_index_rejected(bad):
    src = f'{{"choices": [{{"index": {bad}, "delta": {{}}}}]}}'
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path == "$.choices[0].index"
    src = f'{{"choices": [{{"index": 0, "delta": {{"tool_calls": [{{"index": {bad}}}]}}}}]}}'
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path == "$.choices[0].delta.tool_calls[0].index"


def test_largest_index():
    c = ChatCompletionChunk.from_json('{"choices": [{"index": 4294967295, "delta": {}}]}')
    assert c.choices[0].index == 4294967295
    c = ChatCompletionChunk.from_json('{"choices": [{"index": "4294967295", "delta": {}}]}')
    assert c.choices[0].index == 4294967295


@pytest.mark.parametrize(
    "args",
    [{"location": "Zürich", "unit": "celsius"}, {}, {"a": [1, {"b": None}], "c": True}, [1, "two"]],
)
def test_arguments_sent_as_json(args):
    src = chunk_json(
        choices=[
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": args},
                        }
                    ],
                    "function_call": {"name": "g", "arguments": args},
                },
            }
        ]
    )
    c = ChatCompletionChunk.from_json(src)
    fn = c.choices[0].delta.tool_calls[0].function
    assert isinstance(fn, ChatCompletionChunkDeltaToolCallFunction)
    assert fn.arguments == compact_json(args)
    assert c.choices[0].delta.function_call.arguments == compact_json(args)
    assert isinstance(c.choices[0].delta.function_call, FunctionCall)
    assert c.to_dict() == json.loads(src)  # the object is written back
    assert c.model_dump()["choices"][0]["delta"]["tool_calls"][0]["function"][
        "arguments"
    ] == compact_json(args)
    e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
    assert e.path == "$.choices[0].delta.tool_calls[0].function.arguments"


def test_arguments_as_json_rejected_when_strict_in_function_call():
    src = chunk_json(choices=[{"index": 0, "delta": {"function_call": {"arguments": {"a": 1}}}}])
    e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
    assert e.path == "$.choices[0].delta.function_call.arguments"


@pytest.mark.parametrize("bad", ["5", "true", "1.5"])
def test_arguments_scalar_rejected(bad):
    src = (
        '{"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": '
        + bad
        + "}}]}}]}"
    )
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path == "$.choices[0].delta.tool_calls[0].function.arguments"


@pytest.mark.parametrize(
    "wire, value",
    [
        (128009, 128009),
        ("</s>", "</s>"),
        ({"Int": 128009}, 128009),
        ({"String": "</s>"}, "</s>"),
        ({"Int": 0}, 0),
        ({"String": ""}, ""),
        ("\nUser:", "\nUser:"),
        (None, None),
    ],
)
def test_stop_reason_forms(wire, value):
    src = chunk_json(
        choices=[
            {"index": 0, "delta": {"content": ""}, "finish_reason": "stop", "stop_reason": wire}
        ]
    )
    c = ChatCompletionChunk.from_json(src)
    sr = c.choices[0].stop_reason
    assert sr == value and type(sr) is type(value)
    assert c.to_dict() == json.loads(src)
    assert c.model_dump()["choices"][0]["stop_reason"] == value
    assert ChatCompletionChunk.from_dict(json.loads(src)) == c


@pytest.mark.parametrize(
    "bad",
    [
        '{"Float": 1.5}',
        '{"Int": "1"}',
        '{"String": 1}',
        '{"Int": 1, "String": "x"}',
        "{}",
        "1.5",
        "[1]",
        "true",
    ],
)
def test_stop_reason_invalid(bad):
    src = f'{{"choices": [{{"index": 0, "delta": {{}}, "stop_reason": {bad}}}]}}'
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path.startswith("$.choices[0].stop_reason")


def test_choice_required_fields_when_strict():
    for choice, missing in (({"delta": {}}, "index"), ({"index": 0}, "delta")):
        src = chunk_json(choices=[{"index": 0, "delta": {}}, choice])
        c = ChatCompletionChunk.from_json(src)
        assert getattr(c.choices[1], missing) is None
        e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
        assert e.path == "$.choices[1]" and missing in e.message
    src = chunk_json(
        choices=[
            {"index": 0, "delta": {"tool_calls": [{"id": "call_1", "function": {"arguments": ""}}]}}
        ]
    )
    c = ChatCompletionChunk.from_json(src)
    assert c.choices[0].delta.tool_calls[0].index is None
    e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
    assert e.path == "$.choices[0].delta.tool_calls[0]" and "index" in e.message


def test_usage_token_counts_required_when_strict():
    for missing in ("prompt_tokens", "completion_tokens", "total_tokens"):
        usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        del usage[missing]
        src = chunk_json(choices=[], usage=usage)
        c = ChatCompletionChunk.from_json(src)
        assert getattr(c.usage, missing) is None
        e = parse_error(ChatCompletionChunk.from_json, src, strict=True)
        assert e.path == "$.usage" and missing in e.message


def test_strict_accepts_optional_fields_missing():
    src = chunk_json(
        choices=[{"index": 0, "delta": {}}],
        usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    )
    c = ChatCompletionChunk.from_json(src, strict=True)
    assert c.to_dict() == json.loads(src)


# ---------------------------------------------------------------------------
# Python protocol: equality, repr, pickle, copy, immutability
# ---------------------------------------------------------------------------


def test_equality(seed_json):
    a = ChatCompletionChunk.from_json(seed_json)
    b = ChatCompletionChunk.from_json(seed_json.encode())
    assert a == b
    assert (a != b) is False
    other = ChatCompletionChunk.from_json(seed_json.replace("Hello", "Hellp"))
    assert a != other
    assert (a == other) is False
    assert a.choices[0] == b.choices[0]
    assert a.choices[0] != other.choices[0]
    assert a.usage == b.usage
    # never equal to a plain dict or another class
    assert a != a.to_dict()
    assert a != json.loads(seed_json)
    assert a.usage != a.usage.to_dict()
    assert ChatCompletionChunkDelta.from_json("{}") != ChatCompletionChunkChoice.from_json("{}")
    # extras' key order does not matter
    x = ChatCompletionChunk.from_json('{"choices": [], "a": 1, "b": {"c": 2, "d": 3}}')
    y = ChatCompletionChunk.from_json('{"b": {"c": 2, "d": 3}, "a": 1, "choices": []}')
    assert x == y
    assert x != ChatCompletionChunk.from_json('{"choices": [], "a": 1}')


def test_repr(seed_json):
    c = ChatCompletionChunk.from_json(seed_json)
    r = repr(c)
    assert r.startswith("ChatCompletionChunk(") and r.endswith(")")
    for part in (
        "id='chatcmpl-123'",
        "created=1694268190",
        "content='Hello'",
        "cached_tokens=10",
        "service_tier=None",
        "ChatCompletionChunkChoice(",
        "CompletionUsage(",
    ):
        assert part in r, part
    with_extra = ChatCompletionChunk.from_json('{"choices": [], "signature": "sig"}')
    assert "extra={'signature': 'sig'}" in repr(with_extra)
    assert "extra=" not in r
    assert repr(c.choices[0].delta).startswith("ChatCompletionChunkDelta(")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle(protocol):
    c = ChatCompletionChunk.from_json(json.dumps(RICH))
    back = pickle.loads(pickle.dumps(c, protocol=protocol))
    assert type(back) is ChatCompletionChunk
    assert back == c
    assert back.to_dict() == RICH
    nested = c.choices[0].delta.tool_calls[0]
    back = pickle.loads(pickle.dumps(nested, protocol=protocol))
    assert type(back) is ChatCompletionChunkDeltaToolCall and back == nested
    lenient = ChatCompletionChunk.from_json(
        '{"choices": [{"index": "3", "stop_reason": {"Int": 7}}]}'
    )
    back = pickle.loads(pickle.dumps(lenient, protocol=protocol))
    assert back == lenient and back.to_dict() == lenient.to_dict()


def test_copy_and_deepcopy_return_self():
    c = ChatCompletionChunk.from_json(json.dumps(RICH))
    assert copy.copy(c) is c
    assert copy.deepcopy(c) is c
    u = c.usage
    assert copy.copy(u) is u and copy.deepcopy(u) is u
    choice = c.choices[0]
    holder = {"c": c, "list": [choice, u]}
    deep = copy.deepcopy(holder)
    assert deep["c"] is c and deep["list"][0] is choice and deep["list"][1] is u


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_immutable(name):
    d = {"zz": 1, **({"choices": []} if name == "ChatCompletionChunk" else {})}
    obj = MODEL_CLASSES[name].from_dict(d)
    for field in [*sorted(FIELDS[name]), "extra", "not_a_field"]:
        with pytest.raises(AttributeError):
            setattr(obj, field, 1)
        with pytest.raises(AttributeError):
            delattr(obj, field)
    assert obj.to_dict() == d


def test_returned_containers_are_copies():
    c = ChatCompletionChunk.from_json(json.dumps(RICH))
    c.extra["signature"] = "forged"
    c.extra["new"] = 1
    c.choices.append("junk")
    c.choices[0].logprobs.content[0].bytes.append(0)
    assert c.to_dict() == RICH
    assert c.extra["signature"] == RICH["signature"] and "new" not in c.extra
    assert len(c.choices) == 1


def test_nested_objects_outlive_the_parent():
    import gc

    delta = ChatCompletionChunk.from_json(SEED_JSON).choices[0].delta
    usage = ChatCompletionChunk.from_json(SEED_JSON).usage
    gc.collect()
    assert delta.content == "Hello" and delta.to_dict() == {"role": "assistant", "content": "Hello"}
    assert usage.prompt_tokens_details.cached_tokens == 10


# ---------------------------------------------------------------------------
# Keyword construction
# ---------------------------------------------------------------------------


def test_keyword_construction_with_nested_models():
    tc = ChatCompletionChunkDeltaToolCall(
        index=0,
        id="call_1",
        type="function",
        function=ChatCompletionChunkDeltaToolCallFunction(name="f", arguments="{}"),
    )
    assert tc.type == "function" and tc.function.name == "f"
    delta = ChatCompletionChunkDelta(role="assistant", content=None, tool_calls=[tc])
    choice = ChatCompletionChunkChoice(index=0, delta=delta, finish_reason=None)
    usage = CompletionUsage(
        prompt_tokens=1,
        completion_tokens=2,
        total_tokens=3,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=0),
    )
    c = ChatCompletionChunk(**HEAD, choices=[choice], usage=usage, signature="sig")
    expected = {
        **HEAD,
        "choices": [
            {
                "index": 0,
                "delta": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "finish_reason": None,
            }
        ],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        "signature": "sig",
    }
    assert c.to_dict() == expected
    assert c == ChatCompletionChunk.from_dict(expected)
    assert c == ChatCompletionChunk.from_json(json.dumps(expected))
    assert c.extra == {"signature": "sig"}


def test_keyword_construction_mixing_dicts_and_models():
    a = ChatCompletionChunk(
        choices=[
            {"index": 0, "delta": ChatCompletionChunkDelta(content="x")},
            ChatCompletionChunkChoice(index=1),
        ]
    )
    b = ChatCompletionChunk.from_dict(
        {"choices": [{"index": 0, "delta": {"content": "x"}}, {"index": 1}]}
    )
    assert a == b
    assert ChatCompletionChunk(
        choices=(ChatCompletionChunkChoice(index=0),)
    ) == ChatCompletionChunk.from_dict({"choices": [{"index": 0}]})
    assert ChatCompletionChunkChoice(index="2", stop_reason={"Int": 5}).to_dict() == {
        "index": "2",
        "stop_reason": {"Int": 5},
    }


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_keyword_construction_of_every_class_equals_from_dict(name):
    cls = MODEL_CLASSES[name]
    fields = {k: None for k in FIELDS[name] if k != "choices"}
    if name == "ChatCompletionChunk":
        fields["choices"] = []
    fields["vendor_key"] = {"x": [1]}
    obj = cls(**fields)
    assert obj == cls.from_dict(fields)
    assert obj.to_dict() == fields
    assert obj.extra == {"vendor_key": {"x": [1]}}


def test_keyword_construction_errors():
    e = parse_error(
        ChatCompletionChunk, choices=[{"index": 0, "delta": {"tool_calls": [{"index": "x"}]}}]
    )
    assert e.path == "$.choices[0].delta.tool_calls[0].index"
    e = parse_error(CompletionUsage, prompt_tokens="many")
    assert e.path == "$.prompt_tokens"
    e = parse_error(ChatCompletionChunkChoice, delta=ChatCompletionChunkDelta(), index=-1)
    assert e.path == "$.index"
    assert e.line is None and e.column is None and e.offset is None


# ---------------------------------------------------------------------------
# from_dict errors carry a path and no position
# ---------------------------------------------------------------------------

DICT_ERRORS = [
    (
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0}, {"index": "x"}]}}]},
        "$.choices[0].delta.tool_calls[1].index",
    ),
    ({"choices": [], "usage": {"prompt_tokens": "many"}}, "$.usage.prompt_tokens"),
    ({"choices": [], "usage": {"prompt_tokens": -1}}, "$.usage.prompt_tokens"),
    (
        {"choices": [], "usage": {"prompt_tokens_details": {"cached_tokens": 1.5}}},
        "$.usage.prompt_tokens_details.cached_tokens",
    ),
    ({"choices": [{"delta": {"content": 5}}]}, "$.choices[0].delta.content"),
    ({"choices": [{"delta": {"role": ["assistant"]}}]}, "$.choices[0].delta.role"),
    (
        {"choices": [{"logprobs": {"content": [{"bytes": ["a"]}]}}]},
        "$.choices[0].logprobs.content[0].bytes[0]",
    ),
    (
        {"choices": [{"logprobs": {"content": [{"top_logprobs": [{"logprob": "x"}]}]}}]},
        "$.choices[0].logprobs.content[0].top_logprobs[0].logprob",
    ),
    ({"choices": [1]}, "$.choices[0]"),
    ({"choices": [], "id": 5}, "$.id"),
    ({"choices": [], "created": "1"}, "$.created"),
    ({"choices": [], "created": 1.5}, "$.created"),
    ({"choices": [], "x": float("nan")}, "$.x"),
    ({"choices": [], "x": object()}, "$.x"),
    ({"choices": [], "x": b"bytes"}, "$.x"),
    ({"choices": [{"delta": {"content": "a\ud800"}}]}, "$.choices[0].delta.content"),
]


@pytest.mark.parametrize("d, path", DICT_ERRORS, ids=[p for _, p in DICT_ERRORS])
def test_from_dict_errors_have_path(d, path):
    for fn in (ChatCompletionChunk.from_dict, ChatCompletionChunk.model_validate):
        e = parse_error(fn, d)
        assert e.path == path, e
        assert e.line is None and e.column is None and e.offset is None
        assert e.message and isinstance(e.message, str)


@pytest.mark.parametrize("bad", [None, 1, "x", [], ["choices"], ("choices",)])
def test_from_dict_non_mapping(bad):
    e = parse_error(ChatCompletionChunk.from_dict, bad)
    assert e.path == "$" and e.offset is None


@pytest.mark.parametrize(
    "d, path",
    [
        ({"choices": [], "created": True}, "$.created"),
        ({"choices": [], "usage": {"prompt_tokens": True}}, "$.usage.prompt_tokens"),
        (
            {"choices": [{"logprobs": {"content": [{"logprob": False}]}}]},
            "$.choices[0].logprobs.content[0].logprob",
        ),
        (
            {"choices": [{"logprobs": {"content": [{"bytes": [True]}]}}]},
            "$.choices[0].logprobs.content[0].bytes[0]",
        ),
        ({"choices": [{"stop_reason": {"Int": True}}]}, "$.choices[0].stop_reason.Int"),
        ({"choices": "nope"}, "$.choices"),
        ({"choices": ""}, "$.choices"),
        ({"choices": [{"delta": {"tool_calls": ""}}]}, "$.choices[0].delta.tool_calls"),
        (
            {"choices": [{"logprobs": {"content": [{"bytes": ""}]}}]},
            "$.choices[0].logprobs.content[0].bytes",
        ),
        ({"choices": [{"logprobs": {"content": "ab"}}]}, "$.choices[0].logprobs.content"),
    ],
)
def test_from_dict_rejects_what_from_json_rejects(d, path):
    # from_dict validates JSON-compatible values exactly like from_json does:
    # JSON true is not an integer, so Python True is not one either, and a
    # string is not a list (it is not silently iterated as one).
    e = parse_error(ChatCompletionChunk.from_json, json.dumps(d))
    assert e.path == path
    e = parse_error(ChatCompletionChunk.from_dict, d)
    assert e.path == path


def test_from_dict_and_from_json_agree_on_paths():
    for d, path in DICT_ERRORS:
        try:
            text = json.dumps(d)
        except (TypeError, ValueError):
            continue  # not representable as JSON
        if "NaN" in text:
            continue
        e = parse_error(ChatCompletionChunk.from_json, text)
        assert e.path == path
        assert e.line == 1 and e.column is not None and e.offset is not None


# ---------------------------------------------------------------------------
# Errors with position: line, column, byte offset and path
# ---------------------------------------------------------------------------


def test_schema_error_on_line_two():
    src = (
        '{"choices": [],\n "usage": {"prompt_tokens": "many", '
        '"completion_tokens": 1, "total_tokens": 2}}'
    )
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.line == 2
    assert e.path == "$.usage.prompt_tokens"
    line_start = src.index("\n") + 1
    line_end = src.index("\n", line_start) if "\n" in src[line_start:] else len(src)
    assert line_start <= e.offset < line_end
    start = src.index('"many"')
    assert start <= e.offset < start + len('"many"')  # points at the bad value
    assert e.column == e.offset - line_start + 1  # ASCII line: column counts characters
    assert isinstance(e, ValueError)
    assert "prompt_tokens" in str(e) or "many" in str(e) or "u64" in str(e)
    # same through bytes
    e2 = parse_error(ChatCompletionChunk.from_json, src.encode())
    assert (e2.line, e2.column, e2.offset, e2.path) == (e.line, e.column, e.offset, e.path)


def test_column_counts_characters_offset_counts_bytes():
    src = '{"choices": [],\n "model": "日本語🙂", "usage": {"total_tokens": "x"}}'
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path == "$.usage.total_tokens" and e.line == 2
    raw = src.encode()
    bad = raw.index(b'"x"')
    assert bad <= e.offset < bad + 3
    line_start = raw.index(b"\n") + 1
    chars_before = len(raw[line_start : e.offset].decode())
    assert e.column == chars_before + 1
    assert e.column < e.offset - line_start + 1  # multi-byte characters precede it


def test_deep_tool_call_index_error_path():
    src = json.dumps(
        {
            **HEAD,
            "choices": [
                {"index": 0, "delta": {"content": "x"}},
                {
                    "index": 1,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "function": {"arguments": ""}},
                            {"index": 1, "function": {"arguments": ""}},
                            {"index": "three", "function": {"arguments": ""}},
                        ]
                    },
                },
            ],
        },
        indent=2,
    )
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path == "$.choices[1].delta.tool_calls[2].index"
    bad_line = next(i for i, line in enumerate(src.splitlines(), 1) if '"three"' in line)
    assert e.line == bad_line
    start = src.index('"three"')
    assert start <= e.offset < start + len('"three"')


@pytest.mark.parametrize(
    "prefix, bad, suffix, path",
    [
        (b'{"choices": [], "id": "ab', b"\xff\xfe", b'cd"}', "$.id"),
        (b'{"choices": [], "model": "\xc3\xa9\xe2\x82\xac', b"\xc3(", b'"}', "$.model"),
        (b'{"choices": [], "x": "', b"\xed\xa0\x80", b'"}', "$.x"),  # encoded surrogate
        (b'{"choices": [], "x": "', b"\xc0\xaf", b'"}', "$.x"),  # overlong
        (b'{"choices": [], "x": "', b"\xf4\x90\x80\x80", b'"}', "$.x"),  # above U+10FFFF
        (b'{"choices": [{"delta": {"content": "a', b"\x80", b'"}}]}', "$.choices[0].delta.content"),
        (b'{"choices": [],\n "id": "\xe4\xb8\xad', b"\xff", b'"}', "$.id"),
    ],
)
def test_invalid_utf8_reports_byte_offset(prefix, bad, suffix, path):
    data = prefix + bad + suffix
    e = parse_error(ChatCompletionChunk.from_json, data)
    assert e.path == path
    assert len(prefix) <= e.offset < len(prefix) + len(bad), (e.offset, len(prefix))
    assert e.line == data[: e.offset].count(b"\n") + 1
    line_start = data.rfind(b"\n", 0, e.offset) + 1
    assert e.column == len(data[line_start : e.offset].decode("utf-8", "replace")) + 1
    for kind in (bytearray, memoryview):
        e2 = parse_error(ChatCompletionChunk.from_json, kind(data))
        assert (e2.offset, e2.path) == (e.offset, e.path)


def test_invalid_utf8_outside_strings():
    for data in (
        b'\xff{"choices": []}',
        b'{"choices": [], \xff "x": 1}',
        b'{"choices": []}\xff',
        b'{"choices": [], "k\xffey": 1}',
    ):
        e = parse_error(ChatCompletionChunk.from_json, data)
        assert e.offset == data.index(b"\xff"), (data, e.offset)


@pytest.mark.parametrize(
    "src, path",
    [
        ('{"choices": [], "created": 1e400}', "$.created"),
        ('{"choices": [], "x": 1e400}', "$.x"),
        ('{"choices": [], "x": -1e400}', "$.x"),
        ('{"choices": [], "usage": {"total_tokens": 1e400}}', "$.usage.total_tokens"),
        (
            '{"choices": [{"logprobs": {"content": [{"logprob": -1e400}]}}]}',
            "$.choices[0].logprobs.content[0].logprob",
        ),
        (f'{{"choices": [], "usage": {{"prompt_tokens": {2**70}}}}}', "$.usage.prompt_tokens"),
        (f'{{"choices": [], "usage": {{"prompt_tokens": {2**64}}}}}', "$.usage.prompt_tokens"),
        ('{"choices": [], "usage": {"prompt_tokens": -1}}', "$.usage.prompt_tokens"),
        (f'{{"choices": [], "created": {2**63}}}', "$.created"),
        (f'{{"choices": [], "created": {2**70}}}', "$.created"),
        (f'{{"choices": [{{"index": {2**70}}}]}}', "$.choices[0].index"),
        (f'{{"choices": [{{"stop_reason": {2**64}}}]}}', "$.choices[0].stop_reason"),
    ],
)
def test_huge_numbers(src, path):
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path == path
    assert e.line == 1 and 0 <= e.offset < len(src)


def test_largest_token_counts():
    c = ChatCompletionChunk.from_json(
        f'{{"choices": [], "usage": {{"prompt_tokens": {2**64 - 1}}}, "created": {-(2**63)}}}'
    )
    assert c.usage.prompt_tokens == 2**64 - 1
    assert c.created == -(2**63)


@pytest.mark.parametrize(
    "src, path",
    [
        ('{"choices": [], "id": "\\ud800"}', "$.id"),
        ('{"choices": [], "x": "\\ud800"}', "$.x"),
        ('{"choices": [], "x": "\\udc00"}', "$.x"),
        ('{"choices": [], "id": "\\udc00\\ud800"}', "$.id"),
        ('{"choices": [], "id": "\\ud800x"}', "$.id"),
        ('{"choices": [{"delta": {"content": "ok\\ud83d"}}]}', "$.choices[0].delta.content"),
    ],
)
def test_escaped_lone_surrogates(src, path):
    e = parse_error(ChatCompletionChunk.from_json, src)
    assert e.path == path
    e = parse_error(ChatCompletionChunk.from_json, src.encode())
    assert e.path == path


def test_escaped_surrogate_pair_is_fine():
    c = ChatCompletionChunk.from_json('{"choices": [], "id": "\\ud83d\\ude00", "x": "\\u00e9"}')
    assert c.id == "😀" and c.extra == {"x": "é"}


@pytest.mark.parametrize(
    "text",
    ['{"choices": [], "id": "\ud800"}', '{"choices": [], "x": "a\udfffb"}', "\ud800"],
    ids=["in-id", "in-extra", "bare"],
)
def test_python_str_with_lone_surrogate_raises_parse_error(text):
    # A str that cannot be UTF-8 encoded is invalid input, reported as ParseError.
    with pytest.raises(ParseError):
        ChatCompletionChunk.from_json(text)


@pytest.mark.parametrize(
    "src, path",
    [
        ("[]", "$"),
        ('[{"choices": []}]', "$"),
        ("1", "$"),
        ("-0.5", "$"),
        ('"x"', "$"),
        ("null", "$"),
        ("true", "$"),
        ("", "$"),
        ("   \n\t", "$"),
        ('{"choices": []} {"choices": []}', "$"),
        ('{"choices": []} x', "$"),
        ('{"choices": [],}', None),
        ("{'choices': []}", None),
        ('{"choices": [}', None),
        ('{"choices": [], "x": NaN}', "$.x"),
        ('{"choices": [], "x": Infinity}', "$.x"),
        ('{"choices": [], "x": 01}', "$.x"),
        ('{"choices": [], "id": "a\nb"}', "$.id"),
        ('{"choices": [], "id": "\\x41"}', "$.id"),
        ('\ufeff{"choices": []}', "$"),
    ],
)
def test_not_a_chunk(src, path):
    for data in (src, src.encode()):
        e = parse_error(ChatCompletionChunk.from_json, data)
        if path is not None:
            assert e.path == path
        assert e.line is not None and e.column is not None
        assert 0 <= e.offset <= len(src.encode())


def test_surrounding_whitespace_is_fine():
    c = ChatCompletionChunk.from_json(' \t\r\n{"choices": []} \r\n')
    assert c.to_dict() == {"choices": []}


def _nested(depth: int, opener: str = "[", closer: str = "]", closed: bool = True) -> str:
    return opener * depth + (closer * depth if closed else "")


DEEP = [
    ("top-level-open", _nested(100_000, closed=False)),
    ("top-level-closed", _nested(100_000)),
    ("in-choices", '{"choices": ' + _nested(100_000) + "}"),
    ("in-usage", '{"choices": [], "usage": ' + _nested(100_000) + "}"),
    ("in-extra", '{"choices": [], "x": ' + _nested(100_000) + "}"),
    ("in-extra-objects", '{"choices": [], "x": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}"),
    ("in-tool-calls", '{"choices": [{"delta": {"tool_calls": ' + _nested(100_000) + "}}]}"),
    (
        "in-arguments",
        '{"choices": [{"delta": {"tool_calls": [{"function": {"arguments": '
        + _nested(100_000)
        + "}}]}}]}",
    ),
    ("in-logprobs", '{"choices": [{"logprobs": {"content": ' + _nested(100_000) + "}}]}"),
    ("array-object-mix", '[{"":' * 50_000),
]


@pytest.mark.parametrize("name, src", DEEP, ids=[n for n, _ in DEEP])
def test_deep_nesting_is_a_parse_error_not_a_crash(name, src):
    # In a child interpreter: a stack overflow must show up as this test failing.
    result = parse_in_subprocess(src.encode())
    assert result["outcome"] == "ParseError", result
    assert result["line"] == 1


def test_moderate_nesting_in_extras():
    value: list = []
    for _ in range(31):
        value = [value, {"k": None}]
    src = json.dumps({"choices": [], "x": value})
    c = ChatCompletionChunk.from_json(src)
    assert c.extra["x"] == value
    assert json.loads(c.to_json()) == json.loads(src)


def test_error_attributes_and_message():
    e = parse_error(
        ChatCompletionChunk.from_json, '{"choices": [], "usage": {"prompt_tokens": "many"}}'
    )
    assert isinstance(e, ValueError)
    assert issubclass(ParseError, ValueError)
    assert e.message in str(e)
    assert "$.usage.prompt_tokens" in str(e)
    assert isinstance(e.line, int) and isinstance(e.column, int) and isinstance(e.offset, int)
    assert e.line >= 1 and e.column >= 1
    assert chatchunk.ParseError is ParseError


def test_errors_from_every_class_have_relative_paths():
    e = parse_error(
        CompletionUsage.from_json,
        '{"prompt_tokens": 1,\n"prompt_tokens_details": {"cached_tokens": "x"}}',
    )
    assert e.path == "$.prompt_tokens_details.cached_tokens" and e.line == 2
    e = parse_error(ChatCompletionChunkDelta.from_json, '{"tool_calls": [{"index": -3}]}')
    assert e.path == "$.tool_calls[0].index"
    e = parse_error(
        ChatCompletionLogProbsContent.from_json, '{"top_logprobs": [{}, {"bytes": [1, "2"]}]}'
    )
    assert e.path == "$.top_logprobs[1].bytes[1]"
    e = parse_error(
        ChatCompletionChunkDeltaToolCall.from_json,
        '{"index": 0, "function": {"arguments": 1}}',
        strict=True,
    )
    assert e.path == "$.function.arguments"


# ---------------------------------------------------------------------------
# openai-python
# ---------------------------------------------------------------------------

import openai.types.chat.chat_completion_chunk as openai_chunk_mod  # noqa: E402
from openai.types.chat import ChatCompletionChunk as OpenAIChunk  # noqa: E402
from openai.types.chat.chat_completion_token_logprob import ChatCompletionTokenLogprob, TopLogprob  # noqa: E402
from openai.types.completion_usage import (  # noqa: E402
    CompletionTokensDetails as OpenAICompletionTokensDetails,
)
from openai.types.completion_usage import (  # noqa: E402
    CompletionUsage as OpenAIUsage,
)
from openai.types.completion_usage import (  # noqa: E402
    PromptTokensDetails as OpenAIPromptTokensDetails,
)

OPENAI_EQUIVALENT = {
    "ChatCompletionChunk": OpenAIChunk,
    "ChatCompletionChunkChoice": openai_chunk_mod.Choice,
    "ChatCompletionChunkDelta": openai_chunk_mod.ChoiceDelta,
    "ChatCompletionChunkDeltaToolCall": openai_chunk_mod.ChoiceDeltaToolCall,
    "ChatCompletionChunkDeltaToolCallFunction": openai_chunk_mod.ChoiceDeltaToolCallFunction,
    "FunctionCall": openai_chunk_mod.ChoiceDeltaFunctionCall,
    "ChatCompletionLogProbs": openai_chunk_mod.ChoiceLogprobs,
    "ChatCompletionLogProbsContent": ChatCompletionTokenLogprob,
    "ChatCompletionLogProb": TopLogprob,
    "CompletionUsage": OpenAIUsage,
    "PromptTokensDetails": OpenAIPromptTokensDetails,
    "CompletionTokensDetails": OpenAICompletionTokensDetails,
}

#: Fields chatchunk knows that openai-python does not (vLLM, DeepSeek, OpenRouter).
VENDOR_FIELDS = {
    "ChatCompletionChunkChoice": {"stop_reason"},
    "ChatCompletionChunkDelta": {"reasoning_content", "reasoning"},
}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_model_dump_keys_match_openai(name):
    ours = set(
        MODEL_CLASSES[name]
        .from_json("{}" if name != "ChatCompletionChunk" else '{"choices": []}')
        .model_dump()
    )
    assert ours == FIELDS[name]
    theirs = set(OPENAI_EQUIVALENT[name].model_fields)
    vendor = VENDOR_FIELDS.get(name, set())
    assert ours - vendor <= theirs, ours - vendor - theirs
    assert not (vendor & theirs)


def _assert_common_equal(ours, theirs, path="$"):
    """Equal on every key both dumps have, recursively."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for k in ours.keys() & theirs.keys():
            _assert_common_equal(ours[k], theirs[k], f"{path}.{k}")
    elif isinstance(ours, list) and isinstance(theirs, list):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_common_equal(a, b, f"{path}[{i}]")
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def test_model_dump_values_match_openai():
    for src in (SEED_JSON, json.dumps(RICH)):
        ours = ChatCompletionChunk.from_json(src)
        theirs = OpenAIChunk.model_validate_json(src)
        _assert_common_equal(ours.model_dump(), theirs.model_dump())
        _assert_common_equal(
            ours.model_dump(exclude_none=True), theirs.model_dump(exclude_none=True)
        )


def test_to_openai_seed(seed_json):
    c = ChatCompletionChunk.from_json(seed_json)
    o = c.to_openai()
    assert isinstance(o, OpenAIChunk)
    assert o == OpenAIChunk.model_validate_json(seed_json)
    assert o.choices[0].delta.content == "Hello"
    assert o.usage.prompt_tokens_details.cached_tokens == 10
    back = ChatCompletionChunk.from_openai(o)
    assert type(back) is ChatCompletionChunk
    assert back == c
    assert back.to_dict() == json.loads(seed_json)


def test_to_openai_keeps_extras_and_vendor_fields():
    c = ChatCompletionChunk.from_json(json.dumps(RICH))
    o = c.to_openai()
    assert o.model_extra["signature"] == RICH["signature"]
    assert o.model_extra["response_hash"] == RICH["response_hash"]
    assert (
        o.choices[0].model_extra["content_filter_results"]
        == RICH["choices"][0]["content_filter_results"]
    )
    assert o.choices[0].delta.model_extra["reasoning_content"] == "thinking…"
    assert o.choices[0].delta.tool_calls[0].function.name == "get_weather"
    assert o.usage.completion_tokens_details.reasoning_tokens == 2
    back = ChatCompletionChunk.from_openai(o)
    assert back.model_dump() == c.model_dump()
    assert back.extra == c.extra


def test_from_openai_of_openai_parse_is_lossless():
    for src in (SEED_JSON, json.dumps(RICH)):
        o = OpenAIChunk.model_validate_json(src)
        assert ChatCompletionChunk.from_openai(o).to_dict() == json.loads(src)


def test_to_openai_canonicalises_lenient_forms():
    src = chunk_json(
        choices=[
            {
                "index": "1",
                "delta": {
                    "tool_calls": [
                        {
                            "index": "0",
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": {"q": "é"}},
                        }
                    ]
                },
                "finish_reason": "tool_calls",
                "stop_reason": {"Int": 128009},
            }
        ]
    )
    c = ChatCompletionChunk.from_json(src)
    o = c.to_openai()
    assert o.choices[0].index == 1
    tc = o.choices[0].delta.tool_calls[0]
    assert tc.index == 0 and tc.function.arguments == '{"q":"é"}'
    assert o.choices[0].model_extra["stop_reason"] == 128009
    back = ChatCompletionChunk.from_openai(o)
    assert back.model_dump() == c.model_dump()
    assert back.choices[0].stop_reason == 128009


def test_to_openai_round_trip_over_corpus():
    checked = 0
    for stream in make_streams(54, seed=7):
        for d in stream.chunks:
            c = ChatCompletionChunk.from_dict(d)
            try:  # openai-python validates what strict mode does (and a little more)
                ChatCompletionChunk.from_dict(d, strict=True)
            except ParseError:
                continue
            o = c.to_openai()
            assert isinstance(o, OpenAIChunk)
            assert ChatCompletionChunk.from_openai(o).model_dump() == c.model_dump(), stream.kind
            checked += 1
    assert checked > 500


# ---------------------------------------------------------------------------
# Atoma SDK
# ---------------------------------------------------------------------------

import atoma_sdk.models as atoma_models  # noqa: E402


def _unset(v):
    return None if type(v).__name__ == "Unset" else v


def _plain(v):
    if hasattr(v, "model_dump"):
        return v.model_dump()
    return v


def assert_agrees_with_atoma(src: str) -> None:
    a = atoma_models.ChatCompletionChunk.model_validate_json(src)
    c = ChatCompletionChunk.from_json(src)
    for name in ("id", "created", "model", "system_fingerprint", "service_tier"):
        assert _unset(getattr(a, name)) == getattr(c, name), name
    assert len(a.choices) == len(c.choices)
    for ac, cc in zip(a.choices, c.choices):
        assert ac.index == cc.index
        assert _unset(ac.finish_reason) == cc.finish_reason
        assert _unset(ac.delta.content) == cc.delta.content
        assert _unset(ac.delta.role) == cc.delta.role
        tool_calls = _unset(ac.delta.tool_calls)
        if tool_calls is None:
            assert cc.delta.tool_calls is None
        else:
            assert [_plain(t) for t in tool_calls] == [t.to_dict() for t in cc.delta.tool_calls]
        fc = _unset(ac.delta.function_call)
        assert _plain(fc) == (cc.delta.function_call.to_dict() if cc.delta.function_call else None)
    if a.usage is None:
        assert c.usage is None
    else:
        for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
            assert getattr(a.usage, name) == getattr(c.usage, name)


def test_atoma_sdk_agrees_on_atoma_example():
    src = json.dumps(
        {
            "id": "chatcmpl-5f0ae3a1-7a67-4b8a-9f0e-2c7a3f5d3e11",
            "object": "chat.completion.chunk",
            "created": 1736935200,
            "model": "meta-llama/Llama-3.3-70B-Instruct",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": "!"},
                    "logprobs": None,
                    "finish_reason": "stop",
                    "stop_reason": {"Int": 128009},
                }
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52},
            "signature": "c2lnbmF0dXJl",
            "response_hash": "00ff",
        }
    )
    assert_agrees_with_atoma(src)
    c = ChatCompletionChunk.from_json(src)
    assert c.choices[0].stop_reason == 128009
    assert c.extra == {"signature": "c2lnbmF0dXJl", "response_hash": "00ff"}


def test_atoma_sdk_agrees_on_corpus():
    checked = 0
    kinds = (
        "atoma",
        "vllm",
        "text",
        "tool_calls",
        "reasoning",
        "n2",
        "repeated_tool_names",
        "legacy_function_call",
    )
    for stream in make_streams(len(kinds) * 3, seed=3, kinds=kinds):
        for d in stream.chunks:
            if not all(k in d for k in ("id", "created", "model")):
                continue
            assert_agrees_with_atoma(json.dumps(d, ensure_ascii=False))
            checked += 1
    assert checked > 100


def test_atoma_sdk_agrees_on_seed(seed_json):
    assert_agrees_with_atoma(seed_json)
