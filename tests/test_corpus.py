"""Tests of the stream generator in tests/corpus.py (no chatchunk needed).

The expected completions in the corpus are built from generation intent; here
they are cross-checked against a small, independent reference merge written
straight from the merge contract, and against an SSE parser written from the
WHATWG event-stream rules.
"""

from __future__ import annotations

import copy
import json
import random
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from corpus import KINDS, Stream, interleave, make_stream, make_streams, to_sse

SEEDS = range(60)

REQUIRED_KINDS = {
    "text",
    "tool_calls",
    "logprobs",
    "n2",
    "reasoning",
    "atoma",
    "vllm",
    "usage_only_final",
    "azure",
    "refusal",
    "repeated_tool_names",
    "ollama_index0",
    "mistral_no_index",
    "out_of_order_tools",
    "speculative",
    "legacy_function_call",
    "string_index",
}

TOP_KEYS = {
    "id",
    "object",
    "created",
    "model",
    "system_fingerprint",
    "service_tier",
    "choices",
    "usage",
}
CHOICE_KEYS = {"index", "finish_reason", "stop_reason", "logprobs", "message"}
MESSAGE_KEYS = {
    "role",
    "content",
    "refusal",
    "reasoning_content",
    "reasoning",
    "tool_calls",
    "function_call",
}
TEXT_FIELDS = ("content", "refusal", "reasoning_content", "reasoning")


# ---------------------------------------------------------------------------
# Independent reference implementations
# ---------------------------------------------------------------------------


def _empty(v):
    return v is None or v == "" or v == 0


def reference_merge(chunks: list[dict]) -> dict:
    """Merge chunk dicts following the contract, written independently of corpus.py."""
    top = dict.fromkeys(("id", "created", "model", "system_fingerprint", "service_tier"))
    usage = None
    states: dict[int, dict] = {}
    for chunk in chunks:
        for key in top:
            if top[key] is None and not _empty(chunk.get(key)):
                top[key] = chunk[key]
        if chunk.get("usage") is not None:
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            idx = int(choice["index"])
            st = states.setdefault(
                idx,
                {
                    "role": None,
                    "text": dict.fromkeys(TEXT_FIELDS),
                    "calls": [],
                    "last_call": None,
                    "fc": None,
                    "finish": None,
                    "stop": None,
                    "lp": None,
                },
            )
            delta = choice.get("delta") or {}
            if st["role"] is None and delta.get("role"):
                st["role"] = delta["role"]
            for f in TEXT_FIELDS:
                if delta.get(f) is not None:
                    st["text"][f] = (st["text"][f] or "") + delta[f]
            for entry in delta.get("tool_calls") or []:
                _merge_tool_entry(st, entry)
            fc = delta.get("function_call")
            if fc is not None:
                if st["fc"] is None:
                    st["fc"] = {"name": None, "arguments": ""}
                if st["fc"]["name"] is None and fc.get("name"):
                    st["fc"]["name"] = fc["name"]
                st["fc"]["arguments"] += fc.get("arguments") or ""
            if choice.get("finish_reason") is not None:
                st["finish"] = choice["finish_reason"]
            sr = choice.get("stop_reason")
            if isinstance(sr, dict):
                (sr,) = sr.values()
            if sr is not None:
                st["stop"] = sr
            lp = choice.get("logprobs")
            if lp is not None:
                if st["lp"] is None:
                    st["lp"] = {"content": None, "refusal": None}
                for key in ("content", "refusal"):
                    if lp.get(key) is not None:
                        st["lp"][key] = (st["lp"][key] or []) + lp[key]
    out_choices = []
    for idx in sorted(states):
        st = states[idx]
        calls = sorted(
            st["calls"], key=lambda c: (c["index"] if c["index"] is not None else -1, c["seq"])
        )
        tool_calls = [
            {
                "id": c["id"],
                "type": c["type"] or "function",
                "function": {"name": c["name"], "arguments": c["args"]},
            }
            for c in calls
        ] or None
        out_choices.append(
            {
                "index": idx,
                "finish_reason": st["finish"],
                "stop_reason": st["stop"],
                "logprobs": st["lp"],
                "message": {
                    "role": st["role"],
                    **st["text"],
                    "tool_calls": tool_calls,
                    "function_call": st["fc"],
                },
            }
        )
    return {
        "id": top["id"],
        "object": "chat.completion",
        "created": top["created"],
        "model": top["model"],
        "system_fingerprint": top["system_fingerprint"],
        "service_tier": top["service_tier"],
        "choices": out_choices,
        "usage": usage,
    }


