"""Research for articles: web and Korean search providers, an SSRF-safe page fetcher with a per-tenant
cache, main-text extraction, near-duplicate removal, and the numbered source list writers cite."""
