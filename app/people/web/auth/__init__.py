from app.people.web.auth.routes import bp

__all__ = ["bp"]
