"""Split invariance: however an SSE body is cut into pieces (one byte at a time included),
feeding the pieces gives the same chunks and the same completion as the whole body, with
LF, CRLF and CR line ends."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from chatchunk import StreamAccumulator, iter_chunks, merge, merge_sse, parse_sse

LINE_ENDS = ("\n", "\r\n", "\r")


def framed_body(stream: corpus.Stream, line_end: str, rng: random.Random, done: bool) -> bytes:
    """The stream as a server might frame it: comments, keep-alives, `data:` with or without
    its space, multi-line data, a leading BOM, an `event:`/`id:` line now and then."""
    out = []
    if rng.random() < 0.2:
        out.append("\ufeff")
    for chunk in stream.chunks:
        roll = rng.random()
        if roll < 0.1:
            out.append(": keep-alive" + line_end + line_end)
        elif roll < 0.15:
            out.append(": OPENROUTER PROCESSING" + line_end + line_end)
        elif roll < 0.2:
            out.append("keep-alive-text" + line_end + line_end)
        if rng.random() < 0.1:
            out.append("event: message" + line_end + "id: 7" + line_end)
        prefix = "data:" if rng.random() < 0.3 else "data: "
        if rng.random() < 0.15:
            # Several data lines, joined with "\n" by the decoder: JSON whitespace.
            lines = json.dumps(chunk, ensure_ascii=False, indent=1).split("\n")
        else:
            lines = [json.dumps(chunk, ensure_ascii=False, separators=(",", ":"))]
        out.extend(prefix + line + line_end for line in lines)
        out.append(line_end)
    if done:
        out.append("data: [DONE]" + line_end + line_end)
    return "".join(out).encode("utf-8")


def pieces_of(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(body)]
    return [body[a:b] for a, b in zip(bounds, bounds[1:])]


def fed(pieces: list[bytes]):
    acc = StreamAccumulator()
    chunks = []
    for piece in pieces:
        chunks += acc.feed(piece)
    chunks += acc.feed(b"", final=True)
    return [c.to_dict() for c in chunks], acc.close(), acc.done


def check_split_invariant(body: bytes, pieces: list[bytes], expected_chunks: list[dict]) -> None:
    whole = merge_sse(body)
    reference = [c.to_dict() for c in parse_sse(body)]
    assert reference == expected_chunks
    chunks, completion, _ = fed(pieces)
    assert chunks == reference
    assert completion == whole
    assert merge(expected_chunks) == whole
    assert [c.to_dict() for c in iter_chunks(iter(pieces))] == reference


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    kind=st.sampled_from(corpus.KINDS),
    seed=st.integers(0, 2**32),
    line_end=st.sampled_from(LINE_ENDS),
    done=st.booleans(),
    data=st.data(),
)
def test_any_split_gives_the_same_chunks_and_completion(kind, seed, line_end, done, data):
    rng = random.Random(seed)
    stream = corpus.make_stream(kind, rng)
    body = framed_body(stream, line_end, rng, done)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=60), label="cuts")
    check_split_invariant(body, pieces_of(body, cuts), stream.chunks)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), line_end=st.sampled_from(LINE_ENDS), data=st.data())
def test_cuts_inside_utf8_and_between_cr_and_lf(seed, line_end, data):
    # Cut right inside multi-byte characters and line ends: the places that go wrong.
    rng = random.Random(seed)
    stream = corpus.make_stream(rng.choice(("text", "reasoning", "tool_calls")), rng)
    body = framed_body(stream, line_end, rng, True)
    tricky = [i for i, b in enumerate(body) if b >= 0x80 or b in (0x0A, 0x0D)]
    cuts = data.draw(st.lists(st.sampled_from(tricky or [0]), max_size=40), label="cuts")
    check_split_invariant(body, pieces_of(body, cuts), stream.chunks)


def test_one_byte_at_a_time_every_line_end_and_kind():
    for line_end in LINE_ENDS:
        for i, kind in enumerate(corpus.KINDS):
            rng = random.Random(1000 + i)
            stream = corpus.make_stream(kind, rng)
            body = framed_body(stream, line_end, rng, i % 3 != 0)
            pieces = [body[j : j + 1] for j in range(len(body))]
            check_split_invariant(body, pieces, stream.chunks)


def test_line_ends_do_not_change_the_result():
    for kind in corpus.KINDS:
        stream = corpus.make_stream(kind, random.Random(11))
        results = {line_end: merge_sse(stream.sse(line_end=line_end)) for line_end in LINE_ENDS}
        assert results["\n"] == results["\r\n"] == results["\r"], kind
