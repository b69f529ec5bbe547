"""Web building blocks every domain shares: htmx, filters, error handlers, form bases."""
