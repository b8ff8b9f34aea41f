"""Logs of chunks: ``merge_log``, ``merge_log_arrow`` and ``log_stats``.

The work happens in the Rust engine (``chatchunk._core.open_log``) on its own threads, with
the GIL released; see the README's "Logs" section for the rules (grouping, when a stream is
emitted, the output order, bad lines).
"""

from __future__ import annotations

import errno
import glob
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Union

from chatchunk._core import LogCompletion, LogIterator, ParseError, open_log

if TYPE_CHECKING:
    import pyarrow

PathArg = Union[str, "os.PathLike[str]"]
Paths = Union[PathArg, Iterable[PathArg]]

# Every ParseError has `.source`: the file, when the log functions raise it.
ParseError.source = None  # type: ignore[attr-defined]

#: Streams per Arrow record batch.
BATCH_STREAMS = 8192


def expand_paths(paths: Paths) -> list[str]:
    """Paths in the order given; ``-`` is stdin; a pattern that names no file is expanded
    (``*``, ``?``, ``[...]``, ``**``), its matches sorted."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for path in paths:
        path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError(f"paths must be str or os.PathLike[str], not {type(path).__name__}")
        if path == "-" or os.path.exists(path) or not glob.has_magic(path):
            out.append(path)
            continue
        matches = sorted(glob.glob(path, recursive=True))
        if not matches:
            raise FileNotFoundError(errno.ENOENT, "no file matches the pattern", path)
        out.extend(matches)
    if not out:
        raise ValueError("no input given")
    return out


def _open(
    paths: Paths,
    *,
    key: str | None,
    chunk: str | None,
    format: str,
    threads: int | None,
    errors: str,
    quarantine: PathArg | None,
) -> LogIterator:
    if errors == "quarantine" and quarantine is None:
        raise ValueError("errors='quarantine' needs quarantine=PATH, the file for bad lines")
    return open_log(
        expand_paths(paths),
        key=key,
        chunk=chunk,
        format=format,
        threads=threads,
        errors=errors,
        quarantine=None if quarantine is None else os.fspath(quarantine),
    )


def merge_log(
    paths: Paths,
    *,
    key: str | None = None,
    chunk: str | None = None,
    format: str = "auto",
    threads: int | None = None,
    errors: str = "raise",
    quarantine: PathArg | None = None,
) -> Iterator[LogCompletion]:
    """Merge every stream of a log of chunks; yields one ``ChatCompletion`` per stream.

    ``paths``: a path, ``-`` (stdin), a glob pattern, or a list of them, read in order;
    gzip and zstd files are decompressed. ``format``: ``"auto"`` (detected per file),
    ``"jsonl"`` or ``"sse"``. ``key``/``chunk``: JSON pointers (``"/request_id"``,
    ``"/response/chunk"``) to the grouping key and to the chunk inside each record; by
    default the record is the chunk and streams are grouped by its ``id``. ``threads``:
    parse threads (default: all cores). ``errors``: ``"raise"`` (a ``ParseError`` saying
    ``FILE:LINE:COL: message`` at the first bad line), ``"skip"`` or ``"quarantine"`` (bad
    lines written verbatim to ``quarantine``).

    Each item is a ``ChatCompletion`` (a ``LogCompletion``) with ``.source`` (the file),
    ``.first_line``, ``.n_chunks``, ``.complete`` and ``.key``. After the last one,
    ``.counts()`` of the returned iterator gives the line counts.
    """
    return _open(
        paths,
        key=key,
        chunk=chunk,
        format=format,
        threads=threads,
        errors=errors,
        quarantine=quarantine,
    )


def log_stats(
    paths: Paths,
    *,
    key: str | None = None,
    chunk: str | None = None,
    format: str = "auto",
    threads: int | None = None,
    errors: str = "raise",
    quarantine: PathArg | None = None,
) -> dict[str, Any]:
    """What a log holds: ``lines``, ``chunks``, ``bad_lines``, ``streams``,
    ``incomplete_streams`` and ``models`` (each model's ``streams``, ``prompt_tokens``,
    ``completion_tokens``, ``total_tokens``, ``cached_tokens``, from each stream's usage
    report). Arguments as for :func:`merge_log`."""
    it = _open(
        paths,
        key=key,
        chunk=chunk,
        format=format,
        threads=threads,
        errors=errors,
        quarantine=quarantine,
    )
    return it.stats()


def arrow_schema() -> pyarrow.Schema:
    """The schema of :func:`merge_log_arrow`'s table."""
    pa = _pyarrow()
    text = pa.string()
    count = pa.int64()
    tool_call = pa.struct(
        [("id", text), ("type", text), ("name", text), ("arguments", text)],
    )
    return pa.schema(
        [
            ("id", text),
            ("choice_index", count),
            ("model", text),
            ("created", count),
            ("system_fingerprint", text),
            ("role", text),
            ("content", text),
            ("reasoning_content", text),
            ("refusal", text),
            ("tool_calls", pa.list_(tool_call)),
            ("finish_reason", text),
            ("stop_reason", text),
            ("prompt_tokens", count),
            ("completion_tokens", count),
            ("total_tokens", count),
            ("cached_tokens", count),
            ("reasoning_tokens", count),
            ("n_chunks", count),
            ("complete", pa.bool_()),
            ("source", text),
            ("first_line", count),
        ]
    )


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("merge_log_arrow needs pyarrow: pip install 'chatchunk[arrow]'") from e
    return pyarrow


