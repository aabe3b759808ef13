"""The template `vret scenes new` copies."""
