"""The ``chatchunk`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chatchunk import __version__
from chatchunk._cli_log import add_commands as add_log_commands
from chatchunk._cli_log import validate_command


def _validate(args: argparse.Namespace) -> int:
    return validate_command(args)


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
    add_log_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
