"""Parse one chunk and read choices[0].delta.content: chatchunk against its peers.

Same bytes, same process, best of several rounds; ratios are the figure, absolute times on
a shared machine are noise. Run: python benches/parse_one.py
"""

from __future__ import annotations

import json
import timeit
from typing import Optional, Union

import chatchunk
import msgspec
import orjson
from atoma_sdk.models import ChatCompletionChunk as AtomaChunk
from openai.types.chat import ChatCompletionChunk as OpenAIChunk

CONTENT_CHUNK = (
    b'{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk",'
    b'"created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default",'
    b'"system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,"delta":{"content":'
    b'" Hello"},"logprobs":null,"finish_reason":null}]}'
)

LOGPROBS_CHUNK = (
    b'{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk",'
    b'"created":1741569952,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_f9f4fb6dbf",'
    b'"choices":[{"index":0,"delta":{"content":" world"},"logprobs":{"content":[{"token":'
    b'" world","logprob":-0.0013,"bytes":[32,119,111,114,108,100],"top_logprobs":[{"token":'
    b'" world","logprob":-0.0013,"bytes":[32,119,111,114,108,100]},{"token":" there",'
    b'"logprob":-6.75,"bytes":[32,116,104,101,114,101]},{"token":" everyone","logprob":'
    b'-8.125,"bytes":[32,101,118,101,114,121,111,110,101]}]}],"refusal":null},'
    b'"finish_reason":null}]}'
)


# msgspec's typed decoder for the same schema: the fastest typed decoder in Python.
class TopLogProb(msgspec.Struct):
    token: str
    logprob: float
    bytes: Optional[list[int]] = None


class LogProbContent(msgspec.Struct):
    token: str
    logprob: float
    bytes: Optional[list[int]] = None
    top_logprobs: list[TopLogProb] = []


class LogProbs(msgspec.Struct):
    content: Optional[list[LogProbContent]] = None
    refusal: Optional[list[LogProbContent]] = None


class FunctionDelta(msgspec.Struct):
    name: Optional[str] = None
    arguments: Optional[str] = None


class ToolCallDelta(msgspec.Struct):
    index: int
    id: Optional[str] = None
    type: Optional[str] = None
    function: Optional[FunctionDelta] = None


class Delta(msgspec.Struct):
    role: Optional[str] = None
    content: Optional[str] = None
    refusal: Optional[str] = None
    reasoning_content: Optional[str] = None
    reasoning: Optional[str] = None
    tool_calls: Optional[list[ToolCallDelta]] = None
    function_call: Optional[FunctionDelta] = None


class Choice(msgspec.Struct):
    index: int
    delta: Delta
    finish_reason: Optional[str] = None
    logprobs: Optional[LogProbs] = None
    stop_reason: Union[int, str, None] = None


class PromptTokensDetails(msgspec.Struct):
    cached_tokens: Optional[int] = None
    audio_tokens: Optional[int] = None


class CompletionTokensDetails(msgspec.Struct):
    reasoning_tokens: Optional[int] = None
    audio_tokens: Optional[int] = None
    accepted_prediction_tokens: Optional[int] = None
    rejected_prediction_tokens: Optional[int] = None


class Usage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: Optional[PromptTokensDetails] = None
    completion_tokens_details: Optional[CompletionTokensDetails] = None


class Chunk(msgspec.Struct):
    id: str
    choices: list[Choice]
    created: int
    model: str
    object: str
    service_tier: Optional[str] = None
    system_fingerprint: Optional[str] = None
    usage: Optional[Usage] = None


msgspec_decoder = msgspec.json.Decoder(Chunk)
ours = chatchunk.ChatCompletionChunk.from_json


def contenders(src: bytes) -> dict[str, object]:
    return {
        "json.loads": lambda: json.loads(src)["choices"][0]["delta"]["content"],
        "orjson.loads": lambda: orjson.loads(src)["choices"][0]["delta"]["content"],
        "msgspec Struct": lambda: msgspec_decoder.decode(src).choices[0].delta.content,
        "openai pydantic": lambda: OpenAIChunk.model_validate_json(src).choices[0].delta.content,
        "atoma-sdk pydantic": lambda: AtomaChunk.model_validate_json(src).choices[0].delta.content,
        "chatchunk": lambda: ours(src).choices[0].delta.content,
        "chatchunk (parse only)": lambda: ours(src),
    }


def measure(src: bytes, rounds: int = 7) -> dict[str, float]:
    funcs = contenders(src)
    expected = funcs["json.loads"]()
    for name, f in funcs.items():
        if name != "chatchunk (parse only)":
            assert f() == expected, name
    number = 20_000
    best = {name: float("inf") for name in funcs}
    for _ in range(rounds):  # interleave contenders so machine noise hits all alike
        for name, f in funcs.items():
            best[name] = min(best[name], timeit.timeit(f, number=number) / number)
    return best


def stream_lines(n: int, *, same_stream: bool) -> list[bytes]:
    """n content chunks as a stream sends them (one id), or each from another stream."""
    words = ("the", " model", " said", " hello", ",", " world", " and", " café", " 🙂", "\n")
    lines = []
    for i in range(n):
        chunk = orjson.loads(CONTENT_CHUNK)
        if not same_stream:
            chunk["id"] = f"chatcmpl-{i:032d}"
        chunk["choices"][0]["delta"]["content"] = words[i % len(words)] * (1 + i % 3)
        lines.append(orjson.dumps(chunk))
    return lines


def measure_lines(lines: list[bytes], rounds: int = 7) -> dict[str, float]:
    """Per-chunk time to parse each line in turn and read its content."""

    def with_msgspec():
        return [msgspec_decoder.decode(line).choices[0].delta.content for line in lines]

    def with_ours():
        return [ours(line).choices[0].delta.content for line in lines]

    def with_orjson():
        return [orjson.loads(line)["choices"][0]["delta"]["content"] for line in lines]

    funcs = {"orjson.loads": with_orjson, "msgspec Struct": with_msgspec, "chatchunk": with_ours}
    assert with_ours() == with_msgspec() == with_orjson()
    best = {name: float("inf") for name in funcs}
    for _ in range(rounds):
        for name, f in funcs.items():
            best[name] = min(best[name], timeit.timeit(f, number=1) / len(lines))
    return best


def report(title: str, best: dict[str, float]) -> None:
    print(f"\n{title}")
    print(f"{'':24} {'ns/op':>8} {'x msgspec':>10} {'ours faster by':>15}")
    for name, t in best.items():
        print(
            f"{name:24} {t * 1e9:8.0f} {t / best['msgspec Struct']:10.2f}"
            f" {t / best['chatchunk']:14.1f}x"
        )


def main() -> None:
    for label, src in (("content chunk", CONTENT_CHUNK), ("logprobs chunk", LOGPROBS_CHUNK)):
        best = measure(src)
        report(
            f"{label} ({len(src)} bytes), the same bytes again and again: parse + read content",
            best,
        )
    # The same bytes every time is the best case for chatchunk's layout templates; these
    # are what a client and a log reader see.
    report(
        "1000 chunks of one stream, one after another: parse + read content",
        measure_lines(stream_lines(1000, same_stream=True)),
    )
    report(
        "1000 chunks of 1000 different streams (layouts never repeat): parse + read content",
        measure_lines(stream_lines(1000, same_stream=False)),
    )


if __name__ == "__main__":
    main()
