-- Text or images made by an offline provider (placeholder drafts, procedural pictures: development without a
-- provider key) mark their article. Such an article can never be published for real: the publisher
-- (icop/social/publisher.py) refuses it with a recorded reason; a dry run still shows the rendered post.
-- generated_articles keeps its row-level security; the new column needs no policy of its own.
ALTER TABLE generated_articles ADD COLUMN offline_content boolean NOT NULL DEFAULT false;
