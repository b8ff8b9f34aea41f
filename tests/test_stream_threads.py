"""Streams from several threads: whole-body calls release the GIL, and a StreamAccumulator
read while another thread feeds it stays consistent."""

from __future__ import annotations

import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from chatchunk import StreamAccumulator, merge, merge_sse, parse_sse


def big_body() -> tuple[bytes, list]:
    streams = [corpus.make_stream("logprobs", random.Random(i)) for i in range(40)]
    # One long stream: the chunks of many, under one id, choice 0.
    chunks = [c for s in streams for c in s.chunks]
    return corpus.to_sse(chunks), chunks


def test_whole_body_calls_from_many_threads():
    body, chunks = big_body()
    reference = merge(chunks)
    with ThreadPoolExecutor(4) as pool:
        merged = list(pool.map(merge_sse, [body] * 8))
        parsed = list(pool.map(parse_sse, [body] * 4))
    assert all(m == reference for m in merged)
    assert all(len(p) == len(chunks) for p in parsed)


def test_reading_an_accumulator_while_another_thread_feeds_it():
    body, chunks = big_body()
    acc = StreamAccumulator()
    finished = threading.Event()
    fed = []

    def feeder():
        step = 100 * 1024  # large pieces are decoded with the GIL released
        for pos in range(0, len(body), step):
            fed.extend(acc.feed(body[pos : pos + step]))
        finished.set()

    thread = threading.Thread(target=feeder)
    thread.start()
    snapshots = 0
    lengths = []
    while not finished.is_set():
        c = acc.completion()
        if c.choices:
            lengths.append(len(c.choices[0].message.content or ""))
        snapshots += 1
        assert acc.done in (True, False)
    thread.join(timeout=30)
    assert lengths == sorted(lengths)  # snapshots only ever grow
    assert acc.done
    assert len(fed) == len(chunks)
    assert acc.close() == merge(chunks)
