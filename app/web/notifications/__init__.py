from app.web.notifications.routes import bp

__all__ = ["bp"]