def _merge_tool_entry(st: dict, entry: dict) -> None:
    raw_idx = entry.get("index")
    idx = None if raw_idx is None else int(raw_idx)
    eid = entry.get("id") or None
    if idx is None:
        call = st["last_call"]
        if call is None or (eid is not None and call["id"] != eid):
            call = None
    else:
        same = [c for c in st["calls"] if c["index"] == idx]
        call = same[-1] if same else None
        if call is not None and eid is not None and call["id"] is not None and call["id"] != eid:
            call = None
    if call is None:
        call = {
            "index": idx,
            "seq": len(st["calls"]),
            "id": None,
            "type": None,
            "name": None,
            "args": "",
        }
        st["calls"].append(call)
    fn = entry.get("function") or {}
    if call["id"] is None and eid:
        call["id"] = eid
    if call["type"] is None and entry.get("type"):
        call["type"] = entry["type"]
    if call["name"] is None and fn.get("name"):
        call["name"] = fn["name"]
    args = fn.get("arguments")
    if isinstance(args, (dict, list)):
        args = json.dumps(args, separators=(",", ":"), ensure_ascii=False)
    if args is not None:
        call["args"] += args
    st["last_call"] = call


def parse_sse(body: bytes) -> list[str]:
    """Data payloads of an event stream (WHATWG rules; CR, LF and CRLF line ends)."""
    text = body.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    events, data = [], []
    for line in lines[:-1]:  # the part after the last terminator is incomplete
        if line == "":
            if data:
                events.append("\n".join(data))
            data = []
            continue
        if line.startswith(":"):
            continue
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
    return events


def sse_chunks(body: bytes) -> list[dict]:
    return [json.loads(d) for d in parse_sse(body) if d != "[DONE]"]


def all_streams(kinds=KINDS, seeds=SEEDS):
    for kind in kinds:
        for seed in seeds:
            yield make_stream(kind, random.Random(seed))


def dump(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False)


def tool_entries(stream: Stream):
    for c in stream.chunks:
        for ch in c.get("choices") or []:
            yield from (ch.get("delta") or {}).get("tool_calls") or []


# ---------------------------------------------------------------------------
# Generator basics
# ---------------------------------------------------------------------------


def test_required_kinds_present():
    assert set(KINDS) >= REQUIRED_KINDS
    assert len(set(KINDS)) == len(KINDS)
    assert set(corpus.TOOL_KINDS) <= set(KINDS)


def test_unknown_kind_rejected():
    with pytest.raises(ValueError):
        make_stream("nope", random.Random(0))


@pytest.mark.parametrize("kind", KINDS)
def test_stream_shape(kind):
    for s in all_streams([kind]):
        assert isinstance(s, Stream) and s.kind == kind
        assert s.chunks and all(isinstance(c, dict) for c in s.chunks)
        for c in s.chunks:
            assert json.loads(json.dumps(c)) == c  # plain JSON data only
            assert isinstance(c.get("choices"), list)
        exp = s.expected
        assert set(exp) == TOP_KEYS
        assert exp["object"] == "chat.completion"
        assert isinstance(exp["id"], str) and exp["id"]
        assert isinstance(exp["created"], int)
        assert [c["index"] for c in exp["choices"]] == sorted(c["index"] for c in exp["choices"])
        for ch in exp["choices"]:
            assert set(ch) == CHOICE_KEYS
            assert type(ch["index"]) is int
            assert set(ch["message"]) == MESSAGE_KEYS
            assert ch["message"]["role"] == "assistant"
            assert ch["finish_reason"] is not None
            if ch["logprobs"] is not None:
                assert set(ch["logprobs"]) == {"content", "refusal"}
            for tc in ch["message"]["tool_calls"] or []:
                assert set(tc) == {"id", "type", "function"}
                assert set(tc["function"]) == {"name", "arguments"}
                assert isinstance(tc["function"]["arguments"], str)
                assert tc["id"] and tc["function"]["name"]


