from app.web.audit.routes import bp

__all__ = ["bp"]
