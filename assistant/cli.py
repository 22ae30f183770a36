"""The ``assistant`` command line: one subcommand per module in ``assistant.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from assistant.commands.arguments import Parser, add_config_option
from assistant.quiet import silence_third_party_warnings

# Each module defines ``register(subparsers)`` which adds its parser and sets ``func``.
COMMANDS = ("chunks", "index", "search", "ask", "serve", "eval")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="assistant",
        description=(
            "Policy Assistant (政策助手): search and cited answers over Chinese "
            "education-policy documents."
        ),
        epilog="Run 'assistant COMMAND --help' for the options of one command.",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="TOML settings file (default: ./assistant.toml if present)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")  # subparsers are Parsers too
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"assistant.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"assistant.commands.{name}":
                raise
            continue
        module.register(sub)
        add_config_option(sub.choices[name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    silence_third_party_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly, as Unix tools do.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
