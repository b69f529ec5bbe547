"""Classroom pages."""
