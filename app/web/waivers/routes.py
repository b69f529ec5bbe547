"""Waivers pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("waivers", __name__)
