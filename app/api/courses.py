"""Courses API (seed 1 paths)."""
