from app.web.records.routes import bp

__all__ = ["bp"]
