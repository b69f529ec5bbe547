from app.compliance.web.compliance.routes import bp

__all__ = ["bp"]
