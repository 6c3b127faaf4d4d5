"""Platform connectors: one package per platform behind the Connector protocol of base.py."""
