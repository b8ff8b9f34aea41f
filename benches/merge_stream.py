"""An SSE body of ~1000 chunks to its final completion: chatchunk against its peers.

Three deterministic bodies (a text stream, a tool-call stream, a logprobs stream), each
merged in one process by openai-python's ChatCompletionStreamState (every data line parsed
with its ChatCompletionChunk model, handle_chunk, the snapshot at the end), by a hand-written
orjson loop, and by chatchunk.merge_sse. All three must agree on the result first; times are
the best of several interleaved rounds. Run: python benches/merge_stream.py [rounds]
"""

from __future__ import annotations

import json
import random
import sys
import timeit

import chatchunk
import orjson
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk as OpenAIChunk

CHUNKS = 1000
WORDS = (
    "the",
    "model",
    "streams",
    "each",
    "token",
    "as",
    "a",
    "chunk",
    "and",
    "the",
    "client",
    "merges",
    "them",
    "into",
    "one",
    "completion",
    "with",
    "its",
    "text",
    "tool",
    "calls",
    "usage",
    "and",
    "log",
    "probabilities",
    "quickly",
    "correctly",
    "héllo",
    "wörld",
    "🙂",
    "naïve",
    "café",
)


def envelope(rng_id: str, choices: list, usage=None) -> dict:
    return {
        "id": rng_id,
        "object": "chat.completion.chunk",
        "created": 1753000000,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_34a54ae93c",
        "choices": choices,
        "usage": usage,
    }


def choice(delta: dict, finish=None, logprobs=None) -> dict:
    return {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}


