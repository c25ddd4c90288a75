"""Database access: the connection pool and the one function that opens a tenant-scoped transaction."""

from .tenant import TenantId, create_pool, savepoint, tenant_tx

__all__ = ["TenantId", "create_pool", "savepoint", "tenant_tx"]
