from app.learning.web.courses.routes import bp

__all__ = ["bp"]
