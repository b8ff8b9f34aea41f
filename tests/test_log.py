"""Logs of chunks: merge_log, merge_log_arrow, log_stats and the merge/stats commands, on
generated logs of hundreds of interleaved streams of every corpus kind."""

from __future__ import annotations

import gzip
import json
import pickle
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chatchunk
import corpus
from chatchunk import ChatCompletion, LogCompletion, ParseError, log_stats, merge_log
from chatchunk.__main__ import main
from conftest import completion_view

N_STREAMS = 360  # 20 of each of the 18 kinds


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def group_key(chunk: dict) -> str:
    """The documented default grouping: the chunk's id, "" when empty, null or missing."""
    return chunk.get("id") or ""


# ---------------------------------------------------------------------------
# The completion read attribute by attribute, in the corpus' expected shape
# ---------------------------------------------------------------------------


def is_finished(expected: dict) -> bool:
    choices = expected["choices"]
    return bool(choices) and all(c["finish_reason"] for c in choices) and bool(expected["usage"])


# ---------------------------------------------------------------------------
# Generated logs
# ---------------------------------------------------------------------------


class Log:
    def __init__(self, n: int = N_STREAMS, seed: int = 7) -> None:
        self.streams = corpus.make_streams(n, seed=seed)
        self.lines = corpus.interleave(self.streams, random.Random(seed))
        self.by_id = {s.id: s for s in self.streams}
        self.groups = Counter(group_key(chunk) for _, chunk in self.lines)

    def jsonl(self) -> bytes:
        return "".join(dumps(chunk) + "\n" for _, chunk in self.lines).encode()

    def check(self, results: list) -> None:
        """Every stream merged exactly; the empty-id chunks (Azure's first) in one stream."""
        assert sorted(r.key for r in results) == sorted(self.groups)
        for r in results:
            assert isinstance(r, LogCompletion) and isinstance(r, ChatCompletion)
            assert r.n_chunks == self.groups[r.key]
            if r.key == "":
                assert r.id is None and r.complete is False
                continue
            stream = self.by_id[r.key]
            assert completion_view(r) == stream.expected, stream.kind
            assert r.complete == is_finished(stream.expected), stream.kind


@pytest.fixture(scope="module")
def log() -> Log:
    return Log()


@pytest.fixture(scope="module")
def log_path(log: Log, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("log") / "proxy.jsonl"
    path.write_bytes(log.jsonl())
    return path


def signature(results) -> list:
    return [(r.key, r.source, r.first_line, r.n_chunks, r.complete, r.to_json()) for r in results]


# ---------------------------------------------------------------------------
# merge_log
# ---------------------------------------------------------------------------


def test_every_kind_is_in_the_log(log):
    assert {s.kind for s in log.streams} == set(corpus.KINDS)
    assert len(log.streams) >= 300


def test_merge_log_rebuilds_every_stream(log, log_path):
    it = merge_log(log_path)
    results = list(it)
    log.check(results)
    assert {r.source for r in results} == {str(log_path)}
    counts = it.counts()
    assert counts["lines"] == counts["chunks"] == len(log.lines)
    assert counts["bad_lines"] == 0 and counts["streams"] == len(log.groups)


def test_log_completions_pickle_with_their_origin(log_path):
    for result in list(merge_log(log_path))[:50]:
        back = pickle.loads(pickle.dumps(result))
        assert type(back) is LogCompletion and back == result
        assert (back.source, back.first_line, back.n_chunks, back.complete, back.key) == (
            result.source,
            result.first_line,
            result.n_chunks,
            result.complete,
            result.key,
        )


def test_first_line_and_output_order(log, log_path):
    results = list(merge_log(log_path))
    first = {}
    last = {}
    for no, (_, chunk) in enumerate(log.lines, 1):
        first.setdefault(group_key(chunk), no)
        last[group_key(chunk)] = no
    assert all(r.first_line == first[r.key] for r in results)
    # Streams ended by a usage-only chunk come out in the order of that chunk, then the
    # rest (still open at the end of the input) in the order of their first chunk.
    final = {s.id: s.chunks[-1] for s in log.streams}

    def ended(r) -> bool:
        chunk = final.get(r.key, {})
        return r.complete and not chunk.get("choices") and chunk.get("usage") is not None

    done = [r for r in results if ended(r)]
    rest = [r for r in results if not ended(r)]
    assert done and rest and results == done + rest
    assert [last[r.key] for r in done] == sorted(last[r.key] for r in done)
    assert [first[r.key] for r in rest] == sorted(first[r.key] for r in rest)


def test_same_result_on_one_and_many_threads_and_any_block_size(log_path):
    one = signature(chatchunk._core.open_log([str(log_path)], threads=1))
    assert signature(merge_log(log_path, threads=3)) == one
    small = chatchunk._core.open_log([str(log_path)], threads=2, block_size=3000)
    assert signature(small) == one


def test_many_files_globs_and_compressed_inputs(log, tmp_path):
    data = log.jsonl().splitlines(keepends=True)
    third = len(data) // 3
    (tmp_path / "a.jsonl").write_bytes(b"".join(data[:third]))
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(b"".join(data[third : 2 * third])))
    pa = pytest.importorskip("pyarrow")
    with pa.CompressedOutputStream(str(tmp_path / "c.jsonl.zst"), "zstd") as out:
        out.write(b"".join(data[2 * third :]))
    results = list(merge_log(str(tmp_path / "*.jsonl*")))
    log.check(results)
    sources = {r.source for r in results}
    assert sources <= {str(tmp_path / n) for n in ("a.jsonl", "b.jsonl.gz", "c.jsonl.zst")}
    # A stream starting in the second file knows its line there.
    b = [r for r in results if r.source.endswith("b.jsonl.gz")]
    assert b and all(1 <= r.first_line <= len(data) - third for r in b)


