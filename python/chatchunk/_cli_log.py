"""``chatchunk merge`` and ``chatchunk stats``: the log engine on the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from typing import Any, Callable

from chatchunk._core import LogIterator, ParseError, open_log
from chatchunk._log import expand_paths, iter_record_batches

INPUT_HELP = "JSONL or SSE log (.gz and .zst too), a glob pattern, or - for stdin; read in order"


def _pointer(text: str) -> str:
    if text and not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON pointer (like /response/chunk)")
    return text


def _threads(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"invalid thread count {text!r}: must be at least 1")
    return n


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help=INPUT_HELP)
    parser.add_argument(
        "--format",
        choices=("auto", "jsonl", "sse"),
        default="auto",
        help="input format (default: detected per file)",
    )
    parser.add_argument(
        "--key",
        type=_pointer,
        metavar="PTR",
        help="JSON pointer to each record's grouping key, e.g. /request_id (default: the chunk's id)",
    )
    parser.add_argument(
        "--chunk",
        type=_pointer,
        metavar="PTR",
        help="JSON pointer to the chunk inside each record, e.g. /response/chunk "
        "(default: the record is the chunk)",
    )
    parser.add_argument(
        "--threads",
        type=_threads,
        metavar="N",
        help="parse threads (default: all cores)",
    )
    parser.add_argument(
        "--errors",
        choices=("raise", "skip", "quarantine"),
        default="raise",
        help="on a bad line: stop with FILE:LINE:COL: message and exit 1 (raise, the "
        "default), count it (skip), or write it verbatim to the quarantine file (quarantine)",
    )
    parser.add_argument(
        "--quarantine",
        metavar="FILE",
        help="where --errors quarantine writes bad lines (default: OUT.bad, or chatchunk.bad)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )


class ProgressBar:
    """``[#####.....]  42%  310 MB/s  12,345 streams  ETA 0:07`` on stderr, redrawn in place."""

    def __init__(self, total: int | None) -> None:
        self.total = total or None
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, streams: int, _lines: int) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = done / elapsed
        parts = []
        if self.total:
            frac = min(done / self.total, 1.0)
            bar = "#" * int(frac * 24)
            parts.append(f"[{bar:.<24}] {frac:4.0%}")
        parts.append(f"{done / 1e6:,.0f} MB  {rate / 1e6:,.0f} MB/s  {streams:,} streams")
        if self.total and rate > 0:
            left = max(self.total - done, 0) / rate
            parts.append(f"ETA {int(left // 60)}:{int(left % 60):02d}")
        sys.stderr.write("\r" + "  ".join(parts) + "\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _progress(args: argparse.Namespace, inputs: list[str]) -> ProgressBar | None:
    wanted = args.progress if args.progress is not None else sys.stderr.isatty()
    if not wanted:
        return None
    total = 0
    for path in inputs:
        if path == "-":
            return ProgressBar(None)
        with contextlib.suppress(OSError):
            total += os.path.getsize(path)
    return ProgressBar(total)


def _open(
    args: argparse.Namespace, quarantine: str | None, serialize: bool
) -> tuple[LogIterator, list[str]]:
    inputs = expand_paths(args.inputs)
    it = open_log(
        inputs,
        serialize=serialize,
        key=args.key,
        chunk=args.chunk,
        format=args.format,
        threads=args.threads,
        errors=args.errors,
        quarantine=quarantine,
    )
    return it, inputs


def _quarantine_path(args: argparse.Namespace, output: str | None) -> str | None:
    if args.errors != "quarantine":
        return None
    if args.quarantine:
        return args.quarantine
    if output and output != "-":
        return output + ".bad"
    return "chatchunk.bad"


def _report_bad(args: argparse.Namespace, it: LogIterator, quarantine: str | None) -> None:
    counts = it.counts() or {}
    bad = counts.get("bad_lines", 0)
    if not bad:
        return
    lines = f"{bad:,} bad line{'s' if bad != 1 else ''}"
    if args.errors == "quarantine":
        print(f"chatchunk: {lines} written to {quarantine}", file=sys.stderr)
    else:
        print(f"chatchunk: {lines} skipped", file=sys.stderr)


def _run(
    args: argparse.Namespace, output: str | None, work: Callable[[LogIterator, Any], None]
) -> int:
    """Opens the log, runs ``work(it, progress)``, maps failures to exit codes."""
    quarantine = _quarantine_path(args, output)
    bar = None
    try:
        # JSON lines are written on the merging threads.
        serialize = args.command == "merge" and not (output or "").endswith(".parquet")
        it, inputs = _open(args, quarantine, serialize)
        bar = _progress(args, inputs)
        work(it, bar)
    except ParseError as e:
        if bar:
            bar.close()
        print(str(e), file=sys.stderr)
        return 1
    except OSError as e:
        if bar:
            bar.close()
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"chatchunk: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except (ValueError, ImportError) as e:
        if bar:
            bar.close()
        print(f"chatchunk: error: {e}", file=sys.stderr)
        return 2
    if bar:
        bar.close()
    _report_bad(args, it, quarantine)
    return 0


def _temp_name(path: str) -> str:
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.{os.getpid()}.tmp")


def merge_command(args: argparse.Namespace) -> int:
    output = args.output

    def work(it: LogIterator, bar: ProgressBar | None) -> None:
        if output is None or output == "-":
            sys.stdout.flush()
            it.write_jsonl("-", bar)
            return
        temp = _temp_name(output)
        try:
            if output.endswith(".parquet"):
                _write_parquet(it, temp, bar)
            else:
                it.write_jsonl(temp, bar)
            os.replace(temp, output)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise

    return _run(args, output, work)


def _write_parquet(it: LogIterator, path: str, bar: ProgressBar | None) -> None:
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ImportError("Parquet output needs pyarrow: pip install 'chatchunk[arrow]'") from e
    from chatchunk._log import arrow_schema

    with pq.ParquetWriter(path, arrow_schema(), compression="zstd") as writer:
        for batch in iter_record_batches(it):
            writer.write_batch(batch)
            if bar:
                bar(*it.progress())
    if bar:
        bar(*it.progress())


def stats_command(args: argparse.Namespace) -> int:
    result: dict[str, Any] = {}

    def work(it: LogIterator, bar: ProgressBar | None) -> None:
        result.update(it.stats(bar))

    status = _run(args, None, work)
    if status:
        return status
    try:
        print(json.dumps(result, indent=2) if args.json else format_stats(result), flush=True)
    except BrokenPipeError:  # `chatchunk stats ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def format_stats(stats: dict[str, Any]) -> str:
    """The readable table of ``chatchunk stats``."""
    lines = [
        f"{'lines':<20}{stats['lines']:>14,}",
        f"{'chunks':<20}{stats['chunks']:>14,}",
        f"{'bad lines':<20}{stats['bad_lines']:>14,}",
        f"{'streams':<20}{stats['streams']:>14,}",
        f"{'incomplete streams':<20}{stats['incomplete_streams']:>14,}",
    ]
    models = stats["models"]
    if models:
        width = max(len("model"), *(len(m) for m in models))
        columns = ("streams", "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens")
        widths = [max(len(c), 12) for c in columns]
        header = f"{'model':<{width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths))
        lines += ["", header, "-" * len(header)]
        for name, m in models.items():
            lines.append(
                f"{name:<{width}}  " + "  ".join(f"{m[c]:>{w},}" for c, w in zip(columns, widths))
            )
    return "\n".join(lines)


def validate_command(args: argparse.Namespace) -> int:
    """``chatchunk validate``: every bad chunk as ``FILE:LINE:COL: message``, exit 1 if any."""
    try:
        inputs = expand_paths(args.inputs)
        problems = open_log(inputs, format=args.format, errors="report").problems()
    except OSError as e:
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"chatchunk: error: cannot read {where}{e.strerror or e}", file=sys.stderr)
        return 2
    for source, line, column, message in problems:
        print(f"{source}:{line}:{column}: {message}")
    if problems:
        n = len(problems)
        print(f"{n} bad chunk{'s' if n != 1 else ''}", file=sys.stderr)
        return 1
    return 0


