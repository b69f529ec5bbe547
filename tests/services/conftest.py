import pytest


@pytest.fixture(autouse=True)
def _in_app(app):
    """Service tests run inside the app (and its clean database)."""
    yield
