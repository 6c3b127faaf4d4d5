"""Use cases: combine the store, domain rules, platforms and media. They flush, never commit."""