def add_commands(commands: Any) -> None:
    merge = commands.add_parser(
        "merge",
        help="merge every stream of chunk logs into completions",
        description="Merge the streams of JSONL or SSE chunk logs (many interleaved streams, "
        "grouped by chunk id or --key) on all cores, in bounded memory. Writes one "
        "ChatCompletion JSON per line, or a Parquet table (one row per stream and choice) "
        "when OUT ends in .parquet. Output files are written to a temporary name and "
        "renamed at the end. Streams come out in the order they complete, then those still "
        "open at the end of the input (complete = false) in the order they started.",
    )
    add_input_options(merge)
    merge.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file: JSONL, or Parquet if it ends in .parquet (default: stdout)",
    )
    merge.set_defaults(run=merge_command)

    stats = commands.add_parser(
        "stats",
        help="count lines, chunks, streams and tokens per model in chunk logs",
        description="Read chunk logs with the merge engine and print what they hold: "
        "lines, chunks, bad lines, streams, incomplete streams, and per model the "
        "streams and tokens of their usage reports.",
    )
    add_input_options(stats)
    stats.add_argument(
        "--json",
        action="store_true",
        help="print JSON: lines, chunks, bad_lines, streams, incomplete_streams, models",
    )
    stats.set_defaults(run=stats_command)
