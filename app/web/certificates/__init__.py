from app.web.certificates.routes import bp

__all__ = ["bp"]
