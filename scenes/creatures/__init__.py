"""Procedural creatures for scenes: spiders and people, built once, posed each frame."""
