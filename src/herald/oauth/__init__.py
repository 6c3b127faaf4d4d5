"""Connecting accounts through OAuth 2.0 and keeping their tokens alive, for every platform that
needs a browser to connect (X today; LinkedIn, Meta, Google and TikTok add a provider)."""
