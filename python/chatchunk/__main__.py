"""The ``chatchunk`` command line."""

from __future__ import annotations

import argparse
import gzip
import sys
from collections.abc import Sequence

from chatchunk import __version__
from chatchunk._core import validate_chunks


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def _validate(args: argparse.Namespace) -> int:
    bad = 0
    for path in args.inputs:
        try:
            data = _read(path)
        except OSError as e:
            print(f"chatchunk: error: cannot read {path}: {e.strerror or e}", file=sys.stderr)
            return 2
        for line, column, _offset, json_path, message in validate_chunks(data, format=args.format):
            print(f"{path}:{line}:{column}: {message} (at {json_path})")
            bad += 1
    if bad:
        print(f"{bad} bad chunk{'s' if bad != 1 else ''}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatchunk",
        description="Parse, check and merge streamed chat.completion.chunk data.",
    )
    parser.add_argument("--version", action="version", version=f"chatchunk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    validate = commands.add_parser(
        "validate",
        help="check every chunk in JSONL or SSE files",
        description="Parse every chunk of each file; print FILE:LINE:COL: message for each "
        "bad one and exit 1 if there are any.",
    )
    validate.add_argument("inputs", nargs="+", metavar="INPUT", help="file path, or - for stdin")
    validate.add_argument(
        "--format",
        choices=("auto", "jsonl", "sse"),
        default="auto",
        help="input format (default: detected per file)",
    )
    validate.set_defaults(run=_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