@pytest.mark.parametrize("kind", KINDS)
def test_expected_matches_reference_merge(kind):
    for seed in range(150):
        s = make_stream(kind, random.Random(seed))
        assert reference_merge(s.chunks) == s.expected, (kind, seed, s.variant)


def test_determinism():
    a = make_streams(80, seed=7)
    b = make_streams(80, seed=7)
    assert [(s.kind, dump(s.chunks), dump(s.expected)) for s in a] == [
        (s.kind, dump(s.chunks), dump(s.expected)) for s in b
    ]
    c = make_streams(80, seed=8)
    assert [dump(s.chunks) for s in a] != [dump(s.chunks) for s in c]
    for kind in KINDS:
        x = make_stream(kind, random.Random(123))
        y = make_stream(kind, random.Random(123))
        assert dump(x.chunks) == dump(y.chunks) and x.expected == y.expected
        assert to_sse(x.chunks) == to_sse(y.chunks)


@pytest.mark.parametrize("kind", KINDS)
def test_stream_id_override_keeps_content(kind):
    plain = make_stream(kind, random.Random(5))
    named = make_stream(kind, random.Random(5), stream_id="chatcmpl-fixed-id")
    assert named.expected["id"] == "chatcmpl-fixed-id"
    ids = {c.get("id") for c in named.chunks} - {"", None}
    assert ids == {"chatcmpl-fixed-id"}
    relabel = lambda c: {**c, "id": "X" if c.get("id") else c.get("id")}  # noqa: E731
    assert [relabel(c) for c in plain.chunks] == [relabel(c) for c in named.chunks]
    assert {**plain.expected, "id": None} == {**named.expected, "id": None}


def test_chunks_carry_the_stream_id():
    for s in all_streams(seeds=range(10)):
        ids = {c.get("id") for c in s.chunks}
        assert ids - {""} == {s.id}, s.kind


def test_make_streams_unique_ids_and_kind_mix():
    streams = make_streams(600, seed=3)
    assert len(streams) == 600
    assert len({s.id for s in streams}) == 600
    n = len(KINDS)
    for start in range(0, 600 - n + 1, n):
        assert sorted(s.kind for s in streams[start : start + n]) == sorted(KINDS)
    assert make_streams(0) == []


def test_make_streams_kind_subset():
    streams = make_streams(25, seed=1, kinds=("vllm", "azure"))
    assert {s.kind for s in streams} == {"vllm", "azure"}
    with pytest.raises(ValueError):
        make_streams(3, kinds=())


def test_each_stream_is_seeded_independently():
    # Stream k of make_streams(n) is the same whatever n is.
    short = make_streams(10, seed=11)
    long = make_streams(30, seed=11)
    assert [s.expected for s in short] == [s.expected for s in long[:10]]


def test_chunks_do_not_alias_expected():
    for s in all_streams(seeds=range(5)):
        before = copy.deepcopy(s.expected)
        for c in s.chunks:
            for ch in c.get("choices") or []:
                if isinstance(ch.get("logprobs"), dict):
                    for lst in ch["logprobs"].values():
                        if lst:
                            lst[0]["token"] = "MUTATED"
                            lst.clear()
            if isinstance(c.get("usage"), dict):
                c["usage"]["prompt_tokens"] = -1
                c["usage"].clear()
            c.clear()
        assert s.expected == before, s.kind


# ---------------------------------------------------------------------------
# interleave / to_sse
# ---------------------------------------------------------------------------


def test_interleave_preserves_per_stream_order():
    streams = make_streams(40, seed=5)
    mixed = interleave(streams, random.Random(9))
    assert len(mixed) == sum(len(s.chunks) for s in streams)
    per: dict[int, list] = {}
    for no, chunk in mixed:
        per.setdefault(no, []).append(chunk)
    for no, s in enumerate(streams):
        got = per.get(no, [])
        assert len(got) == len(s.chunks)
        assert all(a is b for a, b in zip(got, s.chunks))
    # really mixed, and deterministic
    assert [no for no, _ in mixed] != sorted(no for no, _ in mixed)
    again = interleave(streams, random.Random(9))
    assert [(n, id(c)) for n, c in mixed] == [(n, id(c)) for n, c in again]


