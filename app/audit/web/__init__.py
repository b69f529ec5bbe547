from app.audit.web.routes import bp

__all__ = ["bp"]
