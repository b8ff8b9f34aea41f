"""Merging logs of chunks on a Dask cluster: :func:`merge_logs`.

Needs ``pip install 'chatchunk[dask]'`` (dask[dataframe], distributed, pyarrow, fsspec);
importing this module does not import dask, calling :func:`merge_logs` does.

How it works (see the README's "Dask" section):

1. **Map**: each JSONL file is cut into blocks of ``blocksize`` bytes at line boundaries (a
   line belongs to the block where it starts; compressed files are one block). A task per
   block parses its records in Rust and merges them into one *partial state* per stream key
   (``StreamAccumulator``'s byte form), each tagged with (file order, block order, line in
   the block), and counts the block's lines.
2. **Shuffle**: the states are routed to ``partitions`` reduce tasks by a stable hash of the
   key.
3. **Reduce**: a task per partition sorts each key's states by input position, combines them
   in that order (exactly what one pass over the stream gives, however its chunks were
   spread over files and blocks), and builds the rows of ``merge_log_arrow``; the first line
   of a stream is its block's first line (from the line counts) plus its line in the block.

SSE files are not split: their streams end within the file, so each is merged whole by the
single-machine engine in one task.
"""

from __future__ import annotations

import glob as _glob
import os
import pickle
import tempfile
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Union

from chatchunk._core import ParseError, partial_block, partial_rows
from chatchunk._log import arrow_schema

if TYPE_CHECKING:
    import dask.dataframe

__all__ = ["DEFAULT_BLOCKSIZE", "DEFAULT_PARTITIONS", "merge_logs"]

#: The default size of the blocks a JSONL file is cut into.
DEFAULT_BLOCKSIZE = 64 * 2**20

#: The default number of reduce tasks (at most one per block). The shuffle has one small
#: task per (block, partition): raise it for inputs of thousands of blocks on big clusters.
DEFAULT_PARTITIONS = 16

_SSE_STARTS = (b"data:", b"event:", b"id:", b"retry:", b":")

PathArg = Union[str, "os.PathLike[str]"]


def _is_url(path: str) -> bool:
    return "://" in path