def test_interleave_then_demux_by_stream_no_merges_to_expected():
    streams = make_streams(36, seed=2)
    per: dict[int, list] = {}
    for no, chunk in interleave(streams, random.Random(1)):
        per.setdefault(no, []).append(chunk)
    for no, s in enumerate(streams):
        assert reference_merge(per[no]) == s.expected


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_to_sse_round_trip(line_end):
    for s in all_streams(seeds=range(8)):
        body = to_sse(s.chunks, line_end=line_end)
        assert isinstance(body, bytes)
        assert body.startswith(b"data: ")
        assert body.endswith(f"data: [DONE]{line_end}{line_end}".encode())
        payloads = parse_sse(body)
        assert payloads[-1] == "[DONE]"
        assert [json.loads(p) for p in payloads[:-1]] == s.chunks
        assert body.count(f"{line_end}{line_end}".encode()) == len(s.chunks) + 1


def test_to_sse_options():
    s = make_stream("text", random.Random(4))
    body = to_sse(s.chunks, done=False)
    assert b"[DONE]" not in body
    assert sse_chunks(body) == s.chunks
    assert body.decode("utf-8").count("data: ") == len(s.chunks)
    assert to_sse([]) == b"data: [DONE]\n\n"
    ascii_body = to_sse(s.chunks, ensure_ascii=True)
    assert ascii_body.isascii() and sse_chunks(ascii_body) == s.chunks
    with pytest.raises(ValueError):
        to_sse(s.chunks, line_end="\n\n")


def test_corpus_exercises_escaping_and_unicode():
    text = b"".join(s.sse() for s in make_streams(300, seed=0)).decode("utf-8")
    for needle in ('\\"', "\\\\", "\\n", "\\t", "\\u0007", "é", "日本語", "🚀", "\u2028", "\x85"):
        assert needle in text, needle
    # Characters that str.splitlines() treats as line breaks but SSE does not.
    assert len(text.splitlines()) > len(re.split(r"\r\n|\r|\n", text)) - 1


# ---------------------------------------------------------------------------
# Independent checks of expected values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_text_fields_are_concatenations(kind):
    for s in all_streams([kind]):
        for ch in s.expected["choices"]:
            for field in TEXT_FIELDS:
                sent = [
                    c_ch["delta"][field]
                    for c in s.chunks
                    for c_ch in c["choices"]
                    if int(c_ch["index"]) == ch["index"] and field in c_ch.get("delta", {})
                ]
                non_null = [v for v in sent if v is not None]
                want = "".join(non_null) if non_null else None
                assert ch["message"][field] == want, (kind, field)


@pytest.mark.parametrize("kind", corpus.TOOL_KINDS)
def test_tool_arguments_are_valid_json(kind):
    for s in all_streams([kind], seeds=range(100)):
        msg = s.expected["choices"][0]["message"]
        calls = [tc["function"] for tc in msg["tool_calls"] or []]
        if msg["function_call"] is not None:
            calls.append(msg["function_call"])
        assert calls, kind
        for fn in calls:
            assert isinstance(json.loads(fn["arguments"]), dict)
            assert fn["name"]


def test_usage_is_last_non_null_and_never_summed():
    for s in all_streams(seeds=range(30)):
        sent = [c["usage"] for c in s.chunks if c.get("usage") is not None]
        assert s.expected["usage"] == (sent[-1] if sent else None)


def test_logprobs_expected():
    for s in all_streams(["logprobs"]):
        lp = s.expected["choices"][0]["logprobs"]
        assert lp["refusal"] is None
        assert (
            "".join(e["token"] for e in lp["content"])
            == s.expected["choices"][0]["message"]["content"]
        )
        n_tops = {len(e["top_logprobs"]) for e in lp["content"]}
        assert len(n_tops) == 1 and n_tops <= {2, 3}
        for e in lp["content"]:
            assert bytes(e["bytes"]).decode("utf-8") == e["token"]
            assert e["logprob"] < 0
            assert e["top_logprobs"][0]["token"] == e["token"]


# ---------------------------------------------------------------------------
# Vendor quirks really appear in the chunks
# ---------------------------------------------------------------------------


