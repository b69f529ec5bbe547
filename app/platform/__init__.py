"""The platform layer: what every domain stands on and that knows no domain."""
