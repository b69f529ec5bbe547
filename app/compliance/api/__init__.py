"""Compliance endpoints of the JSON API."""
