"""Social posts: one per article, platform and account, with the platform's post id and status."""
