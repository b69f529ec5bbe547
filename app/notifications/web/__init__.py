from app.notifications.web.routes import bp

__all__ = ["bp"]
