"""GxP pages."""
