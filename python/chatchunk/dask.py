"""Merging logs of chunks on a Dask cluster: :func:`merge_logs`.

Needs ``pip install 'chatchunk[dask]'`` (dask[dataframe], distributed, pyarrow, fsspec);
importing this module does not import dask, calling :func:`merge_logs` does.

How it works (see the README's "Dask" section):

1. **Map**: each JSONL file is cut into equal blocks of at most ``blocksize`` bytes at line
   boundaries (a line belongs to the block where it starts; compressed files are one
   block). A task per block parses its records in Rust (with the single-machine engine's
   templates) and merges them per key into *pieces* (``PartialBlock``); a piece ends at
   each usage-only chunk.
2. **Plan**: small summaries of the blocks (lines, keys, streams left open) tell each block
   the lines of its file before it, the keys whose stream an earlier block left open, and
   which of its streams that finished without a usage report come again soon after it.
3. **Split**: in place, each block sends the pieces of the streams that cross blocks
   (carried in or going on) as partial states (``StreamAccumulator``'s byte form), shuffled
   by a stable hash of the key (the reduce tasks take them a plan group of blocks at a
   time); then, while they are combined, it turns the streams it holds whole into rows, a
   partition.
4. **Reduce**: a task per partition sorts each key's pieces by input position and combines
   them in that order (exactly what one pass over the stream gives, however its chunks
   were spread over files and blocks), ending a stream where the single-machine engine
   ends it, and builds the rows of ``merge_log_arrow``.

SSE files are not split: their streams end within the file, so each is merged whole by the
single-machine engine in one task.
"""

from __future__ import annotations

import errno
import glob as _glob
import os
import pickle
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Union

from chatchunk._core import (
    LINGER,
    BlockSummary,
    ParseError,
    PartialBlock,
    partial_block,
    partial_block_file,
    partial_rows,
)
from chatchunk._log import arrow_batch, arrow_schema, expand_paths

if TYPE_CHECKING:
    import dask.dataframe

__all__ = ["DEFAULT_BLOCKSIZE", "DEFAULT_PARTITIONS", "merge_logs"]

#: The default size of the blocks a JSONL file is cut into.
DEFAULT_BLOCKSIZE = 64 * 2**20

# Blocks per planning task.
_PLAN_GROUP = 32

#: The most reduce tasks by default (one per 8 blocks below that). Only the streams that
#: cross blocks are shuffled: raise it for inputs of thousands of blocks on big clusters.
DEFAULT_PARTITIONS = 16

_SSE_STARTS = (b"data:", b"event:", b"id:", b"retry:", b":")

PathArg = Union[str, "os.PathLike[str]"]


# fsspec's options for the filesystem of each URL (credentials, endpoint...).
Options = Union[dict[str, Any], None]


def _is_url(path: str) -> bool:
    return "://" in path


def _open(path: str, mode: str, options: Options, compression: str | None = None) -> Any:
    """``fsspec.open``, with ``options`` for a URL (a local path takes none)."""
    import fsspec

    return fsspec.open(path, mode, compression=compression, **_options_for(path, options))


def _options_for(path: str, options: Options) -> dict[str, Any]:
    return dict(options or {}) if _is_url(path) else {}


def _expand(paths: PathArg | Iterable[PathArg], options: Options) -> list[str]:
    """Paths in the order given, local ones expanded as ``merge_log`` expands them; a URL
    pattern is expanded with fsspec, its matches sorted."""
    import fsspec

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for path in paths:
        path = os.fspath(path)
        if path == "-":
            raise ValueError("chatchunk.dask.merge_logs cannot read stdin")
        if not (isinstance(path, str) and _is_url(path) and _glob.has_magic(path)):
            out += expand_paths([path])
            continue
        fs, _, _ = fsspec.core.get_fs_token_paths(path, storage_options=options)
        matches = sorted(fs.glob(path))
        if not matches:
            raise FileNotFoundError(errno.ENOENT, "no file matches the pattern", path)
        out.extend(fs.unstrip_protocol(m) for m in matches)
    if not out:
        raise ValueError("no input given")
    return out


def _compression(path: str) -> str | None:
    from fsspec.utils import infer_compression

    return infer_compression(path)


