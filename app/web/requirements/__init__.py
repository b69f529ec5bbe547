from app.web.requirements.routes import bp

__all__ = ["bp"]
