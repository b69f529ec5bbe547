from app.gxp.web.inspection.routes import bp

__all__ = ["bp"]
