from app.learning.web.enroll.routes import bp

__all__ = ["bp"]
