"""Deterministic generator of realistic ``chat.completion.chunk`` streams.

Every generated :class:`Stream` carries the chunk dicts in wire order *and* the
exact completion that a correct merge of those chunks produces.  The expected
completion is built from what the generator *meant* to send (the full text,
the full tool-call arguments, ...) and never by merging the chunks, so it is an
independent oracle for parsers and mergers.

Only the standard library is used; everything is driven by the
``random.Random`` instance passed in, so a seed fully determines the output.

Merge contract the expected completions follow
----------------------------------------------
* ``id``/``model``/``created``/``system_fingerprint``/``service_tier``: first
  non-empty value seen (``""``, ``0`` and ``null`` count as empty -- Azure's
  first chunk carries ``"id": ""``, ``"model": ""`` and ``"created": 0``).
* choices keyed by ``index`` (ints; digit strings such as ``"0"`` are
  normalised), sorted by index.
* ``role``: first non-empty value.
* ``content``/``refusal``/``reasoning_content``/``reasoning``: concatenated in
  arrival order; ``None`` if never sent or only ever sent as ``null``; ``""``
  if sent as ``""`` at least once and nothing else.
* ``tool_calls`` keyed by logical index; ``id``/``type``/``function.name`` are
  set once (first non-empty value), ``arguments`` are concatenated.  A call
  sent at an index already holding a call with a *different* id starts a new
  call (Ollama sends every call at index 0); entries with no ``index`` start a
  new call when they carry a new id and otherwise continue the last call
  (Mistral).  Arguments sent as a JSON object are rendered as compact JSON
  text (``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``).
  Result sorted by index, then by arrival.  ``None`` if no call was sent.
* ``function_call`` (legacy): name set once, arguments concatenated.
* ``finish_reason``/``stop_reason``: last non-null value; Atoma's wrapped
  ``{"Int": 128009}`` / ``{"String": "</s>"}`` are unwrapped.
* ``logprobs``: ``None`` unless a non-null ``logprobs`` object was seen; then
  ``{"content": ..., "refusal": ...}`` where each list is the concatenation of
  the non-null lists sent (``None`` if that list was never sent non-null).
* ``usage``: the last non-null ``usage`` object, exactly as sent (never summed).

Public API: :class:`Stream`, :data:`KINDS`, :func:`make_stream`,
:func:`make_streams`, :func:`interleave`, :func:`to_sse`,
:func:`chunk_sse_examples`, :func:`chunk_sse_example_streams`.
"""

from __future__ import annotations

import copy
import json
import random
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Callable

__all__ = [
    "KINDS",
    "Stream",
    "chunk_sse_example_streams",
    "chunk_sse_examples",
    "interleave",
    "make_stream",
    "make_streams",
    "to_sse",
]


@dataclass
class Stream:
    """One generated stream: its chunks in wire order and the merged result."""

    kind: str
    chunks: list[dict]
    expected: dict
    variant: str = ""  # sub-flavour within a kind (e.g. "deepseek"), informational

    @property
    def id(self) -> str | None:
        """The completion id (``expected["id"]``)."""
        return self.expected["id"]

    def sse(self, *, done: bool = True, line_end: str = "\n") -> bytes:
        """Shortcut for ``to_sse(self.chunks, ...)``."""
        return to_sse(self.chunks, done=done, line_end=line_end)


_MISSING: Any = object()  # "key not sent at all" (as opposed to sent as null)

# ---------------------------------------------------------------------------
# Random building blocks
# ---------------------------------------------------------------------------

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"
_B64 = string.ascii_letters + string.digits + "+/"

_WORDS = (
    "the",
    "a",
    "an",
    "model",
    "stream",
    "token",
    "chunk",
    "merge",
    "server",
    "client",
    "request",
    "response",
    "latency",
    "buffer",
    "parser",
    "value",
    "quickly",
    "simply",
    "however",
    "because",
    "which",
    "data",
    "function",
    "result",
    "weather",
    "city",
    "today",
    "tomorrow",
    "should",
    "could",
    "will",
    "is",
    "are",
    "was",
    "not",
    "and",
    "or",
    "but",
    "with",
    "without",
    "into",
    "over",
    "under",
    "between",
    "about",
    "JSON",
    "API",
    "HTTP",
    "UTF-8",
    "Rust",
    "Python",
    "you",
    "we",
    "it",
    "this",
    "that",
    "first",
    "last",
    "every",
    "answer",
    "question",
    "example",
    "field",
    "index",
    "list",
    "sorted",
    "order",
    "rain",
    "sunny",
    "degrees",
    "around",
    "likely",
    "here's",
    "let's",
    "can't",
    "it's",
    "2024",
    "42",
    "3.14",
    "100%",
    "e.g.",
    "i.e.",
)

# Rarer tokens that exercise escaping and UTF-8 handling.
_SPICE = (
    "café",
    "naïve",
    "Größe",
    "façade",
    "jalapeño",
    "日本語",
    "中文字符",
    "Привет",
    "مرحبا",
    "שלום",
    "한국어",
    "ελληνικά",
    "🙂",
    "🚀",
    "👩‍💻",
    "🇫🇷",
    "❤️",
    "👍🏽",
    "e\u0301",
    "∑x²",
    "—",
    "…",
    "“curly”",
    "‘single’",
    '"quoted"',
    "'apostrophe'",
    "C:\\Users\\me",
    "a\\b",
    "\\n",
    "\\u0041",
    "<tag>",
    "&amp;",
    "{braces}",
    "[1, 2]",
    "tab\there",
    "x\u00a0y",
    "zero\u200bwidth",
    "line\u2028sep",
    "para\u2029sep",
    "nel\x85x",
    "bell\x07",
    "\x1b[0m",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\ufeffbom",
    "½",
    "©",
    "→",
)

_CODE_BLOCKS = (
    '```python\nprint("a\\tb", end="\\n")\n```',
    '```json\n{"path": "C:\\\\temp\\\\x.txt", "ok": true, "n": null}\n```',
    "```bash\necho \"$HOME\" | sed 's/\\//_/g'\n```",
    '```rust\nlet s = "日本\\u{1F600}";\nprintln!("{s:?}");\n```',
    "```\n\tindented with a tab\n  and spaces\n```",
)

_CITIES = (
    "Paris",
    "São Paulo",
    "Zürich",
    "東京",
    "Kraków",
    "Reykjavík",
    "New York, NY",
    "Montréal",
    "Αθήνα",
    "Cairo",
    "Dubai",
    "Москва",
)


