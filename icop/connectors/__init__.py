"""Connectors to external services (LLMs, images, Sheets), each behind a small Protocol.

Every connector takes its endpoint and key from settings, classifies errors as retryable or not
(``errors.ProviderError``), honours ``Retry-After`` and records usage per tenant (``usage``). A
provider without a key falls back to its offline provider (``offline``), whose output says so.
"""
