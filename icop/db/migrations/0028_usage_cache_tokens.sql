-- Prompt caching: of a call's prompt_tokens (all of its input tokens), those the vendor read from its prompt
-- cache and those it wrote to it. Vendors bill the three parts at different prices (icop.costs.Price), so a
-- cost needs them apart; usage recorded before this migration has neither (0: all input uncached).
ALTER TABLE usage_records
  ADD COLUMN cache_read_tokens integer NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
  ADD COLUMN cache_write_tokens integer NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0),
  ADD CONSTRAINT usage_records_cache_within_prompt
    CHECK (cache_read_tokens + cache_write_tokens <= prompt_tokens);
