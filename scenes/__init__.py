"""Scenes: the authoring API, built-in graded scenes, the Panda3D render process and displays."""