def _buffer(pa: Any, owned: Any) -> Any:
    """A pyarrow buffer over bytes the core built, read where they are: ``owned`` (an
    ``ArrowBuffer``) stays alive as long as the buffer does."""
    return pa.foreign_buffer(owned.address, owned.size, base=owned)


def _array(pa: Any, kind: Any, column: tuple) -> Any:
    """An Arrow array over the buffers the core built (see ``src/python/arrow_columns.rs``),
    without copying them."""
    tag, length, nulls, validity, *rest = column
    validity = None if validity is None else _buffer(pa, validity)
    if tag == "list":
        offsets, fields = rest
        item = list(kind.value_type)
        children = [_array(pa, field.type, fields[field.name]) for field in item]
        calls = pa.StructArray.from_arrays(children, fields=item)
        return pa.Array.from_buffers(
            kind, length, [validity, _buffer(pa, offsets)], nulls, children=[calls]
        )
    buffers = [validity, *(_buffer(pa, b) for b in rest)]
    return pa.Array.from_buffers(kind, length, buffers, nulls)


def arrow_batch(columns: dict[str, tuple]) -> Any:
    """The record batch of columns built by the core (``LogIterator.next_columns``,
    ``PartialBlock.split``, ``partial_rows``)."""
    pa = _pyarrow()
    schema = arrow_schema()
    arrays = [_array(pa, field.type, columns[field.name]) for field in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def iter_record_batches(it: LogIterator, batch_streams: int = BATCH_STREAMS) -> Iterator[Any]:
    """Arrow record batches of the streams ``it`` yields, ``batch_streams`` at a time."""
    while True:
        columns = it.next_columns(batch_streams)
        if columns is None:
            return
        yield arrow_batch(columns)


def merge_log_arrow(
    paths: Paths,
    *,
    key: str | None = None,
    chunk: str | None = None,
    format: str = "auto",
    threads: int | None = None,
    errors: str = "raise",
    quarantine: PathArg | None = None,
) -> pyarrow.Table:
    """:func:`merge_log` as a ``pyarrow.Table``: one row per (stream, choice), a stream
    without choices as one row with a null ``choice_index``. ``reasoning_content`` holds
    ``reasoning`` where the server used that name; ``stop_reason`` is text; token counts
    are the stream's usage report (repeated on each choice's row). Needs pyarrow
    (``pip install 'chatchunk[arrow]'``)."""
    pa = _pyarrow()
    it = _open(
        paths,
        key=key,
        chunk=chunk,
        format=format,
        threads=threads,
        errors=errors,
        quarantine=quarantine,
    )
    return pa.Table.from_batches(list(iter_record_batches(it)), schema=arrow_schema())