def test_text_kind_openai_shape():
    usage_seen = empty_seen = False
    for s in all_streams(["text"], seeds=range(100)):
        first = s.chunks[0]["choices"][0]
        assert first["delta"] == {"role": "assistant", "content": "", "refusal": None}
        if s.chunks[-1]["choices"] == []:
            u = s.chunks[-1]["usage"]
            assert set(u["prompt_tokens_details"]) == {"cached_tokens", "audio_tokens"}
            assert set(u["completion_tokens_details"]) == {
                "reasoning_tokens",
                "audio_tokens",
                "accepted_prediction_tokens",
                "rejected_prediction_tokens",
            }
            usage_seen = True
        if s.expected["choices"][0]["message"]["content"] == "":
            empty_seen = True
    assert usage_seen and empty_seen


def test_tool_calls_kind_openai_shape():
    for s in all_streams(["tool_calls"]):
        entries = list(tool_entries(s))
        firsts = [e for e in entries if "id" in e]
        assert [e["index"] for e in firsts] == list(range(len(firsts))) and len(firsts) >= 2
        assert all(e["function"]["arguments"] == "" and e["type"] == "function" for e in firsts)
        assert all(
            set(e) == {"index", "function"} and set(e["function"]) == {"arguments"}
            for e in entries
            if "id" not in e
        )
        assert s.expected["choices"][0]["finish_reason"] == "tool_calls"


def test_n2_sometimes_choice1_first():
    firsts = set()
    for s in all_streams(["n2"]):
        firsts.add(s.chunks[0]["choices"][0]["index"])
        assert [c["index"] for c in s.expected["choices"]] == [0, 1]
    assert firsts == {0, 1}


def test_reasoning_variants():
    seen = set()
    for s in all_streams(["reasoning"]):
        msg = s.expected["choices"][0]["message"]
        seen.add(s.variant)
        if s.variant == "deepseek":
            assert msg["reasoning_content"] and msg["reasoning"] is None
        else:
            assert msg["reasoning"] and msg["reasoning_content"] is None
        assert msg["content"]
    assert seen == {"deepseek", "vllm", "openrouter"}


def test_atoma_quirks():
    wrapped = set()
    for s in all_streams(["atoma"], seeds=range(100)):
        assert all(
            isinstance(c["signature"], str) and isinstance(c["response_hash"], str)
            for c in s.chunks
        )
        last = s.chunks[-1]
        assert last["choices"] and last["usage"] is not None
        sr = last["choices"][0]["stop_reason"]
        if sr is not None:
            ((key, inner),) = sr.items()
            wrapped.add(key)
            assert s.expected["choices"][0]["stop_reason"] == inner
    assert wrapped == {"Int", "String"}


def test_vllm_continuous_usage():
    types = set()
    for s in all_streams(["vllm"]):
        assert all(c["usage"] is not None for c in s.chunks)
        totals = [c["usage"]["completion_tokens"] for c in s.chunks]
        assert totals == sorted(totals)
        types.add(type(s.expected["choices"][0]["stop_reason"]).__name__)
    assert types == {"int", "str", "NoneType"}


def test_usage_only_final():
    for s in all_streams(["usage_only_final"]):
        assert s.chunks[-1]["choices"] == [] and s.chunks[-1]["usage"] is not None
        assert all("usage" in c for c in s.chunks)


def test_azure_quirks():
    for s in all_streams(["azure"]):
        first = s.chunks[0]
        assert first["id"] == "" and first["model"] == "" and first["choices"] == []
        assert "prompt_filter_results" in first
        assert any("content_filter_results" in ch for c in s.chunks[1:] for ch in c["choices"])
        assert s.expected["id"] and s.expected["model"] and s.expected["created"]


def test_refusal_kind():
    for s in all_streams(["refusal"]):
        msg = s.expected["choices"][0]["message"]
        assert msg["content"] is None and msg["refusal"]


def test_repeated_tool_names_not_doubled():
    for s in all_streams(["repeated_tool_names"]):
        entries = list(tool_entries(s))
        assert all({"id", "type"} <= set(e) and "name" in e["function"] for e in entries)
        names = [tc["function"]["name"] for tc in s.expected["choices"][0]["message"]["tool_calls"]]
        assert all(n in {e["function"]["name"] for e in entries} for n in names)
        assert len(entries) > len(names)


