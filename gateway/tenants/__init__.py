"""The caller's tenant and its users (roles admin, editor, viewer)."""
