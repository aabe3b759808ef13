"""The `vret` command: every package's sub-commands under one parser, and one error exit.

Each command module has `register(subparsers)`; a sub-command sets `func` (args -> exit code)
with `parser.set_defaults(func=...)`. Any `exposure.errors.UserError` a command raises becomes
`vret: <sentence>` on stderr and its exit code (2) here, and nowhere else.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence

from exposure import __version__
from exposure.errors import UserError
from scenes import cli as scenes_cli
from sensors import cli as sensors_cli
from vret import (
    clients_cli,
    console_cli,
    measures_cli,
    records_cli,
    replay_cli,
    session_cli,
    station_server,
)

COMMAND_MODULES = (
    replay_cli,
    records_cli,
    clients_cli,
    sensors_cli,
    scenes_cli,
    console_cli,
    session_cli,
    measures_cli,
    station_server,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vret",
        description="vret: virtual-reality exposure therapy with heart-rate guided fear ladders.",
    )
    parser.add_argument("--version", action="version", version=f"vret {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
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
    except UserError as err:
        print(f"vret: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `vret replay ... | head`: the reader left, which is no error
        sys.stderr.close()
        return 0
    finally:
        # Everything a command opened is closed by now (records, render process, sensor). The
        # interpreter's own collections at exit walked every object a session made, several
        # times: 3-7 s between "record saved" and the prompt coming back. Frozen, they are not.
        gc.freeze()
