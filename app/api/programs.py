"""/api/v1/training/programs."""

from __future__ import annotations

OPENAPI_PATHS: dict = {}
OPENAPI_SCHEMAS: dict = {}
