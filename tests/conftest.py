"""Shared helpers and fixtures for the chatchunk model tests.

Everything here resolves paths relative to this file, so the tests run from any
working directory and need nothing outside ``tests/``.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:  # makes ``import corpus`` / ``import conftest`` work
    sys.path.insert(0, str(TESTS_DIR))

DATA_DIR = TESTS_DIR / "data"
RECORDED_DIR = DATA_DIR / "openai-recorded"
JSONTESTSUITE_DIR = DATA_DIR / "jsontestsuite"

SEED_JSON = (
    '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,'
    '"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,'
    '"delta":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":null}],'
    '"usage":{"prompt_tokens":20,"completion_tokens":1,"total_tokens":21,'
    '"prompt_tokens_details":{"cached_tokens":10}}}'
)


# ---------------------------------------------------------------------------
# SSE
# ---------------------------------------------------------------------------


def sse_data_payloads(text: str) -> list[str]:
    """The ``data`` payload of every event in an SSE body, ``[DONE]`` excluded.

    A deliberately small splitter: lines end in LF, CRLF or CR; a blank line ends
    an event; ``data:`` lines (one optional space after the colon) of one event
    are joined with ``\\n``; comments and other fields are ignored.
    """
    payloads: list[str] = []
    data_lines: list[str] = []

    def flush() -> None:
        if data_lines:
            payload = "\n".join(data_lines)
            if payload != "[DONE]":
                payloads.append(payload)
            data_lines.clear()

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            flush()
        elif line.startswith("data:"):
            value = line[5:]
            data_lines.append(value[1:] if value.startswith(" ") else value)
        # comments (":...") and other fields (event:, id:, retry:) are ignored
    flush()
    return payloads


@functools.cache
def _recorded_streams() -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for path in sorted(RECORDED_DIR.glob("*.sse")):
        payloads = sse_data_payloads(path.read_text(encoding="utf-8"))
        out.append((path.stem, tuple(payloads)))
    return tuple(out)


def recorded_streams() -> list[tuple[str, list[str]]]:
    """``(name, [data payload, ...])`` for every recorded OpenAI ``.sse`` file."""
    return [(name, list(payloads)) for name, payloads in _recorded_streams()]


def recorded_chunks() -> list[tuple[str, str]]:
    """``(test id, payload)`` for every chunk of every recorded stream."""
    return [
        (f"{name}#{i}", payload)
        for name, payloads in recorded_streams()
        for i, payload in enumerate(payloads)
    ]


# ---------------------------------------------------------------------------
# The model's shape: known fields per class and the class of each nested key
# ---------------------------------------------------------------------------

#: Known (wire-named) fields of every class; anything else goes to ``.extra``.
FIELDS: dict[str, frozenset[str]] = {
    "ChatCompletionChunk": frozenset(
        {
            "id",
            "object",
            "created",
            "model",
            "choices",
            "usage",
            "system_fingerprint",
            "service_tier",
        }
    ),
    "ChatCompletionChunkChoice": frozenset(
        {"index", "delta", "finish_reason", "logprobs", "stop_reason"}
    ),
    "ChatCompletionChunkDelta": frozenset(
        {
            "role",
            "content",
            "refusal",
            "reasoning_content",
            "reasoning",
            "tool_calls",
            "function_call",
        }
    ),
    "ChatCompletionChunkDeltaToolCall": frozenset({"index", "id", "type", "function"}),
    "ChatCompletionChunkDeltaToolCallFunction": frozenset({"name", "arguments"}),
    "FunctionCall": frozenset({"name", "arguments"}),
    "ChatCompletionLogProbs": frozenset({"content", "refusal"}),
    "ChatCompletionLogProbsContent": frozenset({"token", "logprob", "bytes", "top_logprobs"}),
    "ChatCompletionLogProb": frozenset({"token", "logprob", "bytes"}),
    "CompletionUsage": frozenset(
        {
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "prompt_tokens_details",
            "completion_tokens_details",
        }
    ),
    "PromptTokensDetails": frozenset({"cached_tokens", "audio_tokens"}),
    "CompletionTokensDetails": frozenset(
        {
            "reasoning_tokens",
            "audio_tokens",
            "accepted_prediction_tokens",
            "rejected_prediction_tokens",
        }
    ),
}

#: (class name, key) -> (class of the nested value, is it a list of them).
CHILDREN: dict[tuple[str, str], tuple[str, bool]] = {
    ("ChatCompletionChunk", "choices"): ("ChatCompletionChunkChoice", True),
    ("ChatCompletionChunk", "usage"): ("CompletionUsage", False),
    ("ChatCompletionChunkChoice", "delta"): ("ChatCompletionChunkDelta", False),
    ("ChatCompletionChunkChoice", "logprobs"): ("ChatCompletionLogProbs", False),
    ("ChatCompletionChunkDelta", "tool_calls"): ("ChatCompletionChunkDeltaToolCall", True),
    ("ChatCompletionChunkDelta", "function_call"): ("FunctionCall", False),
    ("ChatCompletionChunkDeltaToolCall", "function"): (
        "ChatCompletionChunkDeltaToolCallFunction",
        False,
    ),
    ("ChatCompletionLogProbs", "content"): ("ChatCompletionLogProbsContent", True),
    ("ChatCompletionLogProbs", "refusal"): ("ChatCompletionLogProbsContent", True),
    ("ChatCompletionLogProbsContent", "top_logprobs"): ("ChatCompletionLogProb", True),
    ("CompletionUsage", "prompt_tokens_details"): ("PromptTokensDetails", False),
    ("CompletionUsage", "completion_tokens_details"): ("CompletionTokensDetails", False),
}


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _contains_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_contains_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_float(v) for v in value)
    return False


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: like ``==`` but ``True`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    return a == b


def assert_matches_dict(obj: Any, d: dict, path: str = "$") -> None:
    """Walk the source dict ``d`` and check ``obj`` attribute by attribute.

    Every known key's value must equal the attribute (lenient forms
    canonicalised: digit-string indices -> int, ``{"Int": n}`` / ``{"String": s}``
    stop reasons -> the plain value, tool-call arguments sent as JSON -> compact
    JSON text, ``"choices": null`` -> ``[]``); known keys absent from ``d`` read
    as ``None``; unknown keys are exactly ``obj.extra``.
    """
    cls = type(obj).__name__
    assert cls in FIELDS, f"{path}: unexpected class {cls}"
    assert isinstance(d, dict), f"{path}: source is not an object"
    known = FIELDS[cls]
    expected_extra = {k: v for k, v in d.items() if k not in known}
    assert _same_json(obj.extra, expected_extra), (
        f"{path}: extra {obj.extra!r} != {expected_extra!r}"
    )
    for key in sorted(known):
        sub = f"{path}.{key}"
        attr = getattr(obj, key)
        if key not in d:
            if (cls, key) == ("ChatCompletionChunk", "choices"):
                raise AssertionError(f"{sub}: required key missing from the source")
            assert attr is None, f"{sub}: absent in source but attribute is {attr!r}"
            continue
        value = d[key]
        child = CHILDREN.get((cls, key))
        if child is not None:
            child_cls, is_list = child
            if value is None:
                empty = [] if (cls, key) == ("ChatCompletionChunk", "choices") else None
                assert attr == empty, f"{sub}: null in source but attribute is {attr!r}"
            elif is_list:
                assert isinstance(attr, list), f"{sub}: {attr!r} is not a list"
                assert len(attr) == len(value), f"{sub}: length {len(attr)} != {len(value)}"
                for i, (item, src) in enumerate(zip(attr, value)):
                    assert type(item).__name__ == child_cls, f"{sub}[{i}]: {type(item).__name__}"
                    assert_matches_dict(item, src, f"{sub}[{i}]")
            else:
                assert type(attr).__name__ == child_cls, (
                    f"{sub}: {type(attr).__name__} != {child_cls}"
                )
                assert_matches_dict(attr, value, sub)
            continue
        if key == "index" and isinstance(value, str):
            assert attr == int(value) and type(attr) is int, f"{sub}: {attr!r} vs {value!r}"
        elif key == "stop_reason" and isinstance(value, dict):
            (inner,) = value.values()
            assert _same_json(attr, inner), f"{sub}: {attr!r} vs {value!r}"
        elif key == "arguments" and isinstance(value, (dict, list)):
            assert isinstance(attr, str), f"{sub}: {attr!r} is not text"
            assert _same_json(json.loads(attr), value), f"{sub}: {attr!r} vs {value!r}"
            if not _contains_float(value):  # float spelling may legitimately differ
                assert attr == compact_json(value), f"{sub}: {attr!r} is not compact JSON"
        elif key == "logprob" and isinstance(value, int) and not isinstance(value, bool):
            assert attr == value and isinstance(attr, float), f"{sub}: {attr!r} vs {value!r}"
        else:
            assert _same_json(attr, value), f"{sub}: {attr!r} != {value!r}"
            if value is not None:
                assert type(attr) is type(value), f"{sub}: type {type(attr)} != {type(value)}"


# ---------------------------------------------------------------------------
# Isolated parsing, for inputs that might crash the interpreter
# ---------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import json, sys
    import chatchunk
    data = sys.stdin.buffer.read()
    mode = sys.argv[1]
    if mode == "str":
        data = data.decode("utf-8")
    try:
        chatchunk.ChatCompletionChunk.from_json(data)
    except chatchunk.ParseError as e:
        print(json.dumps({"outcome": "ParseError", "line": e.line, "column": e.column,
                          "offset": e.offset, "path": e.path}))
    except BaseException as e:
        print(json.dumps({"outcome": type(e).__name__}))
    else:
        print(json.dumps({"outcome": "ok"}))
    """
)


