from app.learning.web.player.routes import bp

__all__ = ["bp"]
