from app.people.web.admin.routes import bp

__all__ = ["bp"]
