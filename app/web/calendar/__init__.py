from app.web.calendar.routes import bp

__all__ = ["bp"]
