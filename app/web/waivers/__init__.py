from app.web.waivers.routes import bp

__all__ = ["bp"]
