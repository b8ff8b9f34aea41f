"""chatchunk.dask.merge_logs on a real distributed.LocalCluster (2 worker processes): the
same rows as the single-machine merge_log_arrow, with streams spread over files and blocks."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from chatchunk import ParseError, merge_log_arrow
from chatchunk._log import arrow_batch, arrow_schema
from chatchunk.dask import merge_logs

pa = pytest.importorskip("pyarrow")
pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

ORDER = [("source", "ascending"), ("first_line", "ascending"), ("choice_index", "ascending")]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def rows(table) -> list[dict]:
    return table.sort_by(ORDER).to_pylist()


def dask_rows(ddf) -> list[dict]:
    df = ddf.compute()
    return rows(pa.Table.from_pandas(df, schema=arrow_schema(), preserve_index=False))


def without_place(rs: list[dict]) -> list[dict]:
    out = [{k: v for k, v in r.items() if k not in ("source", "first_line")} for r in rs]
    return sorted(out, key=lambda r: (r["id"] or "", r["choice_index"] or 0, json.dumps(r)))


class SplitLog:
    """A generated log, and the same lines cut into 4 files so that one long stream has
    chunks in every file."""

    def __init__(self, tmp: Path, n: int = 180, seed: int = 11) -> None:
        streams = corpus.make_streams(n, seed=seed)
        self.lines = [dumps(c) for _, c in corpus.interleave(streams, random.Random(seed))]
        longest = max(streams, key=lambda s: len(s.chunks))
        self.spread_id = longest.id
        at = [i for i, line in enumerate(self.lines) if json.loads(line).get("id") == longest.id]
        assert len(at) >= 4
        # Cut right before its 2nd, 3rd and 4th chunk: each file holds some of it.
        self.cuts = [at[1], at[2], at[3]]
        self.whole = tmp / "whole.jsonl"
        self.whole.write_text("".join(line + "\n" for line in self.lines))
        bounds = [0, *self.cuts, len(self.lines)]
        self.parts = []
        for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
            path = tmp / f"part-{i}.jsonl"
            path.write_text("".join(line + "\n" for line in self.lines[a:b]))
            self.parts.append(str(path))


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return SplitLog(tmp_path_factory.mktemp("dasklog"))


def test_split_log_gives_the_single_machine_rows(client, log):
    ddf = merge_logs(log.parts, blocksize=1 << 16)
    got = dask_rows(ddf)
    assert got == rows(merge_log_arrow(log.parts))
    # And the unsplit log's rows, but for where each stream starts.
    assert without_place(got) == without_place(rows(merge_log_arrow(str(log.whole))))
    assert list(ddf.columns) == arrow_schema().names


def test_a_stream_in_all_four_files(client, log):
    got = [r for r in dask_rows(merge_logs(log.parts)) if r["id"] == log.spread_id]
    want = [r for r in rows(merge_log_arrow(str(log.whole))) if r["id"] == log.spread_id]
    assert got and [r["n_chunks"] for r in got] == [r["n_chunks"] for r in want]
    assert without_place(got) == without_place(want)
    assert {r["source"] for r in got} == {log.parts[0]}


def test_small_blocks_many_per_file_and_a_glob(client, log):
    pattern = str(Path(log.parts[0]).with_name("part-*.jsonl"))
    ddf = merge_logs(pattern, blocksize="8 kiB", partitions=7)
    blocks = sum(-(-Path(p).stat().st_size // 8192) for p in log.parts)
    # A partition per block (its whole streams), then the 7 of the streams that crossed.
    assert ddf.npartitions == blocks + 7
    # The reduce tasks take the travelling pieces 32 blocks at a time: a few tasks per
    # block (5 of its own), not one more per block and reduce task.
    assert len(ddf.__dask_graph__()) < 6 * blocks
    assert dask_rows(ddf) == rows(merge_log_arrow(log.parts))


def test_keys_reused_after_their_stream_ended(client, tmp_path):
    # The same 30 streams twice in a row, ids unchanged: a stream that ended (usage after
    # every finish) is followed by a new one of its key, as the single-machine engine has
    # it, wherever the blocks cut; one that never ended takes the second run's chunks too.
    streams = corpus.make_streams(30, seed=5)
    lines = [dumps(c) for _, c in corpus.interleave(streams, random.Random(5))]
    path = tmp_path / "replayed.jsonl"
    path.write_text("".join(line + "\n" for line in lines + lines))
    want = rows(merge_log_arrow(str(path)))
    assert len({r["first_line"] for r in want}) > len({r["id"] for r in want})
    for blocksize in (4096, 1 << 15):
        assert dask_rows(merge_logs(str(path), blocksize=blocksize)) == want


def test_file_urls_go_through_fsspec(client, log):
    urls = [Path(p).as_uri() for p in log.parts]
    got = dask_rows(merge_logs(urls, blocksize=1 << 15))
    want = rows(merge_log_arrow(log.parts))
    for r, w in zip(got, want):
        assert r.pop("source") == Path(w.pop("source")).as_uri()
    assert got == want


def write_sse(path: Path, streams) -> Path:
    path.write_bytes(b"".join(s.sse() for s in streams))
    return path


def write_gzip_jsonl(path: Path, streams) -> Path:
    import gzip

    lines = "".join(dumps(c) + "\n" for s in streams for c in s.chunks)
    path.write_bytes(gzip.compress(lines.encode()))
    return path


def test_sse_files_and_gzip(client, tmp_path):
    streams = corpus.make_streams(12, seed=3)
    sse = write_sse(tmp_path / "a.sse", streams[:6])
    gz = write_gzip_jsonl(tmp_path / "b.jsonl.gz", streams[6:])
    paths = [str(sse), str(gz)]
    assert dask_rows(merge_logs(paths)) == rows(merge_log_arrow(paths))


BAD_LINES = ["not json", '{"id":"trunc","choices":[{"index":0,', "[1,2,3]", b"\xff\xfe{}"]


@pytest.fixture(scope="module")
def bad_parts(log, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    out = []
    for i, part in enumerate(log.parts):
        lines = Path(part).read_bytes().splitlines(keepends=True)
        bad = BAD_LINES[i]
        bad = bad if isinstance(bad, bytes) else bad.encode()
        lines.insert(len(lines) // 2, bad + b"\n")
        path = tmp / f"bad-{i}.jsonl"
        path.write_bytes(b"".join(lines))
        out.append(str(path))
    return out


def test_bad_lines_raise_like_merge_log(client, bad_parts):
    with pytest.raises(ParseError) as single:
        merge_log_arrow(bad_parts)
    with pytest.raises(ParseError) as ours:
        merge_logs(bad_parts, blocksize=32768).compute()
    assert str(ours.value) == str(single.value)
    assert ours.value.line == single.value.line


def test_bad_lines_skip_and_quarantine(client, bad_parts, tmp_path):
    want = rows(merge_log_arrow(bad_parts, errors="skip"))
    assert dask_rows(merge_logs(bad_parts, errors="skip", blocksize=32768)) == want
    single_bad, ours_bad = tmp_path / "single.bad", tmp_path / "ours.bad"
    merge_log_arrow(bad_parts, errors="quarantine", quarantine=single_bad)
    got = dask_rows(
        merge_logs(bad_parts, errors="quarantine", quarantine=ours_bad, blocksize=32768)
    )
    assert got == want
    assert ours_bad.read_bytes() == single_bad.read_bytes()
    assert len(ours_bad.read_bytes().splitlines()) == len(BAD_LINES)
    with pytest.raises(ValueError, match="quarantine"):
        merge_logs(bad_parts, errors="quarantine")


def test_storage_options_reach_every_url(client, bad_parts, tmp_path):
    """fsspec's dir:// filesystem needs an option, its root (without it fsspec fails): the
    glob, the reads on the workers (JSONL blocks, gzip, SSE) and the quarantine get it."""
    import shutil

    streams = corpus.make_streams(8, seed=5)
    local = [Path(shutil.copy(part, tmp_path)) for part in bad_parts]
    local.append(write_gzip_jsonl(tmp_path / "c.jsonl.gz", streams[:4]))
    local.append(write_sse(tmp_path / "d.sse", streams[4:]))
    options = {"path": str(tmp_path), "target_protocol": "file"}
    single_bad = tmp_path / "single.bad"
    want = rows(merge_log_arrow(local, errors="quarantine", quarantine=single_bad))

    ddf = merge_logs(
        ["dir://bad-*.jsonl", "dir://c.jsonl.gz", "dir://d.sse"],
        errors="quarantine",
        quarantine="dir://ours.bad",
        blocksize=32768,
        storage_options=options,
    )
    got = dask_rows(ddf)
    for r, w in zip(got, want):
        assert r.pop("source") == "dir://" + Path(w.pop("source")).name
    assert got == want
    assert (tmp_path / "ours.bad").read_bytes() == single_bad.read_bytes()


def test_importing_chatchunk_does_not_import_dask():
    code = "import sys, chatchunk, chatchunk.dask; assert 'dask' not in sys.modules, 'dask'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wrapped_records_with_key_and_chunk(client, log, tmp_path):
    paths = []
    for i, part in enumerate(log.parts):
        out = tmp_path / f"wrapped-{i}.jsonl"
        lines = Path(part).read_text().split("\n")[:-1]
        out.write_text(
            "".join(
                dumps(
                    {
                        "request_id": f"r-{json.loads(line).get('id')}",
                        "response": {"chunk": json.loads(line)},
                    }
                )
                + "\n"
                for line in lines
            )
        )
        paths.append(str(out))
    options = {"key": "/request_id", "chunk": "/response/chunk"}
    got = dask_rows(merge_logs(paths, blocksize=1 << 16, **options))
    assert got == rows(merge_log_arrow(paths, **options))


def summarized(summary) -> tuple:
    return summary.lines, summary.head(2**63), summary.unfinished, summary.unreported


def test_partial_blocks_read_from_files_pickle_and_split_alike(log):
    # No cluster: the pieces a block task makes, read by Rust from the file or from
    # bytes, before and after a pickle round trip (a scheduler may move a block).
    import pickle

    from chatchunk._core import partial_block, partial_block_file

    path = log.parts[0]
    data = Path(path).read_bytes()
    rng = random.Random(3)
    cuts = sorted(rng.sample(range(1, len(data)), 5))
    for start, end in zip([0, *cuts], [*cuts, len(data)]):
        begin = 0 if start == 0 else data.index(b"\n", start - 1) + 1
        stop = len(data) if end == len(data) else data.index(b"\n", end - 1) + 1
        from_bytes = partial_block(data[begin:stop])
        from_file = partial_block_file(path, start, end)
        again = pickle.loads(pickle.dumps(from_file))
        assert from_file.lines == from_bytes.lines == again.lines == data[begin:stop].count(b"\n")
        summary = from_file.summary()
        assert summarized(summary) == summarized(from_bytes.summary())
        assert summarized(summary) == summarized(again.summary())
        assert summarized(pickle.loads(pickle.dumps(summary))) == summarized(summary)
        keys = [k for k, _ in summary.head(2**63)]
        assert len(keys) == len(set(keys))
        carried = set(keys[:3])
        assert sorted(summary.among(carried | {"no such key"})) == sorted(carried)
        pieces = from_file.travelling(carried, set())
        # Read in place: the block still pickles whole, and gives the same again.
        assert pickle.loads(pickle.dumps(from_file)).travelling(carried, set()) == pieces
        rows = arrow_batch(from_file.take_rows(carried, set(), path, 0))
        # Taking the rows leaves the travelling pieces, pickled or not.
        assert from_file.travelling(carried, set()) == pieces
        assert pickle.loads(pickle.dumps(from_file)).travelling(carried, set()) == pieces
        for other in (again, from_bytes):
            other_rows = arrow_batch(other.take_rows(carried, set(), path, 0))
            assert other_rows.equals(rows)
            assert other.travelling(carried, set()) == pieces
        assert {p[0] for p in pieces} >= carried
        assert not carried & set(rows.column("id").to_pylist())
        # The rows are taken once, and a block says so after, pickled or not.
        for taken in (from_file, pickle.loads(pickle.dumps(from_file))):
            with pytest.raises(ValueError, match="rows have been taken"):
                taken.take_rows(carried, set(), path, 0)
        assert from_file.lines == again.lines and from_file.bad() == again.bad()


def test_a_block_pickles_while_another_thread_reads_its_pieces(tmp_path):
    """A Dask worker's event loop pickles a block (to move it) while a task reads it on
    another thread with the GIL let go: neither may wait for the other forever."""
    streams = corpus.make_streams(3000, seed=8)
    lines = [dumps(c) for _, c in corpus.interleave(streams, random.Random(8))]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    script = f"""
import pickle, threading
from chatchunk._core import partial_block_file
block = partial_block_file({str(path)!r}, 0, {path.stat().st_size})
carried = {{k for k, _ in block.summary().head(2**63)[::2]}}
expected = block.travelling(carried, set())
def read():
    for _ in range(40):
        assert block.travelling(carried, set()) == expected
reader = threading.Thread(target=read)
reader.start()
while reader.is_alive():
    pickle.dumps(block)
reader.join()
print("ok")
"""
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert run.stdout.strip() == "ok", run.stderr
