from app.classroom.web.calendar.routes import bp

__all__ = ["bp"]
