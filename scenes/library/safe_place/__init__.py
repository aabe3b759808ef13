"""Built-in scene; see scene.py."""
