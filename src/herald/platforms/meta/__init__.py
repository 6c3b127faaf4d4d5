"""What Facebook Pages, Instagram and Threads share: the Graph API client, its error answers
and the container model (create, wait until ready, publish once)."""
