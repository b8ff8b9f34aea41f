"""Partial merge states: a stream cut anywhere into pieces, each merged by its own
StreamAccumulator, pickled (or saved as bytes), restored and combined in order, gives exactly
the completion of one pass over all its chunks."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from chatchunk import StreamAccumulator, merge

STREAMS = corpus.make_streams(len(corpus.KINDS) * 3, seed=5)


def cut(chunks: list, cuts: list[int]) -> list[list]:
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(chunks))), len(chunks)]
    return [chunks[a:b] for a, b in zip(bounds, bounds[1:])]


def partial(chunks: list) -> StreamAccumulator:
    acc = StreamAccumulator()
    for chunk in chunks:
        acc.add(chunk)
    return acc


@settings(max_examples=300, deadline=None)
@given(
    stream=st.sampled_from(STREAMS),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
    via=st.sampled_from(["pickle", "bytes", "none"]),
    fold=st.sampled_from(["extend", "combine-left", "combine-right"]),
)
def test_any_cut_combines_to_the_single_pass(stream, cuts, via, fold):
    pieces = [partial(p) for p in cut(stream.chunks, cuts)]
    if via == "pickle":
        pieces = [pickle.loads(pickle.dumps(p)) for p in pieces]
    elif via == "bytes":
        pieces = [StreamAccumulator.from_bytes(p.to_bytes()) for p in pieces]
    if fold == "extend":
        result = StreamAccumulator()
        for p in pieces:
            result.extend(p)
    elif fold == "combine-left":
        result = pieces[0]
        for p in pieces[1:]:
            result = StreamAccumulator.combine(result, p)
    else:
        result = pieces[-1]
        for p in reversed(pieces[:-1]):
            result = StreamAccumulator.combine(p, result)
    assert result.completion() == merge(stream.chunks), stream.kind
    assert result.n_chunks == len(stream.chunks)


@pytest.mark.parametrize("kind", corpus.KINDS)
def test_every_kind_every_cut_in_two(kind):
    stream = next(s for s in STREAMS if s.kind == kind)
    expected = merge(stream.chunks)
    for i in range(len(stream.chunks) + 1):
        a, b = partial(stream.chunks[:i]), partial(stream.chunks[i:])
        a, b = pickle.loads(pickle.dumps(a)), pickle.loads(pickle.dumps(b))
        assert StreamAccumulator.combine(a, b).completion() == expected, (kind, i)


def test_pickle_keeps_done_closed_and_the_sse_merge():
    stream = next(s for s in STREAMS if s.kind == "tool_calls")
    body = stream.sse()
    acc = StreamAccumulator(max_event_size=1 << 20)
    acc.feed(body[: len(body) // 2])
    # What was decoded so far; the half event still pending is not part of the state.
    done_part = pickle.loads(pickle.dumps(acc))
    assert done_part.completion() == acc.completion()
    assert not done_part.done
    acc.feed(body[len(body) // 2 :], final=True)
    back = pickle.loads(pickle.dumps(acc))
    assert back.done and back.completion() == merge(stream.chunks)
    with pytest.raises(ValueError, match="closed"):
        back.add(stream.chunks[0])
    assert "done=True, closed=True" in repr(back)


def test_extend_rules():
    acc = StreamAccumulator()
    with pytest.raises(ValueError, match="itself"):
        acc.extend(acc)
    with pytest.raises(TypeError):
        acc.extend("not an accumulator")


@pytest.mark.parametrize(
    "data",
    [b"", b"CCPS", b"CCPS\x01" + bytes(8) + b"{", b"CCPS\x02" + bytes(8) + b"{}", b"junk" * 9],
)
def test_malformed_bytes_are_value_errors(data):
    with pytest.raises(ValueError, match="partial state"):
        StreamAccumulator.from_bytes(data)


def test_an_empty_state_round_trips():
    empty = StreamAccumulator.from_bytes(StreamAccumulator().to_bytes())
    assert empty.n_chunks == 0
    assert empty.completion() == StreamAccumulator().completion()
