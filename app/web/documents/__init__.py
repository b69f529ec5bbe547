from app.web.documents.routes import bp

__all__ = ["bp"]