def _detect(path: str, compression: str | None, options: Options) -> str:
    """``"sse"`` when the first non-blank line is an SSE field, else ``"jsonl"``."""
    with _open(path, "rb", options, compression) as f:
        head = f.read(64 * 1024)
    for line in head.split(b"\n"):
        line = line.strip()
        if line:
            return "sse" if line.startswith(_SSE_STARTS) else "jsonl"
    return "jsonl"


def _line_start(f: Any, at: int) -> int:
    """Where the first line that starts at or after ``at`` starts (the file's size if none
    does)."""
    if at == 0:
        return 0
    f.seek(at - 1)
    if f.read(1) == b"\n":
        return at
    f.readline()
    return f.tell()


def _read_block(
    path: str, start: int, end: int | None, compression: str | None, options: Options
) -> bytes:
    """The lines that start in ``[start, end)`` (``end`` None: to the end of the file),
    read in one piece."""
    with _open(path, "rb", options, compression) as f:
        if end is None:
            return f.read()
        begin = _line_start(f, start)
        stop = _line_start(f, end)
        if begin >= stop:
            return b""
        f.seek(begin)
        return f.read(stop - begin)


def _bucket(key: str, n: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % n


def _map_block(
    path: str,
    start: int,
    end: int | None,
    compression: str | None,
    options: Options,
    key: str | None,
    chunk: str | None,
) -> PartialBlock:
    if end is not None and compression is None and not _is_url(path):
        # Read in Rust: no 64 MiB bytes object, no GIL held while reading.
        return partial_block_file(path, start, end, key=key, chunk=chunk)
    data = _read_block(path, start, end, compression, options)
    return partial_block(data, key=key, chunk=chunk)


def _summary(block: PartialBlock) -> BlockSummary:
    """What planning needs to know of a block (small: it travels)."""
    return block.summary()


def _soon(summaries: Sequence[BlockSummary], after: dict[str, int]) -> dict[str, int]:
    """The keys that come within LINGER lines of the start of the first block of
    ``summaries``, with how many lines after it; ``after``: the same for the block that
    follows the last."""
    soon: dict[str, int] = {}
    offset = 0
    for summary in summaries:
        if offset >= LINGER:
            break
        for k, first in summary.head(LINGER - offset):
            if k not in soon:
                soon[k] = offset + first
        offset += summary.lines
    for k, d in after.items():
        if k not in soon and offset + d < LINGER:
            soon[k] = offset + d
    return soon


# Where planning stands before a block: the lines of its file before it, the keys whose
# stream an earlier block left open, and the file of the block before.
_State = tuple[int, frozenset, int]


def _plan(
    state: _State, after: dict[str, int], files: list[int], summaries: Sequence[BlockSummary]
) -> tuple:
    """For each block of a group, given the state before the group and what comes soon
    after it: (lines of its file before it, keys carried into it, its keys that finished
    without a usage report and come again soon); and the state after the group.

    A stream a block saw stays open if a choice has not finished, or if it finished
    without a usage report and its key comes again within LINGER lines (the single-machine
    engine waits as long for the report); a stream it did not see stays as it was."""
    plans = []
    base, carried, previous = state
    for n, (file_no, summary) in enumerate(zip(files, summaries)):
        base = base if file_no == previous else 0
        soon = _soon(summaries[n + 1 :], after)
        again = frozenset(k for k in summary.unreported if k in soon)
        plans.append((base, carried, again))
        carried = carried.difference(summary.among(carried)).union(summary.unfinished, again)
        base += summary.lines
        previous = file_no
    return plans, (base, carried, previous)


def _state_after(plans: tuple) -> _State:
    return plans[1]


def _travelling(
    block: PartialBlock, plans: tuple, n: int, file_no: int, block_no: int, nbuckets: int
) -> list[bytes]:
    """The pieces of a block's streams that cross blocks, by reduce bucket: one bytes
    object per bucket, so that the shuffle moves a buffer, not many objects."""
    base, carried, again = plans[0][n]
    buckets: list[list[tuple]] = [[] for _ in range(nbuckets)]
    for k, first, ends_with_usage, _ended, state in block.travelling(carried, again):
        line = base + first + 1
        buckets[_bucket(k, nbuckets)].append((k, file_no, block_no, line, ends_with_usage, state))
    return [pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL) for b in buckets]


