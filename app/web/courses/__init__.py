from app.web.courses.routes import bp

__all__ = ["bp"]
