from app.web.compliance.routes import bp

__all__ = ["bp"]
