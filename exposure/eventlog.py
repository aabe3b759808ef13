"""Event files: a session as JSON lines, opening with its `session_start` (ladder and settings).

The format `vret replay FILE.jsonl` reads and `exposure/examples/` ships: one event a line,
exactly as `model_dump(mode="json")` writes it; blank lines and `#` comments are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from exposure.errors import UserError
from exposure.models import Event, parse_event


def read_events(path: Path) -> list[Event]:
    """Read a JSON-lines event file; a bad line raises UserError naming the file and line."""

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"No file {path}: give an events file (.jsonl) or a session id.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"Cannot read {path}: {err}.") from None
    events: list[Event] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            events.append(parse_event(json.loads(line)))
        except json.JSONDecodeError as err:
            raise UserError(f"{path}:{number} is not JSON ({err.msg}).") from None
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise UserError(
                f"{path}:{number} is not a vret event: {where}: {first['msg']}."
            ) from None
    if not events or events[0].type != "session_start":
        raise UserError(f"{path} must begin with a session_start event (the ladder and settings).")
    return events
