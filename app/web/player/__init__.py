from app.web.player.routes import bp

__all__ = ["bp"]
