"""Each tenant's own Google identity for its sheets: the OAuth connect flow (:mod:`.oauth`) and the
tenant's credentials, refreshed and checked for revocation, behind the Sheets client (:mod:`.access`)."""