USAGE = {
    "prompt_tokens": 812,
    "completion_tokens": CHUNKS,
    "total_tokens": 812 + CHUNKS,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def text_stream(rng: random.Random) -> list[dict]:
    sid = "chatcmpl-BxText000000000000000000001"
    chunks = [envelope(sid, [choice({"role": "assistant", "content": "", "refusal": None})])]
    for _ in range(CHUNKS - 3):
        chunks.append(envelope(sid, [choice({"content": " " + rng.choice(WORDS)})]))
    chunks.append(envelope(sid, [choice({}, "stop")]))
    chunks.append(envelope(sid, [], USAGE))
    return chunks


def tool_stream(rng: random.Random) -> list[dict]:
    sid = "chatcmpl-BxTools00000000000000000001"
    chunks = [envelope(sid, [choice({"role": "assistant", "content": None, "refusal": None})])]
    calls = 3
    per_call = (CHUNKS - 3) // calls  # the first chunk of a call, then its fragments
    for i in range(calls):
        first = {
            "index": i,
            "id": f"call_{i:024d}",
            "type": "function",
            "function": {"name": "search_documents", "arguments": ""},
        }
        chunks.append(envelope(sid, [choice({"tool_calls": [first]})]))
        args = json.dumps(
            {"query": " ".join(rng.choice(WORDS) for _ in range(per_call)), "limit": 10},
            ensure_ascii=False,
        )
        n = per_call - 1
        cuts = [len(args) * j // n for j in range(n + 1)]
        pieces = [args[a:b] for a, b in zip(cuts, cuts[1:])]
        for piece in pieces:
            delta = {"tool_calls": [{"index": i, "function": {"arguments": piece}}]}
            chunks.append(envelope(sid, [choice(delta)]))
    chunks.append(envelope(sid, [choice({}, "tool_calls")]))
    chunks.append(envelope(sid, [], USAGE))
    return chunks


def logprob_entry(token: str, rng: random.Random) -> dict:
    def alt(t: str) -> dict:
        return {
            "token": t,
            "logprob": round(-rng.random() * 8, 6),
            "bytes": list(t.encode()),
        }

    entry = alt(token)
    entry["top_logprobs"] = [alt(token)] + [alt(" " + rng.choice(WORDS)) for _ in range(2)]
    return entry


def logprobs_stream(rng: random.Random) -> list[dict]:
    sid = "chatcmpl-BxLogprobs0000000000000001"
    first = choice(
        {"role": "assistant", "content": "", "refusal": None},
        logprobs={"content": [], "refusal": None},
    )
    chunks = [envelope(sid, [first])]
    for _ in range(CHUNKS - 3):
        token = " " + rng.choice(WORDS)
        lp = {"content": [logprob_entry(token, rng)], "refusal": None}
        chunks.append(envelope(sid, [choice({"content": token}, logprobs=lp)]))
    chunks.append(envelope(sid, [choice({}, "stop")]))
    chunks.append(envelope(sid, [], USAGE))
    return chunks


def sse(chunks: list[dict]) -> bytes:
    lines = [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks]
    return b"".join(lines) + b"data: [DONE]\n\n"


# ---------------------------------------------------------------------------
# The contenders
# ---------------------------------------------------------------------------


def openai_merge(body: bytes):
    state = ChatCompletionStreamState()
    for line in body.split(b"\n"):
        if not line.startswith(b"data: "):
            continue
        payload = line[6:]
        if payload == b"[DONE]":
            break
        state.handle_chunk(OpenAIChunk.model_validate_json(payload))
    return state.current_completion_snapshot


def orjson_merge(body: bytes) -> dict:
    """What a user writes by hand: parse every data line, append the fragments by index."""
    out: dict = {"id": None, "model": None, "created": None, "usage": None}
    choices: dict[int, dict] = {}
    for line in body.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        chunk = orjson.loads(data)
        if out["id"] is None:
            out["id"], out["model"], out["created"] = chunk["id"], chunk["model"], chunk["created"]
        if chunk.get("usage"):
            out["usage"] = chunk["usage"]
        for ch in chunk["choices"]:
            state = choices.get(ch["index"])
            if state is None:
                state = choices[ch["index"]] = {
                    "role": None,
                    "content": [],
                    "tool_calls": {},
                    "logprobs": [],
                    "finish_reason": None,
                }
            delta = ch.get("delta") or {}
            if delta.get("role"):
                state["role"] = delta["role"]
            if delta.get("content"):
                state["content"].append(delta["content"])
            for tc in delta.get("tool_calls") or ():
                call = state["tool_calls"].get(tc["index"])
                if call is None:
                    call = state["tool_calls"][tc["index"]] = {
                        "id": None,
                        "name": None,
                        "arguments": [],
                    }
                if tc.get("id"):
                    call["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    call["name"] = fn["name"]
                if fn.get("arguments"):
                    call["arguments"].append(fn["arguments"])
            lp = ch.get("logprobs")
            if lp and lp.get("content"):
                state["logprobs"].extend(lp["content"])
            if ch.get("finish_reason"):
                state["finish_reason"] = ch["finish_reason"]
    out["choices"] = [
        {
            "index": i,
            "finish_reason": s["finish_reason"],
            "message": {
                "role": s["role"],
                "content": "".join(s["content"]) or None,
                "tool_calls": [
                    {"id": c["id"], "name": c["name"], "arguments": "".join(c["arguments"])}
                    for _, c in sorted(s["tool_calls"].items())
                ]
                or None,
            },
            "logprobs": s["logprobs"] or None,
        }
        for i, s in sorted(choices.items())
    ]
    return out


def ours_merge(body: bytes):
    return chatchunk.merge_sse(body)


# ---------------------------------------------------------------------------
# Agreement, then timing
# ---------------------------------------------------------------------------


def summary_openai(c) -> tuple:
    m = c.choices[0].message
    calls = [(t.id, t.function.name, t.function.arguments) for t in m.tool_calls or ()]
    lps = c.choices[0].logprobs
    tokens = [e.token for e in lps.content] if lps and lps.content else []
    return m.content or None, calls, tokens, c.choices[0].finish_reason, c.usage.total_tokens


def summary_orjson(d: dict) -> tuple:
    m = d["choices"][0]["message"]
    calls = [(t["id"], t["name"], t["arguments"]) for t in m["tool_calls"] or ()]
    tokens = [e["token"] for e in d["choices"][0]["logprobs"] or ()]
    return m["content"], calls, tokens, d["choices"][0]["finish_reason"], d["usage"]["total_tokens"]


def summary_ours(c) -> tuple:
    m = c.choices[0].message
    calls = [(t.id, t.function.name, t.function.arguments) for t in m.tool_calls or ()]
    lps = c.choices[0].logprobs
    tokens = [e.token for e in lps.content] if lps and lps.content else []
    return m.content or None, calls, tokens, c.choices[0].finish_reason, c.usage.total_tokens


CONTENDERS = {
    "openai ChatCompletionStreamState": (openai_merge, summary_openai, 1),
    "orjson hand-written loop": (orjson_merge, summary_orjson, 5),
    "chatchunk.merge_sse": (ours_merge, summary_ours, 50),
}


def measure(body: bytes, rounds: int) -> dict[str, float]:
    results = {name: summary(f(body)) for name, (f, summary, _) in CONTENDERS.items()}
    first = next(iter(results.values()))
    for name, result in results.items():
        assert result == first, f"{name} disagrees"
    best = {name: float("inf") for name in CONTENDERS}
    for _ in range(rounds):  # interleaved, so machine noise hits every contender alike
        for name, (f, _, number) in CONTENDERS.items():
            t = timeit.timeit(lambda f=f: f(body), number=number) / number
            best[name] = min(best[name], t)
    return best


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    kinds = {
        "text": text_stream(random.Random(1)),
        "tool calls": tool_stream(random.Random(2)),
        "logprobs": logprobs_stream(random.Random(3)),
    }
    ratios = {}
    for label, chunks in kinds.items():
        body = sse(chunks)
        best = measure(body, rounds)
        ours = best["chatchunk.merge_sse"]
        print(f"\n{label} stream: {len(chunks)} chunks, {len(body) / 1e6:.2f} MB")
        print(f"{'':34} {'ms':>9} {'chunks/s':>11} {'MB/s':>8} {'chatchunk faster by':>20}")
        for name, t in best.items():
            print(
                f"{name:34} {t * 1e3:9.3f} {len(chunks) / t:11,.0f} {len(body) / t / 1e6:8.1f}"
                f" {t / ours:19.1f}x"
            )
        ratios[label] = (
            best["openai ChatCompletionStreamState"] / ours,
            best["orjson hand-written loop"] / ours,
        )
    print("\ntargets: >= 500x openai, >= 10x the orjson loop")
    for label, (vs_openai, vs_orjson) in ratios.items():
        ok = vs_openai >= 500 and vs_orjson >= 10
        print(
            f"  {label:11} {vs_openai:8.0f}x openai {vs_orjson:6.1f}x orjson  {'met' if ok else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
