from app.compliance.web.programs.routes import bp

__all__ = ["bp"]
