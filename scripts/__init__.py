"""Developer tools: the local distributed stack and the nginx config renderer."""
