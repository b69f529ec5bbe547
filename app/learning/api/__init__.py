"""Learning endpoints of the JSON API."""
