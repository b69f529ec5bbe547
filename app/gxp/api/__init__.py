"""GxP endpoints of the JSON API."""