def test_wrapped_records_with_key_and_chunk_pointers(log, tmp_path):
    request = {s.id: f"req-{n}" for n, s in enumerate(log.streams)}
    path = tmp_path / "wrapped.jsonl"
    with path.open("w") as f:
        for no, (stream_no, chunk) in enumerate(log.lines):
            record = {
                "ts": no,
                "request_id": request[log.streams[stream_no].id],
                "response": {"status": 200, "chunk": chunk},
            }
            f.write(dumps(record) + "\n")
    results = list(merge_log(path, key="/request_id", chunk="/response/chunk", threads=2))
    assert len(results) == len(log.streams)
    by_request = {v: k for k, v in request.items()}
    for r in results:
        stream = log.by_id[by_request[r.key]]
        assert completion_view(r) == stream.expected, stream.kind
        assert r.n_chunks == len(stream.chunks)  # Azure's first chunk found its stream


def test_sse_transcripts_one_and_many_streams_per_file(log, tmp_path):
    streams = log.streams[:40]
    many = tmp_path / "many.sse"
    many.write_bytes(b"".join(s.sse(line_end="\r\n") for s in streams[:30]))
    one = tmp_path / "one.txt"  # detected from its content, not its name
    one.write_bytes(streams[30].sse())
    no_done = tmp_path / "cut.sse"
    no_done.write_bytes(b"".join(s.sse(done=False) for s in streams[31:]))
    results = list(merge_log([many, one, no_done]))
    assert len(results) == len(streams)
    for r, stream in zip(results, streams):
        assert completion_view(r) == stream.expected, stream.kind
        assert r.n_chunks == len(stream.chunks)
    assert all(r.complete for r in results[:31])
    assert [r.first_line for r in results[:2]] == [1, 2 * len(streams[0].chunks) + 3]


# ---------------------------------------------------------------------------
# Bad lines
# ---------------------------------------------------------------------------

BAD = [b"this is not json", b'{"id":"x","choices":[],"model":"\xff\xfe"}', b"[1, 2, 3]"]


