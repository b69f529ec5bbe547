from app.web.inspection.routes import bp

__all__ = ["bp"]
