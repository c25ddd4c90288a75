"""Generated articles: list with filters and pagination, get with Markdown and image URLs."""
