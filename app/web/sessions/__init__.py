from app.web.sessions.routes import bp

__all__ = ["bp"]
