"""/api/v1/training/records."""

from __future__ import annotations

OPENAPI_PATHS: dict = {}
OPENAPI_SCHEMAS: dict = {}
