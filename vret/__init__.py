"""The composition root: the `vret` command, the station that assembles one session, the
simulated client, the records store, export and reports. The only package that imports several
of `exposure`, `sensors`, `scenes` and `clinician_console` (see docs/architecture.md)."""