def _block_rows(
    block: PartialBlock, plans: tuple, n: int, path: str, _travelled: Any, _errors_checked: int
) -> Any:
    """The rows of the streams a block holds whole: a partition, once the bad lines of
    every task are handled. Apart from ``_travelling``, so that the reduce need not wait
    for it, and after it (either order gives the same), so that a worker sends the pieces
    the reduce waits for before it builds rows: left to itself, a worker ran one before
    the other either way, and the reduce then waited 40 ms longer."""
    base, carried, again = plans[0][n]
    return _frame(block.take_rows(carried, again, path, base))


def _block_bad(block: PartialBlock) -> tuple[int, list]:
    """A block's lines and bad records, known once it is merged: checking them need not
    wait for the plan."""
    return block.lines, block.bad()


def _sse_bad(result: dict[str, Any]) -> list:
    return result["bad"]


def _sse_rows(result: dict[str, Any], _errors_checked: int) -> Any:
    """An SSE file's rows, once the bad lines of every task have been handled."""
    return result["rows"]


def _by_bucket(nbuckets: int, *travelled: list[bytes]) -> list[list[bytes]]:
    """A plan group's travelling pieces, by bucket: the reduce tasks take them a group at a
    time, not a block at a time (blocks x buckets tasks, most of a big input's graph)."""
    return [[buckets[b] for buckets in travelled] for b in range(nbuckets)]


def _take_bucket(buckets: list[list[bytes]], b: int) -> list[bytes]:
    return buckets[b]


def _parse_error(source: str, line: int, column: int, message: str) -> ParseError:
    err = ParseError(f"{source}:{line}:{column}: {message}")
    err.message = message  # type: ignore[attr-defined]
    err.source = source  # type: ignore[attr-defined]
    err.line = line  # type: ignore[attr-defined]
    err.column = column  # type: ignore[attr-defined]
    return err


def _errors(
    mode: str,
    quarantine: str | None,
    options: Options,
    paths: list[str],
    block_files: list[int],
    *bads: Any,
) -> int:
    """Handles the bad lines of every block, in input order: raises at the first, or writes
    them all to the quarantine file. Returns how many there were.

    ``bads``: each JSONL block's ``_block_bad`` (the file of each in ``block_files``, in
    input order), then each SSE file's records, ``(file_no, -1, raw bytes of the file's
    quarantine)``."""
    records = []
    base, previous = 0, -1
    for (block_no, file_no), (lines, bad) in zip(enumerate(block_files), bads):
        base = base if file_no == previous else 0
        records += [
            (file_no, block_no, base + line + 1, col, msg, raw) for line, col, msg, raw in bad
        ]
        base += lines
        previous = file_no
    for sse in bads[len(block_files) :]:
        records += sse
    records.sort(key=lambda r: (r[0], r[1], r[2] if r[1] >= 0 else 0))
    if mode == "raise":
        for r in records:
            if r[1] >= 0:
                file_no, _, line, col, msg, _ = r
                raise _parse_error(paths[file_no], line, col, msg)
        return 0
    if mode == "quarantine":
        assert quarantine is not None
        with _open(quarantine, "wb", options) as f:
            for r in records:
                if r[1] >= 0:
                    f.write(r[5])
                    f.write(b"\n")
                else:
                    f.write(r[2])
    return sum(1 for r in records if r[1] >= 0)


def _frame(columns: dict[str, tuple]) -> Any:
    import pandas as pd

    return arrow_batch(columns).to_pandas(types_mapper=pd.ArrowDtype)


def _reduce(paths: list[str], _errors_checked: int, *parts: list[bytes]) -> Any:
    """The rows of the streams of one bucket; ``parts``: their pieces, as lists of the
    buffers ``_travelling`` made."""
    keys: dict[str, list[tuple[int, int, int, bool, bytes]]] = {}
    for part in parts:
        for k, file_no, block_no, line, ends_with_usage, state in (
            piece for buffer in part for piece in pickle.loads(buffer)
        ):
            keys.setdefault(k, []).append((file_no, block_no, line, ends_with_usage, state))
    groups = []
    for pieces in keys.values():
        pieces.sort(key=lambda p: p[:3])
        groups.append([(p[4], p[3], p[0], p[2]) for p in pieces])
    return _frame(partial_rows(groups, paths))


