"""LinkedIn: member and company-page posts through the versioned REST API (simulator:
herald.sim.linkedin)."""

from herald.platforms.linkedin.connector import LinkedInConnector

__all__ = ["LinkedInConnector"]
