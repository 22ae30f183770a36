"""Argument parsing shared by every subcommand: one-line errors, argument types in plain words."""

from __future__ import annotations

import argparse
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        # argparse says "argument --year: …"; the option name alone reads better.
        message = message.removeprefix("argument ")
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def year_range(text: str) -> int | tuple[int, int]:
    """``--year`` values: "2023" → 2023, "2020-2024" → (2020, 2024)."""
    from assistant.search.retriever import parse_year

    try:
        return parse_year(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` on a subcommand, so it may come after the subcommand's name too.

    The default is SUPPRESS so that a ``--config`` given before the subcommand is kept.
    """
    parser.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="TOML settings file (default: ./assistant.toml if present)",
    )