def test_ollama_index0():
    forms = set()
    for s in all_streams(["ollama_index0"]):
        entries = list(tool_entries(s))
        assert len(entries) >= 2 and all(e["index"] == 0 for e in entries)
        assert len({e["id"] for e in entries}) == len(entries)
        exp_calls = s.expected["choices"][0]["message"]["tool_calls"]
        assert len(exp_calls) == len(entries)
        for e, tc in zip(entries, exp_calls):
            args = e["function"]["arguments"]
            forms.add(type(args).__name__)
            if isinstance(args, dict):
                assert tc["function"]["arguments"] == json.dumps(
                    args, separators=(",", ":"), ensure_ascii=False
                )
            else:
                assert tc["function"]["arguments"] == args
    assert forms == {"dict", "str"}


def test_mistral_no_index():
    continued = False
    for s in all_streams(["mistral_no_index"]):
        entries = list(tool_entries(s))
        assert all("index" not in e for e in entries)
        continued |= any("id" not in e for e in entries)
        assert len(s.expected["choices"][0]["message"]["tool_calls"]) == sum(
            "id" in e for e in entries
        )
    assert continued


def test_out_of_order_tools():
    for s in all_streams(["out_of_order_tools"]):
        entries = list(tool_entries(s))
        assert entries[0]["index"] == 1
        calls = s.expected["choices"][0]["message"]["tool_calls"]
        assert calls[0]["id"] == next(e["id"] for e in entries if e["index"] == 0 and "id" in e)


def test_speculative_multiple_entries_same_index():
    for s in all_streams(["speculative"]):
        assert any(
            len(ch["delta"].get("tool_calls") or []) >= 2
            and len({e["index"] for e in ch["delta"]["tool_calls"]})
            < len(ch["delta"]["tool_calls"])
            for c in s.chunks
            for ch in c["choices"]
        )


def test_legacy_function_call():
    for s in all_streams(["legacy_function_call"]):
        msg = s.expected["choices"][0]["message"]
        assert msg["tool_calls"] is None and msg["function_call"]["name"]
        assert s.expected["choices"][0]["finish_reason"] == "function_call"


def test_string_index():
    for s in all_streams(["string_index"]):
        idxs = [ch["index"] for c in s.chunks for ch in c["choices"]]
        idxs += [e["index"] for e in tool_entries(s)]
        assert idxs and all(isinstance(i, str) and i.isdigit() for i in idxs)
        assert all(type(ch["index"]) is int for ch in s.expected["choices"])


# ---------------------------------------------------------------------------
# Hand-written SSE examples
# ---------------------------------------------------------------------------


def test_sse_examples():
    bodies = corpus.chunk_sse_examples()
    streams = corpus.chunk_sse_example_streams()
    assert (
        set(bodies)
        == set(streams)
        >= {
            "crlf",
            "keepalive_comments",
            "openrouter_processing",
            "data_no_space",
            "bare_keepalive_text",
        }
    )
    assert b"\r\n" in bodies["crlf"]
    assert b": keep-alive" in bodies["keepalive_comments"]
    assert b": OPENROUTER PROCESSING" in bodies["openrouter_processing"]
    assert b"data:{" in bodies["data_no_space"]
    assert b"\nkeep-alive-text\n" in bodies["bare_keepalive_text"]
    for name, body in bodies.items():
        assert isinstance(body, bytes)
        assert parse_sse(body)[-1] == "[DONE]", name
        assert sse_chunks(body) == streams[name].chunks, name
        assert reference_merge(streams[name].chunks) == streams[name].expected, name


# ---------------------------------------------------------------------------
# Realism: the OpenAI-shaped kinds validate against the openai SDK's models
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "text",
        "tool_calls",
        "logprobs",
        "n2",
        "refusal",
        "usage_only_final",
        "out_of_order_tools",
        "legacy_function_call",
        "reasoning",
        "vllm",
    ],
)
def test_openai_sdk_accepts_chunks(kind):
    openai_chunk = pytest.importorskip("openai.types.chat")
    for s in all_streams([kind], seeds=range(20)):
        for c in s.chunks:
            openai_chunk.ChatCompletionChunk.model_validate(c)
