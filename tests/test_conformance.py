"""Conformance: every recorded OpenAI chunk reads exactly as openai-python reads
it, and every generated vendor chunk reads as its source dict says."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest
from chatchunk import ChatCompletionChunk, ParseError
from conftest import FIELDS, assert_matches_dict, recorded_chunks, recorded_streams
from corpus import KINDS, make_streams
from openai.types.chat import ChatCompletionChunk as OpenAIChunk

RECORDED = recorded_chunks()


def _plain(value: Any) -> Any:
    """An openai value as plain JSON-like data (for comparing with our extras)."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def assert_same_as_openai(ours: Any, theirs: Any, path: str = "$") -> None:
    """Walk openai's model fields and compare with our attributes, recursively."""
    if isinstance(theirs, pydantic.BaseModel):
        name = type(ours).__name__
        assert name in FIELDS, f"{path}: openai has a model, we have {ours!r}"
        ours_known = FIELDS[name]
        their_fields = type(theirs).model_fields
        for field in their_fields:
            value = getattr(theirs, field)
            if field in ours_known:
                assert_same_as_openai(getattr(ours, field), value, f"{path}.{field}")
            elif field in theirs.model_fields_set:
                # a field openai knows and we do not: kept verbatim in our extras
                assert field in ours.extra, f"{path}.{field}: missing from extras"
                assert ours.extra[field] == _plain(value), f"{path}.{field}"
            else:
                assert field not in ours.extra, f"{path}.{field}: unset in openai, extra in ours"
        their_extra = theirs.model_extra or {}
        ours_extra_unknown_to_openai = {
            k: v for k, v in ours.extra.items() if k not in their_fields
        }
        their_extra_unknown_to_us = {k: v for k, v in their_extra.items() if k not in ours_known}
        assert their_extra_unknown_to_us == ours_extra_unknown_to_openai, f"{path}: extras differ"
        for k in their_extra.keys() & ours_known:  # our vendor fields sit in openai's extras
            assert their_extra[k] == ours.to_dict()[k], f"{path}.{k}"
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: {ours!r} is not a list"
        assert len(ours) == len(theirs), f"{path}: {len(ours)} != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same_as_openai(a, b, f"{path}[{i}]")
    else:
        assert not isinstance(ours, (list, dict)) and type(ours).__name__ not in FIELDS, (
            f"{path}: {ours!r}"
        )
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
        if theirs is not None:
            assert type(ours) is type(theirs), f"{path}: {type(ours)} != {type(theirs)}"


# ---------------------------------------------------------------------------
# Recorded OpenAI streams
# ---------------------------------------------------------------------------


def test_recorded_streams_are_present():
    streams = recorded_streams()
    assert len(streams) >= 10
    assert all(payloads for _, payloads in streams)
    assert len(RECORDED) >= 300
    assert all(not p.startswith("[DONE]") and p.startswith("{") for _, p in RECORDED)


@pytest.mark.parametrize("src", [p for _, p in RECORDED], ids=[i for i, _ in RECORDED])
def test_recorded_chunk_matches_openai(src):
    ours = ChatCompletionChunk.from_json(src)
    theirs = OpenAIChunk.model_validate_json(src)
    assert_same_as_openai(ours, theirs)
    # lossless both ways
    assert json.loads(ours.to_json()) == json.loads(src)
    assert ours.to_dict() == json.loads(src)
    # a real OpenAI chunk is valid in strict mode too, and reads the same
    assert ChatCompletionChunk.from_json(src.encode(), strict=True) == ours
    assert ChatCompletionChunk.from_dict(json.loads(src)) == ours
    # and both directions of the openai bridge agree
    assert ours.to_openai() == theirs
    assert ChatCompletionChunk.from_openai(theirs) == ours
    assert_matches_dict(ours, json.loads(src))


def test_recorded_streams_text_reassembles():
    # The recorded streams carry either content, refusal or tool-call arguments;
    # concatenating each through our attributes and through openai's must agree.
    for name, payloads in recorded_streams():
        ours_parts: list[str] = []
        their_parts: list[str] = []
        for src in payloads:
            o = OpenAIChunk.model_validate_json(src)
            c = ChatCompletionChunk.from_json(src)
            for oc, cc in zip(o.choices, c.choices):
                ours_parts += [cc.delta.content or "", cc.delta.refusal or ""]
                their_parts += [oc.delta.content or "", oc.delta.refusal or ""]
                for ot, ct in zip(oc.delta.tool_calls or [], cc.delta.tool_calls or []):
                    ours_parts.append(ct.function.arguments or "")
                    their_parts.append(ot.function.arguments or "")
        assert "".join(ours_parts) == "".join(their_parts), name
        assert "".join(ours_parts), name


def test_walker_detects_differences():
    # The comparison above must be able to fail.
    src = RECORDED[1][1]
    theirs = OpenAIChunk.model_validate_json(src)
    changed = json.loads(src)
    changed["model"] = changed["model"] + "-x"
    with pytest.raises(AssertionError):
        assert_same_as_openai(ChatCompletionChunk.from_dict(changed), theirs)
    changed = json.loads(src)
    changed["vendor"] = 1
    with pytest.raises(AssertionError):
        assert_same_as_openai(ChatCompletionChunk.from_dict(changed), theirs)


