"""Background jobs by domain; each registers with app.platform.jobs."""