def _expand(paths: PathArg | Iterable[PathArg]) -> list[str]:
    """Paths in the order given; a glob naming no existing path is expanded, its matches
    sorted (local with the stdlib, like merge_log; URLs with fsspec)."""
    import fsspec

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for path in paths:
        path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError(f"paths must be str or os.PathLike[str], not {type(path).__name__}")
        if path == "-":
            raise ValueError("chatchunk.dask.merge_logs cannot read stdin")
        if not _glob.has_magic(path):
            out.append(path)
        elif _is_url(path):
            fs, _, _ = fsspec.core.get_fs_token_paths(path)
            matches = sorted(fs.glob(path))
            if not matches:
                raise FileNotFoundError(f"no file matches the pattern: {path}")
            out.extend(fs.unstrip_protocol(m) for m in matches)
        elif os.path.exists(path):
            out.append(path)
        else:
            matches = sorted(_glob.glob(path, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no file matches the pattern: {path}")
            out.extend(matches)
    if not out:
        raise ValueError("no input given")
    return out


def _compression(path: str) -> str | None:
    from fsspec.utils import infer_compression

    return infer_compression(path)


def _detect(path: str, compression: str | None) -> str:
    """``"sse"`` when the first non-blank line is an SSE field, else ``"jsonl"``."""
    import fsspec

    with fsspec.open(path, "rb", compression=compression) as f:
        head = f.read(64 * 1024)
    for line in head.split(b"\n"):
        line = line.strip()
        if line:
            return "sse" if line.startswith(_SSE_STARTS) else "jsonl"
    return "jsonl"


def _read_block(path: str, start: int, end: int, compression: str | None) -> bytes:
    """The lines that start in ``[start, end)`` (``end`` None: to the end of the file)."""
    import fsspec

    with fsspec.open(path, "rb", compression=compression) as f:
        if end is None:
            return f.read()
        if start == 0:
            begin = 0
        else:
            f.seek(start - 1)
            if f.read(1) == b"\n":
                begin = start
            else:
                f.readline()
                begin = f.tell()
        if begin >= end:
            return b""
        f.seek(begin)
        data = f.read(end - begin)
        if data and not data.endswith(b"\n"):
            data += f.readline()
        return data


def _bucket(key: str, n: int) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % n


def _map_block(
    path: str,
    file_no: int,
    block_no: int,
    start: int,
    end: int | None,
    compression: str | None,
    key: str | None,
    chunk: str | None,
    nbuckets: int,
) -> dict[str, Any]:
    data = _read_block(path, start, end, compression)
    keys, firsts, states, lines, bad = partial_block(data, key=key, chunk=chunk)
    buckets: list[list[tuple[str, int, int, int, bytes]]] = [[] for _ in range(nbuckets)]
    for k, first, state in zip(keys, firsts, states):
        buckets[_bucket(k, nbuckets)].append((k, file_no, block_no, first, state))
    return {
        "lines": lines,
        "bad": [(file_no, block_no, line, col, msg, raw) for line, col, msg, raw in bad],
        # One bytes object per bucket: the shuffle moves a buffer, not thousands of objects.
        "buckets": [pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL) for b in buckets],
    }


def _lines(result: dict[str, Any]) -> int:
    return result["lines"]


def _bad(result: dict[str, Any]) -> list:
    return result["bad"]


def _take_bucket(result: dict[str, Any], b: int) -> bytes:
    return result["buckets"][b]


def _bases(blocks: list[tuple[int, int]], *counts: int) -> dict[tuple[int, int], int]:
    """The number of lines before each block of its file."""
    bases: dict[tuple[int, int], int] = {}
    seen: dict[int, int] = {}
    for (file_no, block_no), n in zip(blocks, counts):
        bases[(file_no, block_no)] = seen.get(file_no, 0)
        seen[file_no] = seen.get(file_no, 0) + n
    return bases


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
    paths: list[str],
    bases: dict[tuple[int, int], int],
    *bads: list,
) -> int:
    """Handles the bad lines of every block, in input order: raises at the first, or writes
    them all to the quarantine file. Returns how many there were."""
    import fsspec

    # SSE files report theirs as (file_no, -1, raw bytes of the file's quarantine).
    records = sorted(
        (r for block in bads for r in block), key=lambda r: (r[0], r[1], r[2] if r[1] >= 0 else 0)
    )
    if mode == "raise":
        for r in records:
            if r[1] >= 0:
                file_no, block_no, line, col, msg, _ = r
                raise _parse_error(paths[file_no], bases[(file_no, block_no)] + line + 1, col, msg)
        return 0
    if mode == "quarantine":
        assert quarantine is not None
        with fsspec.open(quarantine, "wb") as f:
            for r in records:
                if r[1] >= 0:
                    f.write(r[5])
                    f.write(b"\n")
                else:
                    f.write(r[2])
    return sum(1 for r in records if r[1] >= 0)


def _frame(columns: dict[str, list]) -> Any:
    import pandas as pd
    import pyarrow as pa

    table = pa.Table.from_pydict(columns, schema=arrow_schema())
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _reduce(
    paths: list[str],
    bases: dict[tuple[int, int], int],
    _errors_checked: int,
    *parts: list,
) -> Any:
    streams: dict[str, list[tuple[int, int, int, bytes]]] = {}
    for part in parts:
        for k, file_no, block_no, first, state in pickle.loads(part):
            streams.setdefault(k, []).append((file_no, block_no, first, state))
    ordered = []
    for pieces in streams.values():
        pieces.sort(key=lambda p: (p[0], p[1]))
        file_no, block_no, first, _ = pieces[0]
        line = bases[(file_no, block_no)] + first + 1
        ordered.append((file_no, line, [p[3] for p in pieces]))
    ordered.sort(key=lambda s: (s[0], s[1]))
    columns = partial_rows(
        [s[2] for s in ordered], [paths[s[0]] for s in ordered], [s[1] for s in ordered]
    )
    return _frame(columns)


def _sse_file(
    path: str,
    file_no: int,
    compression: str | None,
    key: str | None,
    chunk: str | None,
    errors: str,
) -> tuple[Any, list]:
    """A whole SSE file through the single-machine engine (its streams end in the file)."""
    import fsspec

    from chatchunk._log import merge_log_arrow

    with tempfile.TemporaryDirectory() as tmp:
        local = path
        if _is_url(path) or compression is not None:
            local = os.path.join(tmp, "input.sse")
            with fsspec.open(path, "rb", compression=compression) as src, open(local, "wb") as dst:
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
    return table.to_pandas(types_mapper=pd.ArrowDtype), bad


def _first(pair: tuple) -> Any:
    return pair[0]


def _second(pair: tuple) -> Any:
    return pair[1]


def _after(frame: Any, _errors_checked: int) -> Any:
    return frame