def test_openai_only_fields_are_extras():
    src = json.loads(RECORDED[0][1])
    src["obfuscation"] = "abc"
    src["choices"][0]["delta"]["audio"] = {"id": "audio_1", "data": "AAAA", "transcript": "hi"}
    text = json.dumps(src)
    ours = ChatCompletionChunk.from_json(text)
    theirs = OpenAIChunk.model_validate_json(text)
    assert_same_as_openai(ours, theirs)
    assert ours.extra == {"obfuscation": "abc"}
    assert ours.choices[0].delta.extra == {
        "audio": {"id": "audio_1", "data": "AAAA", "transcript": "hi"}
    }
    assert ours.to_dict() == src


def test_vendor_fields_compare_with_openai_extras():
    src = json.loads(RECORDED[0][1])
    src["choices"][0]["stop_reason"] = {"Int": 128009}
    src["choices"][0]["delta"]["reasoning_content"] = "hmm"
    src["signature"] = "sig"
    text = json.dumps(src)
    ours = ChatCompletionChunk.from_json(text)
    assert_same_as_openai(ours, OpenAIChunk.model_validate_json(text))
    assert ours.choices[0].stop_reason == 128009


# ---------------------------------------------------------------------------
# Generated vendor streams (tests/corpus.py)
# ---------------------------------------------------------------------------

CORPUS = make_streams(300, seed=20240917)


def test_corpus_covers_every_kind():
    assert {s.kind for s in CORPUS} == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_corpus_round_trip_and_attributes(kind):
    streams = [s for s in CORPUS if s.kind == kind]
    assert streams
    n = 0
    for stream in streams:
        for d in stream.chunks:
            for src in (
                json.dumps(d, ensure_ascii=False, separators=(",", ":")),
                json.dumps(d),  # ASCII with \u escapes, spaced separators
                json.dumps(d, indent=1).encode(),
            ):
                c = ChatCompletionChunk.from_json(src)
                assert c.to_dict() == d
                assert json.loads(c.to_json()) == d
                assert_matches_dict(c, d)
                n += 1
            assert ChatCompletionChunk.from_dict(d) == ChatCompletionChunk.from_json(json.dumps(d))
            assert ChatCompletionChunk(**d) == ChatCompletionChunk.from_dict(d)
            dump = c.model_dump()
            assert set(dump) == FIELDS["ChatCompletionChunk"] | set(
                d.keys() - FIELDS["ChatCompletionChunk"]
            )
            assert json.loads(c.model_dump_json()) == dump
    assert n > 0


@pytest.mark.parametrize("kind", KINDS)
def test_corpus_strict_mode(kind):
    # Strict mode accepts a chunk exactly when it has the OpenAI-required shape.
    for stream in (s for s in CORPUS if s.kind == kind):
        for d in stream.chunks:
            src = json.dumps(d)
            try:
                strict = ChatCompletionChunk.from_json(src, strict=True)
            except ParseError as e:
                assert _violates_strict(d), (kind, e.path, e.message)
                with pytest.raises(ParseError) as info:
                    ChatCompletionChunk.from_dict(d, strict=True)
                assert info.value.path == e.path
            else:
                assert not _violates_strict(d), (kind, d)
                assert strict == ChatCompletionChunk.from_json(src)


def _violates_strict(d: dict) -> bool:
    if any(k not in d or d[k] is None for k in ("id", "object", "created", "model", "choices")):
        return True
    if d["object"] != "chat.completion.chunk":
        return True
    for ch in d["choices"]:
        if ch.get("index") is None or "delta" not in ch or not isinstance(ch["index"], int):
            return True
        for tc in (ch.get("delta") or {}).get("tool_calls") or ():
            if not isinstance(tc.get("index"), int):
                return True
            args = (tc.get("function") or {}).get("arguments")
            if args is not None and not isinstance(args, str):
                return True
    usage = d.get("usage")
    return usage is not None and any(
        k not in usage for k in ("prompt_tokens", "completion_tokens", "total_tokens")
    )


def test_corpus_sse_payloads_parse():
    # The SSE bodies the corpus renders split back into the same chunks.
    from conftest import sse_data_payloads
    from corpus import to_sse

    for stream in CORPUS[:40]:
        for line_end in ("\n", "\r\n", "\r"):
            payloads = sse_data_payloads(to_sse(stream.chunks, line_end=line_end).decode())
            assert [ChatCompletionChunk.from_json(p).to_dict() for p in payloads] == stream.chunks


def test_dict_walker_detects_differences():
    d = next(
        d
        for s in CORPUS
        if s.kind == "atoma"
        for d in s.chunks
        if d["choices"] and d["choices"][0].get("stop_reason")
    )
    c = ChatCompletionChunk.from_dict(d)
    assert_matches_dict(c, d)
    for mutate in (
        lambda x: x.__setitem__("model", "other"),
        lambda x: x.__setitem__("new_key", 1),
        lambda x: x.pop("signature"),
        lambda x: x["choices"][0].__setitem__("stop_reason", {"Int": 1}),
        lambda x: x["choices"][0]["delta"].__setitem__("content", "changed"),
        lambda x: x["choices"].append({"index": 1, "delta": {}}),
    ):
        changed = json.loads(json.dumps(d))
        mutate(changed)
        with pytest.raises(AssertionError):
            assert_matches_dict(c, changed)