def _alnum(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return _alnum(rng, n, _HEX)


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def _created(rng: random.Random) -> int:
    return rng.randint(1_700_000_000, 1_760_000_000)


def _fingerprint(rng: random.Random) -> str:
    return "fp_" + _hex(rng, 10)


def _word(rng: random.Random) -> str:
    return rng.choice(_SPICE) if rng.random() < 0.15 else rng.choice(_WORDS)


def _sentence(rng: random.Random) -> str:
    words = [_word(rng) for _ in range(rng.randint(3, 14))]
    first = words[0]
    words[0] = first[:1].upper() + first[1:]
    return " ".join(words) + rng.choice((".", ".", ".", "!", "?", ":", "..."))


def _text(rng: random.Random, min_blocks: int = 1, max_blocks: int = 4) -> str:
    """A few sentences, sometimes with a code block or a markdown list."""
    parts: list[str] = []
    for _ in range(rng.randint(min_blocks, max_blocks)):
        r = rng.random()
        if r < 0.08:
            block = rng.choice(_CODE_BLOCKS)
        elif r < 0.14:
            block = "\n".join(
                "- " + _word(rng) + " " + _word(rng) for _ in range(rng.randint(2, 4))
            )
        else:
            block = _sentence(rng)
        if parts:
            parts.append(rng.choice((" ", " ", " ", "\n", "\n\n")))
        parts.append(block)
    return "".join(parts)


_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def _split_text(text: str, rng: random.Random) -> list[str]:
    """Split text into non-empty, token-like pieces whose concatenation is text."""
    pieces: list[str] = []
    for tok in _TOKEN_RE.findall(text):
        r = rng.random()
        if len(tok) > 4 and r < 0.3:
            cuts = sorted(rng.sample(range(1, len(tok)), k=min(len(tok) - 1, rng.randint(1, 2))))
            bounds = [0, *cuts, len(tok)]
            pieces.extend(tok[a:b] for a, b in zip(bounds, bounds[1:]))
        elif pieces and r < 0.45:
            pieces[-1] += tok
        else:
            pieces.append(tok)
    assert "".join(pieces) == text and all(pieces)
    return pieces


def _split_args(s: str, rng: random.Random, max_len: int = 9) -> list[str]:
    """Cut a string at arbitrary character positions (like argument tokens)."""
    out: list[str] = []
    i = 0
    while i < len(s):
        n = rng.randint(1, max_len)
        out.append(s[i : i + n])
        i += n
    return out


def _tool_spec(rng: random.Random) -> tuple[str, dict]:
    """A realistic (function name, arguments object) pair."""
    k = rng.randrange(8)
    if k == 0:
        return "get_weather", {
            "location": rng.choice(_CITIES),
            "unit": rng.choice(("celsius", "fahrenheit")),
        }
    if k == 1:
        return "search_web", {
            "query": _sentence(rng),
            "max_results": rng.randint(1, 20),
            "safe_search": rng.random() < 0.5,
        }
    if k == 2:
        return "create_event", {
            "title": _sentence(rng),
            "start": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:30:00Z",
            "duration_minutes": rng.choice((15, 30, 45, 60, 90)),
            "attendees": [
                f"{_alnum(rng, 5, string.ascii_lowercase)}@example.com"
                for _ in range(rng.randint(0, 3))
            ],
            "notes": _text(rng, 1, 2) if rng.random() < 0.6 else None,
        }
    if k == 3:
        return "run_sql", {
            "query": "SELECT name, \"order\" FROM t WHERE note LIKE '%\\\\%' AND city = '"
            + rng.choice(_CITIES)
            + "'"
        }
    if k == 4:
        return "write_file", {
            "path": rng.choice(("C:\\tmp\\out.txt", "/tmp/out.txt", "./notes/ü.md")),
            "content": _text(rng, 1, 3),
            "append": rng.random() < 0.5,
        }
    if k == 5:
        # Only exactly representable, exponent-free numbers, so every JSON
        # encoder renders them identically.
        return "calculate", {
            "expression": "2 * (3 + 4) / 7",
            "values": [rng.randint(-40, 40) / 4 for _ in range(rng.randint(1, 4))],
            "precision": rng.randint(0, 6),
            "options": {"mode": rng.choice(("exact", "fast")), "trace": False, "tags": []},
        }
    if k == 6:
        return "get_current_time", {}
    return "send_message", {
        "to": rng.choice(("alice", "Bob", "Zoë")),
        "text": _sentence(rng) + " " + rng.choice(_SPICE),
    }


def _dump_args(obj: dict, rng: random.Random) -> str:
    """Arguments text the way different models format it."""
    r = rng.random()
    if r < 0.6:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    if r < 0.85:
        return json.dumps(obj, ensure_ascii=False)
    return json.dumps(obj)  # ASCII-only, \uXXXX escapes, ", " / ": " separators


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _logprob(rng: random.Random) -> float:
    return -round(rng.uniform(1e-6, 3.0), 8)


def _logprob_entry(tok: str, rng: random.Random, n_top: int) -> dict:
    lp = _logprob(rng)
    tops = [{"token": tok, "logprob": lp, "bytes": list(tok.encode("utf-8"))}]
    for _ in range(n_top - 1):
        alt = rng.choice(("", " ")) + _word(rng)
        alt_lp = -9999.0 if rng.random() < 0.05 else round(lp - rng.uniform(0.01, 6.0), 8)
        tops.append({"token": alt, "logprob": alt_lp, "bytes": list(alt.encode("utf-8"))})
    return {"token": tok, "logprob": lp, "bytes": list(tok.encode("utf-8")), "top_logprobs": tops}


def _openai_usage(rng: random.Random, completion_tokens: int, reasoning_tokens: int = 0) -> dict:
    prompt = rng.randint(8, 4000)
    cached = rng.choice((0, 0, (prompt // 128) * 128))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _plain_usage(prompt: int, completion: int) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


# ---------------------------------------------------------------------------
# Chunk and expected-completion builders
# ---------------------------------------------------------------------------


class _Envelope:
    """Top-level fields shared by every chunk of one stream."""

    def __init__(
        self,
        head: dict,
        *,
        usage_null: bool = False,
        tail: Callable[[], dict] | None = None,
    ) -> None:
        self.head = head  # fields before "choices" (immutable values only)
        self.usage_null = usage_null  # send "usage": null when there is no usage
        self.tail = tail  # extra keys after choices/usage, fresh per chunk

    def chunk(self, choices: list[dict], usage: Any = _MISSING, **head_overrides: Any) -> dict:
        d = dict(self.head)
        d.update(head_overrides)
        d["choices"] = choices
        if usage is not _MISSING:
            d["usage"] = usage
        elif self.usage_null:
            d["usage"] = None
        if self.tail is not None:
            d.update(self.tail())
        return d


def _openai_head(
    sid: str,
    created: int,
    model: str,
    *,
    service_tier: Any = _MISSING,
    system_fingerprint: Any = _MISSING,
) -> dict:
    head: dict = {"id": sid, "object": "chat.completion.chunk", "created": created, "model": model}
    if service_tier is not _MISSING:
        head["service_tier"] = service_tier
    if system_fingerprint is not _MISSING:
        head["system_fingerprint"] = system_fingerprint
    return head


def _ch(
    index: Any,
    delta: dict,
    finish_reason: str | None = None,
    *,
    logprobs: Any = None,
    logprobs_key: bool = True,
    **extra: Any,
) -> dict:
    """One entry of a chunk's ``choices`` list (OpenAI key order)."""
    c: dict = {"index": index, "delta": delta}
    if logprobs_key:
        c["logprobs"] = logprobs
    c["finish_reason"] = finish_reason
    c.update(extra)
    return c


def _tc(
    index: Any,
    *,
    id: Any = _MISSING,
    type: Any = _MISSING,
    name: Any = _MISSING,
    arguments: Any = _MISSING,
) -> dict:
    """One ``tool_calls`` delta entry; ``index=_MISSING`` omits the index key."""
    d: dict = {}
    if index is not _MISSING:
        d["index"] = index
    if id is not _MISSING:
        d["id"] = id
    if type is not _MISSING:
        d["type"] = type
    fn: dict = {}
    if name is not _MISSING:
        fn["name"] = name
    if arguments is not _MISSING:
        fn["arguments"] = arguments
    d["function"] = fn
    return d


def _msg(
    *,
    role: str | None = "assistant",
    content: str | None = None,
    refusal: str | None = None,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    tool_calls: list[dict] | None = None,
    function_call: dict | None = None,
) -> dict:
    return {
        "role": role,
        "content": content,
        "refusal": refusal,
        "reasoning_content": reasoning_content,
        "reasoning": reasoning,
        "tool_calls": tool_calls,
        "function_call": function_call,
    }


def _exp_tool(id: str | None, type: str | None, name: str | None, arguments: str) -> dict:
    return {"id": id, "type": type, "function": {"name": name, "arguments": arguments}}


def _exp_choice(
    index: int,
    message: dict,
    finish_reason: str | None,
    *,
    stop_reason: Any = None,
    logprobs: dict | None = None,
) -> dict:
    return {
        "index": index,
        "finish_reason": finish_reason,
        "stop_reason": stop_reason,
        "logprobs": copy.deepcopy(logprobs),
        "message": message,
    }


def _nonempty(v: Any) -> Any:
    return None if v is _MISSING or v in ("", 0) else v


def _completion(
    *,
    id: str | None,
    created: int | None,
    model: str | None,
    choices: list[dict],
    system_fingerprint: Any = None,
    service_tier: Any = None,
    usage: dict | None = None,
) -> dict:
    return {
        "id": _nonempty(id),
        "object": "chat.completion",
        "created": _nonempty(created),
        "model": _nonempty(model),
        "system_fingerprint": _nonempty(system_fingerprint),
        "service_tier": _nonempty(service_tier),
        "choices": sorted(choices, key=lambda c: c["index"]),
        "usage": copy.deepcopy(usage),
    }


def _sorted_keys(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sorted_keys(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted_keys(v) for v in obj]
    return obj


def _random_merge(rng: random.Random, seqs: Sequence[Sequence[Any]]) -> list[Any]:
    """Uniformly random interleaving of seqs preserving each one's order."""
    order = [i for i, s in enumerate(seqs) for _ in s]
    rng.shuffle(order)
    pos = [0] * len(seqs)
    out = []
    for i in order:
        out.append(seqs[i][pos[i]])
        pos[i] += 1
    return out


def _pick_id(stream_id: str | None, generated: str) -> str:
    return generated if stream_id is None else stream_id


# ---------------------------------------------------------------------------
# Kinds
# ---------------------------------------------------------------------------

_OPENAI_MODELS = (
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
)
_VLLM_MODELS = (
    "meta-llama/Llama-3.1-8B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
)


def _openai_id(rng: random.Random) -> str:
    return "chatcmpl-" + _alnum(rng, 29)


def _openai_call_id(rng: random.Random) -> str:
    return "call_" + _alnum(rng, 24)


def _vllm_id(rng: random.Random) -> str:
    return "chatcmpl-" + _hex(rng, 32)


class _OpenAIStyle:
    """Common OpenAI envelope options: service tier, fingerprint, usage, obfuscation."""

    def __init__(self, rng: random.Random, stream_id: str | None, *, usage_p: float = 0.5) -> None:
        self.id = _pick_id(stream_id, _openai_id(rng))
        self.created = _created(rng)
        self.model = rng.choice(_OPENAI_MODELS)
        self.service_tier = rng.choice(
            (_MISSING, _MISSING, "default", "default", "flex", "priority")
        )
        self.system_fingerprint = rng.choice((_MISSING, None, _fingerprint(rng), _fingerprint(rng)))
        self.include_usage = rng.random() < usage_p
        usage_null = self.include_usage and rng.random() < 0.8
        tail = None
        if rng.random() < 0.3:
            tail = lambda: {"obfuscation": _alnum(rng, rng.randint(1, 15))}  # noqa: E731
        head = _openai_head(
            self.id,
            self.created,
            self.model,
            service_tier=self.service_tier,
            system_fingerprint=self.system_fingerprint,
        )
        self.env = _Envelope(head, usage_null=usage_null, tail=tail)

    def finish(
        self,
        chunks: list[dict],
        rng: random.Random,
        completion_tokens: int,
        reasoning_tokens: int = 0,
    ) -> dict | None:
        """Append the usage-only final chunk if this stream asked for usage."""
        if not self.include_usage:
            return None
        usage = _openai_usage(rng, completion_tokens, reasoning_tokens)
        chunks.append(self.env.chunk([], usage=usage))
        return usage

    def completion(self, choices: list[dict], usage: dict | None) -> dict:
        return _completion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=choices,
            system_fingerprint=self.system_fingerprint,
            service_tier=self.service_tier,
            usage=usage,
        )


def _kind_text(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id)
    text = "" if rng.random() < 0.05 else _text(rng)
    pieces = _split_text(text, rng)
    env = o.env
    chunks = [env.chunk([_ch(0, {"role": "assistant", "content": "", "refusal": None})])]
    chunks += [env.chunk([_ch(0, {"content": p})]) for p in pieces]
    finish = "length" if rng.random() < 0.15 else "stop"
    chunks.append(env.chunk([_ch(0, {}, finish)]))
    usage = o.finish(chunks, rng, len(pieces))
    exp = o.completion([_exp_choice(0, _msg(content=text), finish)], usage)
    return chunks, exp, "empty" if not text else ""


def _tool_calls_plan(
    rng: random.Random, n: int, call_id: Callable[[random.Random], str]
) -> list[tuple[str, str, str]]:
    """n (id, name, arguments-text) triples."""
    plan = []
    for _ in range(n):
        name, obj = _tool_spec(rng)
        plan.append((call_id(rng), name, _dump_args(obj, rng)))
    return plan


def _kind_tool_calls(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id)
    env = o.env
    plan = _tool_calls_plan(rng, rng.choice((2, 2, 2, 3)), _openai_call_id)
    preamble = _text(rng, 1, 1) if rng.random() < 0.2 else None
    chunks: list[dict] = []
    first_entries = [
        _tc(i, id=cid, type="function", name=name, arguments="")
        for i, (cid, name, _) in enumerate(plan)
    ]
    if preamble is None:
        chunks.append(
            env.chunk(
                [
                    _ch(
                        0,
                        {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [first_entries[0]],
                            "refusal": None,
                        },
                    )
                ]
            )
        )
    else:
        chunks.append(env.chunk([_ch(0, {"role": "assistant", "content": "", "refusal": None})]))
        chunks += [env.chunk([_ch(0, {"content": p})]) for p in _split_text(preamble, rng)]
        chunks.append(env.chunk([_ch(0, {"tool_calls": [first_entries[0]]})]))
    n_frags = 0
    for i, (_, _, args) in enumerate(plan):
        if i > 0:
            chunks.append(env.chunk([_ch(0, {"tool_calls": [first_entries[i]]})]))
        for frag in _split_args(args, rng):
            chunks.append(env.chunk([_ch(0, {"tool_calls": [_tc(i, arguments=frag)]})]))
            n_frags += 1
    chunks.append(env.chunk([_ch(0, {}, "tool_calls")]))
    usage = o.finish(chunks, rng, n_frags)
    tools = [_exp_tool(cid, "function", name, args) for cid, name, args in plan]
    exp = o.completion(
        [_exp_choice(0, _msg(content=preamble, tool_calls=tools), "tool_calls")], usage
    )
    return chunks, exp, "preamble" if preamble else ""


def _kind_logprobs(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id)
    env = o.env
    n_top = rng.choice((2, 3))
    text = _text(rng, 1, 2)
    entries: list[dict] = []
    chunks = [
        env.chunk(
            [
                _ch(
                    0,
                    {"role": "assistant", "content": "", "refusal": None},
                    logprobs={"content": [], "refusal": None},
                )
            ]
        )
    ]
    for piece in _split_text(text, rng):
        if len(piece) >= 2 and rng.random() < 0.2:  # two tokens in one chunk
            cut = rng.randint(1, len(piece) - 1)
            toks = [piece[:cut], piece[cut:]]
        else:
            toks = [piece]
        lp = [_logprob_entry(t, rng, n_top) for t in toks]
        entries += copy.deepcopy(lp)
        chunks.append(
            env.chunk([_ch(0, {"content": piece}, logprobs={"content": lp, "refusal": None})])
        )
    finish = rng.choice(("stop", "stop", "length"))
    chunks.append(env.chunk([_ch(0, {}, finish)]))
    usage = o.finish(chunks, rng, len(entries))
    exp = o.completion(
        [
            _exp_choice(
                0, _msg(content=text), finish, logprobs={"content": entries, "refusal": None}
            )
        ],
        usage,
    )
    return chunks, exp, f"top{n_top}"


def _kind_n2(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id)
    env = o.env
    texts = [_text(rng, 1, 3) for _ in range(2)]
    finishes = [rng.choice(("stop", "stop", "length")) for _ in range(2)]
    per_choice: list[list[tuple[int, dict]]] = []
    for i in range(2):
        evs = [(i, _ch(i, {"role": "assistant", "content": "", "refusal": None}))]
        evs += [(i, _ch(i, {"content": p})) for p in _split_text(texts[i], rng)]
        evs.append((i, _ch(i, {}, finishes[i])))
        per_choice.append(evs)
    one_first = rng.random() < 0.4
    if one_first:
        events = [per_choice[1][0], *_random_merge(rng, [per_choice[0], per_choice[1][1:]])]
    else:
        events = _random_merge(rng, per_choice)
    chunks: list[dict] = []
    i = 0
    while i < len(events):
        if i + 1 < len(events) and events[i + 1][0] != events[i][0] and rng.random() < 0.15:
            chunks.append(env.chunk([events[i][1], events[i + 1][1]]))
            i += 2
        else:
            chunks.append(env.chunk([events[i][1]]))
            i += 1
    usage = o.finish(chunks, rng, len(events))
    exp = o.completion(
        [_exp_choice(i, _msg(content=texts[i]), finishes[i]) for i in range(2)], usage
    )
    return chunks, exp, "choice1_first" if one_first else ""


def _kind_reasoning(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    variant = rng.choice(("deepseek", "vllm", "openrouter"))
    thought = _text(rng, 1, 4)
    answer = _text(rng, 1, 2)
    t_pieces = _split_text(thought, rng)
    a_pieces = _split_text(answer, rng)
    created = _created(rng)
    if variant == "deepseek":
        sid = _pick_id(stream_id, _uuid(rng))
        model = "deepseek-reasoner"
        sf = "fp_" + _hex(rng, 10) + "_prod0225"
        env = _Envelope(_openai_head(sid, created, model, system_fingerprint=sf))
        chunks = [
            env.chunk([_ch(0, {"role": "assistant", "content": None, "reasoning_content": ""})])
        ]
        chunks += [env.chunk([_ch(0, {"content": None, "reasoning_content": p})]) for p in t_pieces]
        chunks += [env.chunk([_ch(0, {"content": p, "reasoning_content": None})]) for p in a_pieces]
        prompt = rng.randint(10, 2000)
        hit = rng.choice((0, (prompt // 64) * 64))
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": len(t_pieces) + len(a_pieces),
            "total_tokens": prompt + len(t_pieces) + len(a_pieces),
            "prompt_tokens_details": {"cached_tokens": hit},
            "completion_tokens_details": {"reasoning_tokens": len(t_pieces)},
            "prompt_cache_hit_tokens": hit,
            "prompt_cache_miss_tokens": prompt - hit,
        }
        chunks.append(
            env.chunk([_ch(0, {"content": "", "reasoning_content": None}, "stop")], usage=usage)
        )
        msg = _msg(content=answer, reasoning_content=thought)
        exp = _completion(
            id=sid,
            created=created,
            model=model,
            system_fingerprint=sf,
            usage=usage,
            choices=[_exp_choice(0, msg, "stop")],
        )
    elif variant == "vllm":
        sid = _pick_id(stream_id, _vllm_id(rng))
        model = rng.choice(("Qwen/Qwen3-8B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"))
        env = _Envelope(_openai_head(sid, created, model))
        chunks = [env.chunk([_ch(0, {"role": "assistant", "content": ""})])]
        chunks += [env.chunk([_ch(0, {"reasoning": p})]) for p in t_pieces]
        chunks += [env.chunk([_ch(0, {"content": p})]) for p in a_pieces]
        chunks.append(env.chunk([_ch(0, {"content": ""}, "stop", stop_reason=None)]))
        msg = _msg(content=answer, reasoning=thought)
        exp = _completion(
            id=sid, created=created, model=model, choices=[_exp_choice(0, msg, "stop")]
        )
    else:  # OpenRouter: "reasoning" plus reasoning_details, provider key, cost in usage
        sid = _pick_id(stream_id, f"gen-{created}-{_alnum(rng, 20)}")
        model = rng.choice(("deepseek/deepseek-r1", "qwen/qwq-32b"))
        provider = rng.choice(("DeepInfra", "Together", "Fireworks"))
        env = _Envelope(
            {
                "id": sid,
                "provider": provider,
                "model": model,
                "object": "chat.completion.chunk",
                "created": created,
            }
        )
        chunks = []
        for p in t_pieces:
            details = [{"type": "reasoning.text", "text": p, "format": "unknown", "index": 0}]
            delta = {
                "role": "assistant",
                "content": "",
                "reasoning": p,
                "reasoning_details": details,
            }
            chunks.append(env.chunk([_ch(0, delta, native_finish_reason=None)]))
        for p in a_pieces:
            chunks.append(
                env.chunk(
                    [
                        _ch(
                            0,
                            {"role": "assistant", "content": p, "reasoning": None},
                            native_finish_reason=None,
                        )
                    ]
                )
            )
        chunks.append(
            env.chunk(
                [
                    _ch(
                        0,
                        {"role": "assistant", "content": "", "reasoning": None},
                        "stop",
                        native_finish_reason="stop",
                    )
                ]
            )
        )
        usage = _plain_usage(rng.randint(10, 2000), len(t_pieces) + len(a_pieces))
        usage["cost"] = rng.randint(1, 5000) / 1_000_000
        chunks.append(env.chunk([], usage=usage))
        msg = _msg(content=answer, reasoning=thought)
        exp = _completion(
            id=sid, created=created, model=model, usage=usage, choices=[_exp_choice(0, msg, "stop")]
        )
    return chunks, exp, variant


def _kind_atoma(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    sid = _pick_id(stream_id, "chatcmpl-" + _uuid(rng))
    created = _created(rng)
    model = rng.choice(("meta-llama/Llama-3.3-70B-Instruct", "deepseek-ai/DeepSeek-V3"))
    tail = lambda: {"signature": _alnum(rng, 86, _B64) + "==", "response_hash": _hex(rng, 64)}  # noqa: E731
    usage_null = rng.random() < 0.5
    env = _Envelope(_openai_head(sid, created, model), usage_null=usage_null, tail=tail)
    stop_key = rng.random() < 0.6  # send "stop_reason": null on intermediate chunks
    text = _text(rng)
    pieces = _split_text(text, rng)
    wrapped, inner = rng.choice(
        (
            ({"Int": 128009}, 128009),
            ({"Int": 128001}, 128001),
            ({"String": "</s>"}, "</s>"),
            ({"String": "<|eot_id|>"}, "<|eot_id|>"),
            (None, None),
        )
    )
    finish = "stop" if wrapped is not None or rng.random() < 0.5 else "length"
    extra = {"stop_reason": None} if stop_key else {}
    chunks = [env.chunk([_ch(0, {"role": "assistant", "content": pieces[0]}, **extra)])]
    chunks += [env.chunk([_ch(0, {"content": p}, **extra)]) for p in pieces[1:-1]]
    usage = _plain_usage(rng.randint(10, 3000), len(pieces))
    last = pieces[-1] if len(pieces) > 1 else ""
    chunks.append(env.chunk([_ch(0, {"content": last}, finish, stop_reason=wrapped)], usage=usage))
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        usage=usage,
        choices=[_exp_choice(0, _msg(content=text), finish, stop_reason=inner)],
    )
    return chunks, exp, type(inner).__name__


def _kind_vllm(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    sid = _pick_id(stream_id, _vllm_id(rng))
    created = _created(rng)
    model = rng.choice(_VLLM_MODELS)
    env = _Envelope(_openai_head(sid, created, model))
    stop_key = rng.random() < 0.5
    extra = {"stop_reason": None} if stop_key else {}
    prompt = rng.randint(5, 3000)
    text = _text(rng)
    pieces = _split_text(text, rng)
    chunks = [
        env.chunk(
            [_ch(0, {"role": "assistant", "content": ""}, **extra)], usage=_plain_usage(prompt, 0)
        )
    ]
    for k, p in enumerate(pieces, 1):
        chunks.append(env.chunk([_ch(0, {"content": p}, **extra)], usage=_plain_usage(prompt, k)))
    stop_reason, finish = rng.choice(
        (
            (128009, "stop"),
            (128001, "stop"),
            ("\nUser:", "stop"),
            ("###", "stop"),
            (None, "stop"),
            (None, "length"),
        )
    )
    usage = _plain_usage(prompt, len(pieces) + 1)
    chunks.append(
        env.chunk([_ch(0, {"content": ""}, finish, stop_reason=stop_reason)], usage=usage)
    )
    if rng.random() < 0.5:  # include_usage final chunk, same totals
        usage = _plain_usage(prompt, len(pieces) + 1)
        chunks.append(env.chunk([], usage=usage))
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        usage=usage,
        choices=[_exp_choice(0, _msg(content=text), finish, stop_reason=stop_reason)],
    )
    return chunks, exp, type(stop_reason).__name__


def _kind_usage_only_final(
    rng: random.Random, stream_id: str | None
) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id, usage_p=1.0)
    env = _Envelope(o.env.head, usage_null=True, tail=o.env.tail)
    text = _text(rng)
    pieces = _split_text(text, rng)
    chunks = [env.chunk([_ch(0, {"role": "assistant", "content": "", "refusal": None})])]
    chunks += [env.chunk([_ch(0, {"content": p})]) for p in pieces]
    twice = rng.random() < 0.3  # provisional usage on the finish chunk, final one later
    finish_usage = _openai_usage(rng, max(0, len(pieces) - 1)) if twice else _MISSING
    chunks.append(env.chunk([_ch(0, {}, "stop")], usage=finish_usage))
    usage = _openai_usage(rng, len(pieces))
    chunks.append(env.chunk([], usage=usage))
    exp = o.completion([_exp_choice(0, _msg(content=text), "stop")], usage)
    return chunks, exp, "usage_twice" if twice else ""


_CFR_SAFE = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


def _kind_azure(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    sid = _pick_id(stream_id, _openai_id(rng))
    created = _created(rng)
    model = rng.choice(("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-35-turbo-0125"))
    sf = rng.choice((_fingerprint(rng), None))
    include_usage = rng.random() < 0.4
    env = _Envelope(
        _openai_head(sid, created, model, system_fingerprint=sf), usage_null=include_usage
    )
    pfr = [
        {
            "prompt_index": 0,
            "content_filter_results": {
                **copy.deepcopy(_CFR_SAFE),
                "jailbreak": {"filtered": False, "detected": False},
            },
        }
    ]
    chunks = [
        {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": pfr,
        }
    ]
    text = _text(rng)
    pieces = _split_text(text, rng)
    chunks.append(
        env.chunk(
            [
                _ch(
                    0,
                    {"content": "", "refusal": None, "role": "assistant"},
                    content_filter_results={},
                )
            ]
        )
    )
    for p in pieces:
        chunks.append(
            env.chunk([_ch(0, {"content": p}, content_filter_results=copy.deepcopy(_CFR_SAFE))])
        )
        if rng.random() < 0.08:  # asynchronous filter annotation: empty delta
            chunks.append(
                env.chunk(
                    [
                        _ch(
                            0,
                            {},
                            content_filter_results=copy.deepcopy(_CFR_SAFE),
                            content_filter_offsets={
                                "check_offset": 0,
                                "start_offset": 0,
                                "end_offset": rng.randint(1, 500),
                            },
                        )
                    ]
                )
            )
    chunks.append(env.chunk([_ch(0, {}, "stop", content_filter_results={})]))
    usage = None
    if include_usage:
        usage = _openai_usage(rng, len(pieces))
        chunks.append(env.chunk([], usage=usage))
    chunks = [_sorted_keys(c) for c in chunks]  # Azure serialises keys alphabetically
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        system_fingerprint=sf,
        usage=usage,
        choices=[_exp_choice(0, _msg(content=text), "stop")],
    )
    return chunks, exp, ""


def _kind_refusal(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id)
    env = o.env
    with_lp = rng.random() < 0.4
    text = rng.choice(
        (
            "I'm sorry, I can't assist with that request.",
            "I’m sorry, but I can’t help with “that”.",
            "I'm sorry, I cannot comply with that request. 🙏",
        )
    )
    pieces = _split_text(text, rng)
    lp0 = {"content": None, "refusal": []} if with_lp else None
    chunks = [
        env.chunk([_ch(0, {"role": "assistant", "content": None, "refusal": ""}, logprobs=lp0)])
    ]
    entries: list[dict] = []
    for p in pieces:
        lp = None
        if with_lp:
            e = _logprob_entry(p, rng, 1)
            e["top_logprobs"] = []
            entries.append(copy.deepcopy(e))
            lp = {"content": None, "refusal": [e]}
        chunks.append(env.chunk([_ch(0, {"refusal": p}, logprobs=lp)]))
    chunks.append(env.chunk([_ch(0, {}, "stop")]))
    usage = o.finish(chunks, rng, len(pieces))
    exp_lp = {"content": None, "refusal": entries} if with_lp else None
    exp = o.completion([_exp_choice(0, _msg(refusal=text), "stop", logprobs=exp_lp)], usage)
    return chunks, exp, "logprobs" if with_lp else ""


def _kind_repeated_tool_names(
    rng: random.Random, stream_id: str | None
) -> tuple[list[dict], dict, str]:
    variant = rng.choice(("fireworks", "minimax"))
    created = _created(rng)
    if variant == "fireworks":
        sid = _pick_id(stream_id, _uuid(rng))
        model = "accounts/fireworks/models/" + rng.choice(
            ("llama-v3p1-70b-instruct", "qwen2p5-72b-instruct")
        )
        call_id: Callable[[random.Random], str] = _openai_call_id
    else:
        sid = _pick_id(stream_id, _hex(rng, 32))
        model = rng.choice(("MiniMax-M1", "MiniMax-Text-01"))
        call_id = lambda r: f"call_function_{r.randint(10**9, 10**10 - 1)}_1"  # noqa: E731
    env = _Envelope(_openai_head(sid, created, model), usage_null=rng.random() < 0.5)
    plan = _tool_calls_plan(rng, rng.choice((1, 2)), call_id)
    chunks = [env.chunk([_ch(0, {"role": "assistant", "content": None})])]
    for i, (cid, name, args) in enumerate(plan):
        frags = _split_args(args, rng)
        if rng.random() < 0.5:
            frags = ["", *frags]
        for frag in frags:
            entry = _tc(i, id=cid, type="function", name=name, arguments=frag)
            chunks.append(env.chunk([_ch(0, {"tool_calls": [entry]})]))
    usage = _plain_usage(rng.randint(20, 900), sum(len(a) for _, _, a in plan) // 4 + 1)
    chunks.append(env.chunk([_ch(0, {}, "tool_calls")], usage=usage))
    tools = [_exp_tool(cid, "function", name, args) for cid, name, args in plan]
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        usage=usage,
        choices=[_exp_choice(0, _msg(tool_calls=tools), "tool_calls")],
    )
    return chunks, exp, variant


def _kind_ollama_index0(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    sid = _pick_id(stream_id, f"chatcmpl-{rng.randint(1, 999_999)}")
    created = _created(rng)
    model = rng.choice(("llama3.1:8b", "qwen2.5:7b", "mistral-nemo:latest"))
    env = _Envelope(_openai_head(sid, created, model, system_fingerprint="fp_ollama"))
    as_object = rng.random() < 0.5
    one_chunk = rng.random() < 0.5
    entries = []
    tools = []
    for _ in range(rng.randint(2, 3)):
        name, obj = _tool_spec(rng)
        obj = _sorted_keys(obj)  # Go's encoding/json sorts map keys
        cid = "call_" + _alnum(rng, 8, _LOWER_ALNUM)
        text = _compact(obj)
        entries.append(
            _tc(
                0,
                id=cid,
                type="function",
                name=name,
                arguments=copy.deepcopy(obj) if as_object else text,
            )
        )
        tools.append(_exp_tool(cid, "function", name, text))
    if one_chunk:
        chunks = [
            env.chunk(
                [
                    _ch(
                        0,
                        {"role": "assistant", "content": "", "tool_calls": entries},
                        logprobs_key=False,
                    )
                ]
            )
        ]
    else:
        chunks = [
            env.chunk(
                [
                    _ch(
                        0,
                        {"role": "assistant", "content": "", "tool_calls": [e]},
                        logprobs_key=False,
                    )
                ]
            )
            for e in entries
        ]
    finish = rng.choice(("tool_calls", "stop"))
    chunks.append(
        env.chunk([_ch(0, {"role": "assistant", "content": ""}, finish, logprobs_key=False)])
    )
    usage = None
    if rng.random() < 0.3:
        usage = _plain_usage(rng.randint(50, 500), rng.randint(10, 80))
        chunks.append(env.chunk([], usage=usage))
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        system_fingerprint="fp_ollama",
        usage=usage,
        choices=[_exp_choice(0, _msg(content="", tool_calls=tools), finish)],
    )
    return chunks, exp, ("object" if as_object else "string") + ("_one_chunk" if one_chunk else "")


def _kind_mistral_no_index(
    rng: random.Random, stream_id: str | None
) -> tuple[list[dict], dict, str]:
    sid = _pick_id(stream_id, _hex(rng, 32))
    created = _created(rng)
    model = rng.choice(("mistral-large-latest", "mistral-small-2503", "open-mistral-nemo"))
    env = _Envelope(_openai_head(sid, created, model))
    send_type = rng.random() < 0.5
    tid: Any = "function" if send_type else _MISSING
    plan = _tool_calls_plan(rng, rng.randint(1, 3), lambda r: _alnum(r, 9))
    chunks = [env.chunk([_ch(0, {"role": "assistant", "content": ""}, logprobs_key=False)])]
    for cid, name, args in plan:
        frags = _split_args(args, rng, max_len=rng.choice((9, 400)))  # often whole in one go
        chunks.append(
            env.chunk(
                [
                    _ch(
                        0,
                        {
                            "tool_calls": [
                                _tc(_MISSING, id=cid, type=tid, name=name, arguments=frags[0])
                            ]
                        },
                        logprobs_key=False,
                    )
                ]
            )
        )
        for frag in frags[1:]:
            chunks.append(
                env.chunk(
                    [_ch(0, {"tool_calls": [_tc(_MISSING, arguments=frag)]}, logprobs_key=False)]
                )
            )
    usage = _plain_usage(rng.randint(50, 900), rng.randint(10, 120))
    chunks.append(
        env.chunk([_ch(0, {"content": ""}, "tool_calls", logprobs_key=False)], usage=usage)
    )
    tools = [
        # A call whose type was never sent is a "function" call: openai's model requires
        # the field (it tells the kinds of tool call apart), and the merge fills it in.
        _exp_tool(cid, "function", name, args)
        for cid, name, args in plan
    ]
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        usage=usage,
        choices=[_exp_choice(0, _msg(content="", tool_calls=tools), "tool_calls")],
    )
    return chunks, exp, "with_type" if send_type else "no_type"


def _kind_out_of_order_tools(
    rng: random.Random, stream_id: str | None
) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id)
    env = o.env
    plan = _tool_calls_plan(rng, rng.choice((2, 2, 3)), _openai_call_id)
    seqs = []
    for i, (cid, name, args) in enumerate(plan):
        seq = [_tc(i, id=cid, type="function", name=name, arguments="")]
        seq += [_tc(i, arguments=f) for f in _split_args(args, rng)]
        seqs.append(seq)
    events = [seqs[1][0], *_random_merge(rng, [seqs[0], seqs[1][1:], *seqs[2:]])]
    chunks = [
        env.chunk(
            [
                _ch(
                    0,
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [events[0]],
                        "refusal": None,
                    },
                )
            ]
        )
    ]
    chunks += [env.chunk([_ch(0, {"tool_calls": [e]})]) for e in events[1:]]
    chunks.append(env.chunk([_ch(0, {}, "tool_calls")]))
    usage = o.finish(chunks, rng, len(events))
    tools = [_exp_tool(cid, "function", name, args) for cid, name, args in plan]
    exp = o.completion([_exp_choice(0, _msg(tool_calls=tools), "tool_calls")], usage)
    return chunks, exp, ""


def _kind_speculative(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    sid = _pick_id(stream_id, _vllm_id(rng))
    created = _created(rng)
    model = rng.choice(_VLLM_MODELS)
    env = _Envelope(_openai_head(sid, created, model))
    plan = _tool_calls_plan(rng, rng.choice((1, 2, 2)), lambda r: "chatcmpl-tool-" + _hex(r, 32))
    entries = []
    for i, (cid, name, args) in enumerate(plan):
        first = (
            _tc(i, id=cid, type="function", name=name)
            if rng.random() < 0.5
            else _tc(i, id=cid, type="function", name=name, arguments="")
        )
        entries.append(first)
        entries += [_tc(i, arguments=f) for f in _split_args(args, rng, max_len=5)]
    chunks = [env.chunk([_ch(0, {"role": "assistant", "content": ""})])]
    pos = 0
    first_group = True
    while pos < len(entries):
        n = rng.randint(2, 4) if first_group else rng.choice((1, 2, 3, 4))
        first_group = False
        chunks.append(env.chunk([_ch(0, {"tool_calls": entries[pos : pos + n]})]))
        pos += n
    chunks.append(env.chunk([_ch(0, {"content": ""}, "tool_calls", stop_reason=None)]))
    tools = [_exp_tool(cid, "function", name, args) for cid, name, args in plan]
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        choices=[_exp_choice(0, _msg(content="", tool_calls=tools), "tool_calls")],
    )
    return chunks, exp, ""


def _kind_legacy_function_call(
    rng: random.Random, stream_id: str | None
) -> tuple[list[dict], dict, str]:
    o = _OpenAIStyle(rng, stream_id, usage_p=0.3)
    o.model = rng.choice(("gpt-3.5-turbo-0613", "gpt-4-0613"))
    env = _Envelope(
        _openai_head(o.id, o.created, o.model, system_fingerprint=o.system_fingerprint),
        usage_null=o.env.usage_null,
    )
    o.env = env
    o.service_tier = _MISSING
    name, obj = _tool_spec(rng)
    args = _dump_args(obj, rng)
    chunks = [
        env.chunk(
            [
                _ch(
                    0,
                    {
                        "role": "assistant",
                        "content": None,
                        "function_call": {"name": name, "arguments": ""},
                    },
                )
            ]
        )
    ]
    chunks += [
        env.chunk([_ch(0, {"function_call": {"arguments": f}})]) for f in _split_args(args, rng)
    ]
    chunks.append(env.chunk([_ch(0, {}, "function_call")]))
    usage = o.finish(chunks, rng, len(args) // 4 + 1)
    exp = o.completion(
        [_exp_choice(0, _msg(function_call={"name": name, "arguments": args}), "function_call")],
        usage,
    )
    return chunks, exp, ""


def _stringify_indices(chunks: list[dict]) -> None:
    for c in chunks:
        for choice in c.get("choices") or ():
            choice["index"] = str(choice["index"])
            for tc in (choice.get("delta") or {}).get("tool_calls") or ():
                if "index" in tc:
                    tc["index"] = str(tc["index"])


def _kind_string_index(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    variant = rng.choice(("text", "tool_calls", "n2"))
    base = {"text": _kind_text, "tool_calls": _kind_tool_calls, "n2": _kind_n2}[variant]
    chunks, exp, _ = base(rng, stream_id)
    _stringify_indices(chunks)
    return chunks, exp, variant


def _kind_proxy_nulls(rng: random.Random, stream_id: str | None) -> tuple[list[dict], dict, str]:
    """LiteLLM-style proxy re-serialisation: every optional field present, mostly null."""
    sid = _pick_id(stream_id, _openai_id(rng))
    created = _created(rng)
    model = rng.choice(("gpt-4o-mini", "claude-3-5-sonnet-20241022", "gemini/gemini-2.0-flash"))
    env = _Envelope(
        {
            "id": sid,
            "created": created,
            "model": model,
            "object": "chat.completion.chunk",
            "system_fingerprint": None,
        }
    )

    def delta(role: str | None, content: str | None) -> dict:
        return {
            "content": content,
            "role": role,
            "function_call": None,
            "tool_calls": None,
            "audio": None,
            "refusal": None,
            "reasoning_content": None,
        }

    def choice(d: dict, finish: str | None = None) -> dict:
        return {"finish_reason": finish, "index": 0, "delta": d, "logprobs": None}

    text = _text(rng)
    pieces = _split_text(text, rng)
    later_role = rng.choice((None, "assistant"))
    chunks = [env.chunk([choice(delta("assistant", pieces[0]))])]
    chunks += [env.chunk([choice(delta(later_role, p))]) for p in pieces[1:]]
    usage = _plain_usage(rng.randint(10, 900), len(pieces))
    chunks.append(env.chunk([choice(delta(None, None), "stop")], usage=usage))
    exp = _completion(
        id=sid,
        created=created,
        model=model,
        usage=usage,
        choices=[_exp_choice(0, _msg(content=text), "stop")],
    )
    return chunks, exp, ""


_GENERATORS: dict[str, Callable[[random.Random, str | None], tuple[list[dict], dict, str]]] = {
    "text": _kind_text,
    "tool_calls": _kind_tool_calls,
    "logprobs": _kind_logprobs,
    "n2": _kind_n2,
    "reasoning": _kind_reasoning,
    "atoma": _kind_atoma,
    "vllm": _kind_vllm,
    "usage_only_final": _kind_usage_only_final,
    "azure": _kind_azure,
    "refusal": _kind_refusal,
    "repeated_tool_names": _kind_repeated_tool_names,
    "ollama_index0": _kind_ollama_index0,
    "mistral_no_index": _kind_mistral_no_index,
    "out_of_order_tools": _kind_out_of_order_tools,
    "speculative": _kind_speculative,
    "legacy_function_call": _kind_legacy_function_call,
    "string_index": _kind_string_index,
    "proxy_nulls": _kind_proxy_nulls,
}

KINDS: tuple[str, ...] = tuple(_GENERATORS)

#: Kinds whose expected completion contains tool calls (or a legacy function_call).
TOOL_KINDS: tuple[str, ...] = (
    "tool_calls",
    "repeated_tool_names",
    "ollama_index0",
    "mistral_no_index",
    "out_of_order_tools",
    "speculative",
    "legacy_function_call",
)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def make_stream(kind: str, rng: random.Random, *, stream_id: str | None = None) -> Stream:
    """Generate one stream of the given kind.

    ``stream_id`` replaces the generated completion id; the rest of the stream
    is the same whether or not it is given (the default id is drawn anyway).
    """
    try:
        gen = _GENERATORS[kind]
    except KeyError:
        raise ValueError(f"unknown stream kind {kind!r}; expected one of {KINDS}") from None
    chunks, expected, variant = gen(rng, stream_id)
    return Stream(kind=kind, chunks=chunks, expected=expected, variant=variant)


def make_streams(n: int, seed: int = 0, kinds: Iterable[str] = KINDS) -> list[Stream]:
    """``n`` streams with unique ids; kinds are cycled, shuffled within each cycle.

    Every kind in ``kinds`` appears once in each run of ``len(kinds)`` streams.
    Each stream is generated from its own seed drawn from ``seed``, and
    ``make_streams(k, seed)`` is a prefix of ``make_streams(n, seed)`` for k < n.
    """
    kinds = tuple(kinds)
    if not kinds:
        raise ValueError("kinds must not be empty")
    rng = random.Random(seed)
    cycle: list[str] = []
    seen: set[str] = set()
    out = []
    for _ in range(n):
        if not cycle:  # drawn lazily, so make_streams(k) is a prefix of make_streams(n > k)
            cycle = list(kinds)
            rng.shuffle(cycle)
            cycle.reverse()
        kind = cycle.pop()
        sub_seed = rng.getrandbits(64)
        s = make_stream(kind, random.Random(sub_seed))
        while s.id in seen:  # practically never; keep the content, change the id
            s = make_stream(kind, random.Random(sub_seed), stream_id=_openai_id(rng))
        seen.add(s.id)
        out.append(s)
    return out


def interleave(streams: Sequence[Stream], rng: random.Random) -> list[tuple[int, dict]]:
    """Uniformly random interleaving of all chunks, keeping each stream's order.

    Returns ``(stream_no, chunk)`` pairs where ``stream_no`` indexes
    ``streams``; the chunk dicts are the streams' own objects (not copies).
    Note that Azure's first chunk has ``"id": ""``, so demultiplexing by id
    alone cannot attribute it.
    """
    order = [i for i, s in enumerate(streams) for _ in s.chunks]
    rng.shuffle(order)
    pos = [0] * len(streams)
    out = []
    for i in order:
        out.append((i, streams[i].chunks[pos[i]]))
        pos[i] += 1
    return out


def to_sse(
    chunks: Iterable[dict], *, done: bool = True, line_end: str = "\n", ensure_ascii: bool = False
) -> bytes:
    """Serialise chunks as an SSE body: ``data: {json}`` + blank line per chunk.

    JSON is compact and, by default, UTF-8 (non-ASCII not escaped), as OpenAI
    sends it.  ``done`` appends the ``data: [DONE]`` terminator.
    """
    if line_end not in ("\n", "\r\n", "\r"):
        raise ValueError("line_end must be one of '\\n', '\\r\\n', '\\r'")
    sep = line_end + line_end
    parts = [
        "data: " + json.dumps(c, separators=(",", ":"), ensure_ascii=ensure_ascii) + sep
        for c in chunks
    ]
    if done:
        parts.append("data: [DONE]" + sep)
    return "".join(parts).encode("utf-8")


# ---------------------------------------------------------------------------
# Hand-written SSE bodies for framing edge cases
# ---------------------------------------------------------------------------

# The JSON texts are written out by hand (note the escaped surrogate pair and
# the raw UTF-8 in _SSE_J3), not produced by json.dumps.
_SSE_J1 = '{"id":"chatcmpl-SSEexample01","object":"chat.completion.chunk","created":1727346170,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}'
_SSE_J2 = '{"id":"chatcmpl-SSEexample01","object":"chat.completion.chunk","created":1727346170,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}'
_SSE_J3 = r'{"id":"chatcmpl-SSEexample01","object":"chat.completion.chunk","created":1727346170,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":", wörld \ud83d\udc4b \"data: x\"\n\\"},"logprobs":null,"finish_reason":null}],"usage":null}'
_SSE_J4 = '{"id":"chatcmpl-SSEexample01","object":"chat.completion.chunk","created":1727346170,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}'
_SSE_J5 = '{"id":"chatcmpl-SSEexample01","object":"chat.completion.chunk","created":1727346170,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}'

_SSE_EXAMPLES: dict[str, str] = {
    "crlf": (
        f"data: {_SSE_J1}\r\n\r\n"
        f"data: {_SSE_J2}\r\n\r\n"
        f"data: {_SSE_J3}\r\n\r\n"
        f"data: {_SSE_J4}\r\n\r\n"
        f"data: {_SSE_J5}\r\n\r\n"
        "data: [DONE]\r\n\r\n"
    ),
    "keepalive_comments": (
        ": keep-alive\n\n"
        f"data: {_SSE_J1}\n\n"
        ": keep-alive\n\n"
        f"data: {_SSE_J2}\n\n"
        ":\n\n"
        f"data: {_SSE_J3}\n\n"
        ": keep-alive\n"
        f"data: {_SSE_J4}\n\n"
        f"data: {_SSE_J5}\n\n"
        ": keep-alive\n\n"
        "data: [DONE]\n\n"
    ),
    "openrouter_processing": (
        ": OPENROUTER PROCESSING\n\n"
        ": OPENROUTER PROCESSING\n\n"
        ": OPENROUTER PROCESSING\n\n"
        f"data: {_SSE_J1}\n\n"
        f"data: {_SSE_J2}\n\n"
        ": OPENROUTER PROCESSING\n\n"
        f"data: {_SSE_J3}\n\n"
        f"data: {_SSE_J4}\n\n"
        f"data: {_SSE_J5}\n\n"
        "data: [DONE]\n\n"
    ),
    "data_no_space": (
        f"data:{_SSE_J1}\n\n"
        f"data:{_SSE_J2}\n\n"
        f"data:{_SSE_J3}\n\n"
        f"data:{_SSE_J4}\n\n"
        f"data:{_SSE_J5}\n\n"
        "data:[DONE]\n\n"
    ),
    "bare_keepalive_text": (
        "keep-alive-text\n\n"
        f"data: {_SSE_J1}\n\n"
        "keep-alive-text\n\n"
        f"data: {_SSE_J2}\n\n"
        f"data: {_SSE_J3}\n\n"
        "keep-alive-text\n\n"
        f"data: {_SSE_J4}\n\n"
        f"data: {_SSE_J5}\n\n"
        "data: [DONE]\n\n"
    ),
    "mixed": (
        ": OPENROUTER PROCESSING\r\n\r\n"
        f"data: {_SSE_J1}\r\n\r\n"
        ": keep-alive\n\n"
        f"data:{_SSE_J2}\n\n"
        "keep-alive-text\r\n\r\n"
        "event: message\r\n"
        f"data: {_SSE_J3}\r\n\r\n"
        f"data:{_SSE_J4}\n\n"
        ":\r\n"
        f"data: {_SSE_J5}\r\n\r\n"
        "data: [DONE]\r\n\r\n"
    ),
}


def chunk_sse_examples() -> dict[str, bytes]:
    """Hand-written SSE bodies exercising framing edge cases.

    * ``crlf``: CRLF line ends.
    * ``keepalive_comments``: ``: keep-alive`` and bare ``:`` comment lines.
    * ``openrouter_processing``: ``: OPENROUTER PROCESSING`` comments.
    * ``data_no_space``: ``data:{...}`` with no space after the colon.
    * ``bare_keepalive_text``: a bare ``keep-alive-text`` line (a field with
      no colon; per the SSE spec it is ignored).
    * ``mixed``: all of the above plus an ``event: message`` line.

    Every body carries the same five chunks (and ``[DONE]``); see
    :func:`chunk_sse_example_streams` for them and the merged result.
    """
    return {name: body.encode("utf-8") for name, body in _SSE_EXAMPLES.items()}


def chunk_sse_example_streams() -> dict[str, Stream]:
    """For each :func:`chunk_sse_examples` body: the chunks it carries and the merge."""
    texts = (_SSE_J1, _SSE_J2, _SSE_J3, _SSE_J4, _SSE_J5)
    expected = {
        "id": "chatcmpl-SSEexample01",
        "object": "chat.completion",
        "created": 1727346170,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0ba0d124f1",
        "service_tier": None,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "stop_reason": None,
                "logprobs": None,
                "message": _msg(content='Hello, wörld 👋 "data: x"\n\\'),
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
    }
    return {
        name: Stream(
            kind="sse:" + name,
            chunks=[json.loads(t) for t in texts],
            expected=copy.deepcopy(expected),
        )
        for name in _SSE_EXAMPLES
    }
