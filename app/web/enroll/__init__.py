from app.web.enroll.routes import bp

__all__ = ["bp"]