def merge_logs(
    paths: PathArg | Iterable[PathArg],
    *,
    key: str | None = None,
    chunk: str | None = None,
    format: str = "auto",
    blocksize: int = DEFAULT_BLOCKSIZE,
    errors: str = "raise",
    quarantine: str | os.PathLike[str] | None = None,
    partitions: int | None = None,
) -> dask.dataframe.DataFrame:
    """Merge every stream of a log of chunks on Dask: a lazy ``dask.dataframe.DataFrame``
    with exactly the columns (and Arrow types, as ``pd.ArrowDtype``) of
    :func:`chatchunk.merge_log_arrow`, one row per (stream, choice).

    ``paths``: local paths or fsspec URLs (``s3://bucket/logs/*.jsonl``), globs expanded,
    taken in the order given. A stream's chunks may be spread over any files and blocks:
    they are merged in input order (file order, then position in the file). ``key``,
    ``chunk`` and ``format`` as for ``merge_log``. ``blocksize``: bytes per map task of an
    uncompressed JSONL file. ``errors``: ``"raise"`` (computing raises ``ParseError``
    ``FILE:LINE:COL: message`` for the first bad line in input order), ``"skip"``, or
    ``"quarantine"``: every bad line is written verbatim, in input order, to
    ``quarantine`` (a local path or fsspec URL that the workers can write) by one task,
    before any partition is returned. ``partitions``: reduce tasks (default: the number
    of blocks, at most ``DEFAULT_PARTITIONS``).

    Unlike the single-machine engine, a key is one stream for the whole input: a key
    reused after its stream finished (not the case for chunk ids) merges into that stream.
    Rows come partition by partition, each partition in order of (file, first line).
    """
    import dask
    import dask.dataframe as dd

    if format not in ("auto", "jsonl", "sse"):
        raise ValueError(f"format must be 'auto', 'jsonl' or 'sse', not {format!r}")
    if errors not in ("raise", "skip", "quarantine"):
        raise ValueError(f"errors must be 'raise', 'skip' or 'quarantine', not {errors!r}")
    if errors == "quarantine" and quarantine is None:
        raise ValueError("errors='quarantine' needs quarantine=PATH, the file for bad lines")
    if blocksize < 1:
        raise ValueError("blocksize must be at least 1")
    import fsspec

    files = _expand(paths)
    delayed = dask.delayed
    jsonl_blocks: list[tuple[str, int, int, int, int | None, str | None]] = []
    sse_files: list[tuple[str, int, str | None]] = []
    for file_no, path in enumerate(files):
        compression = _compression(path)
        kind = format if format != "auto" else _detect(path, compression)
        if kind == "sse":
            sse_files.append((path, file_no, compression))
            continue
        if compression is not None:
            jsonl_blocks.append((path, file_no, 0, 0, None, compression))
            continue
        fs, _, (fs_path,) = fsspec.core.get_fs_token_paths(path)
        size = fs.size(fs_path)
        starts = list(range(0, size, blocksize)) or [0]
        for block_no, start in enumerate(starts):
            end = min(start + blocksize, size)
            jsonl_blocks.append((path, file_no, block_no, start, end, None))

    if partitions is not None and partitions < 1:
        raise ValueError("partitions must be at least 1")
    nbuckets = partitions or max(1, min(len(jsonl_blocks), DEFAULT_PARTITIONS))
    maps = [
        delayed(_map_block, pure=True)(
            path, file_no, block_no, start, end, compression, key, chunk, nbuckets
        )
        for path, file_no, block_no, start, end, compression in jsonl_blocks
    ]
    block_ids = [(file_no, block_no) for _, file_no, block_no, *_ in jsonl_blocks]
    bases = delayed(_bases, pure=True)(block_ids, *[delayed(_lines)(m) for m in maps])
    sse = [
        delayed(_sse_file, pure=True)(path, file_no, compression, key, chunk, errors)
        for path, file_no, compression in sse_files
    ]
    bads = [delayed(_bad)(m) for m in maps] + [delayed(_second)(s) for s in sse]
    checked = delayed(_errors, pure=True)(
        errors, None if quarantine is None else os.fspath(quarantine), files, bases, *bads
    )
    parts = []
    if maps:
        for b in range(nbuckets):
            pieces = [delayed(_take_bucket)(m, b) for m in maps]
            parts.append(delayed(_reduce, pure=True)(files, bases, checked, *pieces))
    parts += [delayed(_after)(delayed(_first)(s), checked) for s in sse]
    meta = _frame({name: [] for name in arrow_schema().names})
    if not parts:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_delayed(parts, meta=meta, verify_meta=False)
