"""vret's therapy core (pure), session runtime, records, reports and the `vret` command."""

__version__ = "0.1.0"
