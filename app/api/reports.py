"""/api/v1/training/reports."""

from __future__ import annotations

OPENAPI_PATHS: dict = {}
OPENAPI_SCHEMAS: dict = {}
