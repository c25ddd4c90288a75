"""Connected platform accounts: tokens go in (encrypted by the vault) and never come out."""
