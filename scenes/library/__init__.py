"""The built-in scenes: one folder each, with a `scene.py` (see scenes/api.py)."""
