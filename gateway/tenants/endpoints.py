from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from ..context import AdminTx, ViewerTx
from ..problems import errors
from . import service
from .schemas import TenantOut, TenantUpdate, UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/v1", tags=["tenant and users"], responses=errors(401, 403, 422, 429))


@router.get("/tenant", response_model=TenantOut, summary="The caller's tenant")
async def get_tenant(tx: ViewerTx) -> TenantOut:
    return await service.get_tenant(tx)


@router.patch("/tenant", response_model=TenantOut, summary="Rename the tenant or change its time zone")
async def update_tenant(body: TenantUpdate, tx: AdminTx) -> TenantOut:
    return await service.update_tenant(tx, body)


@router.get("/users", response_model=list[UserOut], summary="List the tenant's users")
async def list_users(tx: AdminTx) -> list[UserOut]:
    return await service.list_users(tx)


@router.post("/users", status_code=201, response_model=UserOut, responses=errors(409), summary="Add a user")
async def create_user(body: UserCreate, tx: AdminTx) -> UserOut:
    return await service.create_user(tx, body)


@router.get("/users/{user_id}", response_model=UserOut, responses=errors(404), summary="Get a user")
async def get_user(user_id: UUID, tx: AdminTx) -> UserOut:
    return await service.get_user(tx, user_id)


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    responses=errors(404, 409),
    summary="Change a user's role or name, or disable them",
)
async def update_user(user_id: UUID, body: UserUpdate, tx: AdminTx) -> UserOut:
    return await service.update_user(tx, user_id, body)