@pytest.fixture(scope="module")
def bad_log(log, tmp_path_factory) -> tuple[Path, list[bytes], list[int]]:
    """The log with garbage, invalid UTF-8 and a JSON array spread in, and its last line
    cut in half (no line end)."""
    lines = log.jsonl().splitlines()
    rng = random.Random(3)
    out: list[bytes] = []
    bad_at = []
    for line in lines[:-1]:
        if rng.random() < 0.01:
            out.append(BAD[len(bad_at) % len(BAD)])
            bad_at.append(len(out))
        out.append(line)
    out.append(lines[-1][: len(lines[-1]) // 2])
    bad_at.append(len(out))
    path = tmp_path_factory.mktemp("bad") / "bad.jsonl"
    path.write_bytes(b"\n".join(out))
    return path, [out[n - 1] for n in bad_at], bad_at


def test_raise_stops_at_the_first_bad_line(bad_log):
    path, _, bad_at = bad_log
    with pytest.raises(ParseError) as e:
        list(merge_log(path))
    assert str(e.value).startswith(f"{path}:{bad_at[0]}:")
    assert e.value.line == bad_at[0] and e.value.source == str(path)


def test_skip_counts_bad_lines(log, bad_log):
    path, bad, _ = bad_log
    it = merge_log(path, errors="skip", threads=2)
    results = list(it)
    counts = it.counts()
    assert counts["bad_lines"] == len(bad) >= 4
    assert counts["lines"] == counts["chunks"] + counts["bad_lines"]
    assert counts["chunks"] == len(log.lines) - 1
    assert len(results) == len(log.groups)


def test_quarantine_keeps_every_bad_line_verbatim(bad_log, tmp_path):
    path, bad, _ = bad_log
    quarantine = tmp_path / "bad.txt"
    it = merge_log(path, errors="quarantine", quarantine=quarantine)
    list(it)
    counts = it.counts()
    assert quarantine.read_bytes() == b"".join(line + b"\n" for line in bad)
    assert counts["lines"] == counts["chunks"] + len(bad)
    assert {line[:4] for line in bad} >= {b"this", b'{"id', b"[1, "}


def test_bad_sse_event_is_positioned_after_the_data_prefix(tmp_path):
    path = tmp_path / "bad.sse"
    path.write_bytes(b': hi\n\ndata: {"choices":[]}\n\ndata: {"choices": 1}\n\n')
    with pytest.raises(ParseError, match=rf"^{path}:5:\d+: "):
        list(merge_log(path))


def test_argument_errors():
    with pytest.raises(ValueError, match="quarantine"):
        merge_log("x.jsonl", errors="quarantine")
    with pytest.raises(ValueError, match="errors must be"):
        merge_log("x.jsonl", errors="ignore")
    with pytest.raises(ValueError, match="JSON pointer"):
        merge_log("x.jsonl", key="request_id")
    with pytest.raises(FileNotFoundError):
        list(merge_log("/nonexistent/x.jsonl"))
    with pytest.raises(FileNotFoundError):
        merge_log("/nonexistent/*.jsonl")


# ---------------------------------------------------------------------------
# Stats
# ---------------------------------------------------------------------------


def expected_models(streams) -> dict:
    models: dict = defaultdict(Counter)
    for s in streams:
        e = s.expected
        m = models[e["model"] or "(unknown)"]
        m["streams"] += 1
        usage = e["usage"] or {}
        for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
            m[k] += usage.get(k) or 0
        m["cached_tokens"] += (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return models


def test_log_stats_adds_up(log, log_path):
    stats = log_stats(log_path)
    assert set(stats) == {"lines", "chunks", "bad_lines", "streams", "incomplete_streams", "models"}
    assert stats["lines"] == stats["chunks"] + stats["bad_lines"] == len(log.lines)
    assert stats["streams"] == len(log.groups)
    assert sum(m["streams"] for m in stats["models"].values()) == stats["streams"]
    expected = expected_models(log.streams)
    expected["(unknown)"]["streams"] += 1  # the stream of empty-id chunks
    for name, m in stats["models"].items():
        assert set(m) == {
            "streams",
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cached_tokens",
        }
        assert m == {k: expected[name][k] for k in m}, name
    unfinished = sum(not is_finished(s.expected) for s in log.streams) + 1
    assert stats["incomplete_streams"] == unfinished


# ---------------------------------------------------------------------------
# Arrow
# ---------------------------------------------------------------------------

COLUMNS = [
    "id",
    "choice_index",
    "model",
    "created",
    "system_fingerprint",
    "role",
    "content",
    "reasoning_content",
    "refusal",
    "tool_calls",
    "finish_reason",
    "stop_reason",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "n_chunks",
    "complete",
    "source",
    "first_line",
]


def test_merge_log_arrow_one_row_per_stream_and_choice(log, log_path):
    pytest.importorskip("pyarrow")
    table = chatchunk.merge_log_arrow(log_path, threads=2)
    assert table.column_names == COLUMNS
    rows = table.to_pylist()
    by_stream = defaultdict(list)
    for row in rows:
        by_stream[row["id"]].append(row)
    assert len(by_stream[None]) == 1  # the empty-id chunks, no choices
    assert sum(len(s.expected["choices"]) for s in log.streams) + 1 == len(rows)
    for stream in log.streams:
        e = stream.expected
        usage = e["usage"] or {}
        got = sorted(by_stream[stream.id], key=lambda r: r["choice_index"])
        assert len(got) == len(e["choices"]), stream.kind
        for row, choice in zip(got, e["choices"]):
            m = choice["message"]
            assert row["choice_index"] == choice["index"]
            assert (row["model"], row["created"], row["system_fingerprint"]) == (
                e["model"],
                e["created"],
                e["system_fingerprint"],
            )
            assert (row["role"], row["content"], row["refusal"]) == (
                m["role"],
                m["content"],
                m["refusal"],
            )
            assert row["reasoning_content"] == (m["reasoning_content"] or m["reasoning"])
            calls = m["tool_calls"]
            assert row["tool_calls"] == (
                None
                if calls is None
                else [
                    {
                        "id": c["id"],
                        "type": c["type"],
                        "name": c["function"]["name"],
                        "arguments": c["function"]["arguments"],
                    }
                    for c in calls
                ]
            ), stream.kind
            assert row["finish_reason"] == choice["finish_reason"]
            stop = choice["stop_reason"]
            assert row["stop_reason"] == (None if stop is None else str(stop))
            for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
                assert row[k] == usage.get(k)
            details = usage.get("completion_tokens_details") or {}
            assert row["reasoning_tokens"] == details.get("reasoning_tokens")
            assert row["n_chunks"] == log.groups[stream.id]
            assert row["complete"] == is_finished(stream.expected)
            assert row["source"] == str(log_path)


def test_merge_log_arrow_tables_keep_the_buffers_they_read_in_place(log_path):
    # The columns are lent to pyarrow where Rust built them: the table alone must keep
    # them alive, through garbage collection, reuse of freed memory and a pickle.
    pa = pytest.importorskip("pyarrow")
    import gc
    import pickle

    table = chatchunk.merge_log_arrow(log_path, threads=2)
    expected = table.to_pylist()
    content = table.column("content").chunk(0)
    gc.collect()
    churn = [chatchunk.merge_log_arrow(log_path, threads=2) for _ in range(3)]
    del churn
    gc.collect()
    assert table.to_pylist() == expected
    assert content.to_pylist() == table.column("content").chunk(0).to_pylist()
    again = pickle.loads(pickle.dumps(table))
    assert again.equals(table)
    assert pa.concat_tables([table, again]).num_rows == 2 * len(expected)


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_cli_merge_writes_one_completion_per_line(log, log_path, tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["merge", str(log_path), "-o", str(out), "--threads", "2", "--no-progress"]) == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == len(log.groups)
    merged = [ChatCompletion.from_json(line) for line in lines]
    expected = {s.id: s.expected for s in log.streams}
    for c in merged:
        if c.id is not None:
            assert completion_view(c) == expected[c.id]
    assert [c.to_json() for c in merged] == [r.to_json() for r in merge_log(log_path)]
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_merge_parquet(log, log_path, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "out.parquet"
    assert main(["merge", str(log_path), "-o", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names == COLUMNS
    assert table.equals(chatchunk.merge_log_arrow(log_path))


def test_cli_stats_json_and_table(log_path, capsys):
    assert main(["stats", str(log_path), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats == log_stats(log_path)
    assert main(["stats", str(log_path)]) == 0
    table = capsys.readouterr().out
    assert f"{stats['streams']:,}" in table and "incomplete streams" in table
    assert all(model in table for model in stats["models"])


def test_cli_exit_codes_and_messages(bad_log, tmp_path):
    path, bad, bad_at = bad_log
    cli = [sys.executable, "-m", "chatchunk"]
    out = tmp_path / "out.jsonl"
    run = subprocess.run([*cli, "merge", str(path), "-o", str(out)], capture_output=True)
    assert run.returncode == 1
    assert run.stderr.decode().startswith(f"{path}:{bad_at[0]}:")
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))  # no half file

    run = subprocess.run([*cli, "merge", str(path), "--errors", "skip"], capture_output=True)
    assert run.returncode == 0
    assert f"{len(bad)} bad lines skipped" in run.stderr.decode()
    assert run.stdout.count(b"\n") > 300

    run = subprocess.run(
        [*cli, "merge", str(path), "-o", str(out), "--errors", "quarantine"], capture_output=True
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out.jsonl.bad").read_bytes() == b"".join(b + b"\n" for b in bad)

    for usage in (["merge"], ["merge", "x", "--threads", "0"], ["stats", "x", "--key", "nope"]):
        run = subprocess.run([*cli, *usage], capture_output=True)
        assert run.returncode == 2, usage
        assert b"usage: chatchunk" in run.stderr

    run = subprocess.run(
        [*cli, "stats", "-", "--json"], input=path.read_bytes(), capture_output=True
    )
    assert run.returncode == 1


def test_cli_reads_stdin_and_shows_progress_only_when_asked(log_path):
    cli = [sys.executable, "-m", "chatchunk", "stats", "-", "--json"]
    data = log_path.read_bytes()
    quiet = subprocess.run(cli, input=data, capture_output=True)
    assert quiet.returncode == 0 and quiet.stderr == b""
    shown = subprocess.run([*cli, "--progress"], input=data, capture_output=True)
    assert shown.returncode == 0 and b"MB/s" in shown.stderr and b"streams" in shown.stderr
    assert json.loads(shown.stdout) == json.loads(quiet.stdout)


def test_cli_validate_uses_the_engine(log_path, bad_log, capsys):
    path, bad, bad_at = bad_log
    assert main(["validate", str(log_path)]) == 0
    assert main(["validate", str(path), str(log_path)]) == 1
    out, err = capsys.readouterr()
    reported = out.splitlines()
    assert [line.split(":")[1] for line in reported] == [str(n) for n in bad_at]
    assert all(line.startswith(f"{path}:") for line in reported)
    assert err.strip() == f"{len(bad)} bad chunks"
