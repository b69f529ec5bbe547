"""The Flask extensions, created unbound; create_app() binds them. `db` is the platform's."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from app.platform.db import db

__all__ = ["csrf", "db", "login_manager", "migrate"]

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
