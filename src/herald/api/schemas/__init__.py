"""Wire shapes (camelCase) and the parsing of request bodies into service commands."""