def _sse_file(
    path: str,
    file_no: int,
    compression: str | None,
    options: Options,
    key: str | None,
    chunk: str | None,
    errors: str,
) -> dict[str, Any]:
    """A whole SSE file through the single-machine engine (its streams end in the file)."""
    from chatchunk._log import merge_log_arrow

    with tempfile.TemporaryDirectory() as tmp:
        local = path
        if _is_url(path) or compression is not None:
            local = os.path.join(tmp, "input.sse")
            with _open(path, "rb", options, compression) as src, open(local, "wb") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)
        bad_file = os.path.join(tmp, "bad")
        table = merge_log_arrow(
            local,
            key=key,
            chunk=chunk,
            format="sse",
            threads=1,
            errors=errors,
            quarantine=bad_file if errors == "quarantine" else None,
        )
        bad: list = []
        if errors == "quarantine" and os.path.exists(bad_file):
            with open(bad_file, "rb") as f:
                data = f.read()
            if data:
                bad.append((file_no, -1, data))
    import pandas as pd
    import pyarrow as pa

    if local != path:
        table = table.set_column(
            table.schema.get_field_index("source"),
            "source",
            pa.array([path] * len(table), pa.string()),
        )
    return {"rows": table.to_pandas(types_mapper=pd.ArrowDtype), "bad": bad}


