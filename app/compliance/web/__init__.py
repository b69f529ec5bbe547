"""Compliance pages."""
