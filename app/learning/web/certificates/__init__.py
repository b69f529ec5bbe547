from app.learning.web.certificates.routes import bp

__all__ = ["bp"]
