from app.gxp.web.records.routes import bp

__all__ = ["bp"]
