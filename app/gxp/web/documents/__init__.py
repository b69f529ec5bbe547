from app.gxp.web.documents.routes import bp

__all__ = ["bp"]
