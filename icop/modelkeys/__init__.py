"""Each tenant's own model keys (bring your own key): stored by the vault, chosen per pipeline and
provider, handed to the writer that uses them, and paused for that tenant and provider when the vendor
refuses them — never replaced by the platform's key.

- :mod:`.secret`: ``ModelKey``, the key in memory (masked wherever it could be shown).
- :mod:`.rules`: which failures pause a key, and the reasons a user can act on.
- :mod:`.repository`: every SQL statement; :mod:`.service`: storing, resolving, pausing.
- :mod:`.clients`: a writer's SDK client per tenant key, kept briefly.
- :mod:`.verify`: the one cheap call that checks a key before it is stored.
"""
