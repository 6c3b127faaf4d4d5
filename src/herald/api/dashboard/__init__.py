"""The dashboard: server-rendered pages under `/` that call the API's own services."""