def parse_in_subprocess(data: bytes, mode: str = "bytes") -> dict:
    """Parse ``data`` with ``ChatCompletionChunk.from_json`` in a fresh interpreter.

    Returns the outcome as a dict (``{"outcome": "ParseError", "path": ...}``,
    ``{"outcome": "ok"}``, ``{"outcome": "<other exception>"}``) or, when the
    interpreter dies, ``{"outcome": "crash", "returncode": rc}``, so that a
    stack overflow fails one test instead of killing the whole run.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode],
        input=data,
        capture_output=True,
        timeout=60,
    )
    if proc.returncode != 0:
        return {
            "outcome": "crash",
            "returncode": proc.returncode,
            "stderr": proc.stderr[-500:].decode("utf-8", "replace"),
        }
    return json.loads(proc.stdout)


def max_nesting(data: bytes) -> int:
    """Upper bound of the bracket nesting depth of a JSON text (ignores strings)."""
    depth = best = 0
    for b in data:
        if b in (0x5B, 0x7B):
            depth += 1
            best = max(best, depth)
        elif b in (0x5D, 0x7D):
            depth = max(0, depth - 1)
    return best


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def seed_json() -> str:
    return SEED_JSON


@pytest.fixture
def seed_dict() -> dict:
    return json.loads(SEED_JSON)


@pytest.fixture(scope="session")
def recorded() -> list[tuple[str, list[str]]]:
    return recorded_streams()


def _logprobs_view(lp):
    if lp is None:
        return None

    def items(xs):
        return None if xs is None else [x.to_dict() for x in xs]

    return {"content": items(lp.content), "refusal": items(lp.refusal)}


def _message_view(m):
    calls = m.tool_calls
    fc = m.function_call
    return {
        "role": m.role,
        "content": m.content,
        "refusal": m.refusal,
        "reasoning_content": m.reasoning_content,
        "reasoning": m.reasoning,
        "tool_calls": None
        if calls is None
        else [
            {
                "id": t.id,
                "type": t.type,
                "function": {"name": t.function.name, "arguments": t.function.arguments},
            }
            for t in calls
        ],
        "function_call": None if fc is None else {"name": fc.name, "arguments": fc.arguments},
    }


def completion_view(c) -> dict:
    """The completion read attribute by attribute, in the corpus' expected shape."""
    return {
        "id": c.id,
        "object": c.object,
        "created": c.created,
        "model": c.model,
        "system_fingerprint": c.system_fingerprint,
        "service_tier": c.service_tier,
        "choices": [
            {
                "index": ch.index,
                "finish_reason": ch.finish_reason,
                "stop_reason": ch.stop_reason,
                "logprobs": _logprobs_view(ch.logprobs),
                "message": _message_view(ch.message),
            }
            for ch in c.choices
        ],
        "usage": None if c.usage is None else c.usage.to_dict(),
    }
