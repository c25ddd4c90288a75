-- Acting before publishing: an editor changes an article that awaits approval (its title, summary and
-- text, or another writer's draft), and each post can carry a publish time.

-- A person's version of the article, kept beside the graph's (graph_state is what the graph made and
-- stays so): the text under the title as edited, the writer whose draft was chosen instead of the
-- Editor's choice (NULL: the Editor's), and when the article was last edited.
ALTER TABLE generated_articles
  ADD COLUMN edited_body text,
  ADD COLUMN draft_writer text CHECK (draft_writer IN ('gpt', 'claude', 'gemini')),
  ADD COLUMN edited_at timestamptz;

-- 'scheduled': a post that waits for its publish time (not_before); the article's workflow publishes it
-- then, and the API may move that time until it is published.
ALTER TABLE posts DROP CONSTRAINT posts_status_check;
ALTER TABLE posts ADD CONSTRAINT posts_status_check
  CHECK (status IN ('pending', 'publishing', 'published', 'failed', 'waiting_quota', 'needs_reauth',
                    'dry_run', 'unknown', 'scheduled'));
