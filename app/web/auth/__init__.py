from app.web.auth.routes import bp

__all__ = ["bp"]
