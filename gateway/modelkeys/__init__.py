"""Each tenant's own model keys per provider: set (checked with one call first, unless told not to),
listed masked, deleted, and resumed after the vendor refused them."""
