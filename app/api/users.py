"""API area: users. OPENAPI_PATHS and OPENAPI_SCHEMAS feed app/api/openapi.py."""

OPENAPI_PATHS: dict = {}
OPENAPI_SCHEMAS: dict = {}
