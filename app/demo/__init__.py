"""Demo and scale data: `flask seed-demo` (a living organisation for a first look) and
`flask seed-scale` (thousands of people for the benchmarks). Above every domain: it seeds them
all."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the seed commands."""
    from app.demo import scale, seed

    seed.register(app)
    scale.register(app)
