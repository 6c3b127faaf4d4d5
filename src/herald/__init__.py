"""Herald: a self-hosted, Publora-compatible social media scheduler."""
