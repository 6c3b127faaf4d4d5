"""Instagram professional accounts through the Instagram Platform's content publishing API."""
