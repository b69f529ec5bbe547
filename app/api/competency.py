"""/api/v1/training/competency."""

from __future__ import annotations

OPENAPI_PATHS: dict = {}
OPENAPI_SCHEMAS: dict = {}