def merge_logs(
    paths: PathArg | Iterable[PathArg],
    *,
    key: str | None = None,
    chunk: str | None = None,
    format: str = "auto",
    blocksize: int | str = DEFAULT_BLOCKSIZE,
    errors: str = "raise",
    quarantine: str | os.PathLike[str] | None = None,
    partitions: int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> dask.dataframe.DataFrame:
    """Merge every stream of a log of chunks on Dask: a lazy ``dask.dataframe.DataFrame``
    with exactly the columns (and Arrow types, as ``pd.ArrowDtype``) of
    :func:`chatchunk.merge_log_arrow`, one row per (stream, choice).

    ``paths``: local paths or fsspec URLs (``s3://bucket/logs/*.jsonl``), globs expanded,
    taken in the order given. A stream's chunks may be spread over any files and blocks:
    they are merged in input order (file order, then position in the file). ``key``,
    ``chunk`` and ``format`` as for ``merge_log``. ``blocksize``: the most bytes per map
    task of an uncompressed JSONL file, a number or a size as Dask writes one
    (``"256MiB"``). ``errors``: ``"raise"`` (computing raises ``ParseError``
    ``FILE:LINE:COL: message`` for the first bad line in input order), ``"skip"``, or
    ``"quarantine"``: every bad line is written verbatim, in input order, to
    ``quarantine`` (a local path or fsspec URL that the workers can write) by one task,
    before any partition is returned. ``partitions``: reduce tasks (default: one per 8
    blocks, at most ``DEFAULT_PARTITIONS``). ``storage_options``: fsspec's options for the
    filesystem of every URL, inputs and quarantine (``{"profile": "logs"}``,
    ``{"endpoint_url": ...}`` for S3), as in Dask's ``read_*`` functions; local paths take none.

    Streams end as in ``merge_log``: at a usage report once every choice has finished,
    and a key reused after that starts a new stream; a stream that finished every choice
    but reported no usage ends if no chunk of its key comes within ``LINGER`` lines (the
    single-machine engine counts records and checks now and then, so a key reused right
    about then may be split differently). Rows come partition by partition: one per block
    (the streams it held whole), then the reduce partitions (the streams that crossed
    blocks), then one per SSE file; each in order of (file, first line).
    """
    import dask
    import dask.dataframe as dd
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    from chatchunk._dask_partitions import graph_frame

    if format not in ("auto", "jsonl", "sse"):
        raise ValueError(f"format must be 'auto', 'jsonl' or 'sse', not {format!r}")
    if errors not in ("raise", "skip", "quarantine"):
        raise ValueError(f"errors must be 'raise', 'skip' or 'quarantine', not {errors!r}")
    if errors == "quarantine" and quarantine is None:
        raise ValueError("errors='quarantine' needs quarantine=PATH, the file for bad lines")
    if isinstance(blocksize, str):
        from dask.utils import parse_bytes

        blocksize = parse_bytes(blocksize)
    if blocksize < 1:
        raise ValueError("blocksize must be at least 1")
    import fsspec

    files = _expand(paths, storage_options)
    delayed = dask.delayed
    jsonl_blocks: list[tuple[str, int, int, int, int | None, str | None]] = []
    sse_files: list[tuple[str, int, str | None]] = []
    for file_no, path in enumerate(files):
        compression = _compression(path)
        kind = format if format != "auto" else _detect(path, compression, storage_options)
        if kind == "sse":
            sse_files.append((path, file_no, compression))
            continue
        if compression is not None:
            jsonl_blocks.append((path, file_no, 0, 0, None, compression))
            continue
        fs, _, (fs_path,) = fsspec.core.get_fs_token_paths(
            path, storage_options=_options_for(path, storage_options)
        )
        size = fs.size(fs_path)
        # As few blocks as `blocksize` allows, of equal size: the tasks take equally long.
        count = max(1, -(-size // blocksize))
        bounds = [size * n // count for n in range(count + 1)]
        for block_no, (start, end) in enumerate(zip(bounds, bounds[1:])):
            jsonl_blocks.append((path, file_no, block_no, start, end, None))

    if partitions is not None and partitions < 1:
        raise ValueError("partitions must be at least 1")
    nbuckets = partitions or max(1, min(-(-len(jsonl_blocks) // 8), DEFAULT_PARTITIONS))
    blocks = [
        delayed(_map_block, pure=True)(path, start, end, compression, storage_options, key, chunk)
        for path, _, _, start, end, compression in jsonl_blocks
    ]
    summaries = [delayed(_summary, pure=True)(b) for b in blocks]
    # Planning runs on groups of blocks: one task sees a group's summaries (not all of
    # them, which for a big input would not fit one task), and what comes soon after the
    # group is found from the last group back.
    groups = [
        range(g, min(g + _PLAN_GROUP, len(blocks))) for g in range(0, len(blocks), _PLAN_GROUP)
    ]
    afters: list[Any] = [{}] * len(groups)
    for g in range(len(groups) - 2, -1, -1):
        following = [summaries[n] for n in groups[g + 1]]
        afters[g] = delayed(_soon, pure=True)(following, afters[g + 1])
    state: Any = (0, frozenset(), -1)
    travelling = []
    planned = []
    by_bucket = []
    for group, after in zip(groups, afters):
        file_nos = [jsonl_blocks[n][1] for n in group]
        plans = delayed(_plan, pure=True)(state, after, file_nos, [summaries[n] for n in group])
        state = delayed(_state_after, pure=True)(plans)
        for i, n in enumerate(group):
            path, file_no, block_no, *_ = jsonl_blocks[n]
            travelling.append(
                delayed(_travelling, pure=True)(blocks[n], plans, i, file_no, block_no, nbuckets)
            )
            planned.append((blocks[n], plans, i, path))
        if nbuckets > 1:
            group_pieces = travelling[len(travelling) - len(group) :]
            by_bucket.append(delayed(_by_bucket, pure=True)(nbuckets, *group_pieces))
    sse = [
        delayed(_sse_file, pure=True)(
            path, file_no, compression, storage_options, key, chunk, errors
        )
        for path, file_no, compression in sse_files
    ]
    bads = [delayed(_block_bad)(b) for b in blocks] + [delayed(_sse_bad)(s) for s in sse]
    checked = delayed(_errors, pure=True)(
        errors,
        None if quarantine is None else os.fspath(quarantine),
        storage_options,
        files,
        [file_no for _, file_no, *_ in jsonl_blocks],
        *bads,
    )
    # The tasks' own results are the partitions, named as the DataFrame names them:
    # from_delayed would add two more tasks per partition, from_graph one (each a hop
    # through the scheduler). The keys before them are tokens of everything the graph
    # was built from, and so name it.
    name = "merge-logs-" + tokenize([t.key for t in travelling + sse], checked.key, nbuckets)
    parts: list[Any] = []

    def partition(fn: Any, *args: Any) -> None:
        parts.append(delayed(fn)(*args, dask_key_name=(name, len(parts))))

    for (block, plans, i, path), pieces in zip(planned, travelling):
        partition(_block_rows, block, plans, i, path, pieces, checked)
    if travelling and nbuckets == 1:
        # One reduce takes every block's one bucket as it is: no task per block between.
        partition(_reduce, files, checked, *travelling)
    elif travelling:
        for b in range(nbuckets):
            partition(_reduce, files, checked, *(delayed(_take_bucket)(g, b) for g in by_bucket))
    for s in sse:
        partition(_sse_rows, s, checked)
    import pandas as pd

    meta = arrow_schema().empty_table().to_pandas(types_mapper=pd.ArrowDtype)
    if not parts:
        return dd.from_pandas(meta, npartitions=1)
    graph = dict(HighLevelGraph.merge(*(part.dask for part in parts)))
    return graph_frame(graph, meta, name, len(parts))
