"""The `vret` command. Each package adds its own sub-commands through a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from exposure import __version__

# Modules that add sub-commands: each has `register(subparsers) -> None`; a sub-command sets
# `func` (args -> exit code) with `parser.set_defaults(func=...)`.
COMMAND_MODULES = [
    "exposure.replay_cli",
    "exposure.records_cli",
    "sensors.cli",
    "scenes.cli",
    "clinician_console.cli",
    "exposure.session_cli",
]


class CliError(Exception):
    """A problem the person at the keyboard can fix; printed as one sentence, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vret",
        description="vret: virtual-reality exposure therapy with heart-rate guided fear ladders.",
    )
    parser.add_argument("--version", action="version", version=f"vret {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    try:
        return int(func(args) or 0)
    except CliError as err:
        print(f"vret: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `vret replay ... | head`: the reader left, which is no error
        sys.stderr.close()
        return 0
