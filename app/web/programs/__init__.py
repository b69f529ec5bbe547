from app.web.programs.routes import bp

__all__ = ["bp"]
