from app.compliance.web.waivers.routes import bp

__all__ = ["bp"]
