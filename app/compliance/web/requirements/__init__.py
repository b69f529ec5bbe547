from app.compliance.web.requirements.routes import bp

__all__ = ["bp"]
