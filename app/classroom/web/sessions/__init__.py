from app.classroom.web.sessions.routes import bp

__all__ = ["bp"]
