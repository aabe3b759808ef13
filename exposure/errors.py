"""The one base class of errors a person reads: one plain sentence that says the fix.

Every package's user-facing errors derive from `UserError`; `vret.cli` turns any of them into
`vret: <sentence>` on stderr and exit code 2, in one place, so no command converts by hand.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the person at the keyboard (or the console) can fix; the message says how."""

    exit_code = 2
