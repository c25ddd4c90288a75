"""Generated articles: storing the final Markdown beside the images and recording where it is."""
