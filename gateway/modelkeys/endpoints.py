from __future__ import annotations

from fastapi import APIRouter, Response

from ..context import AdminTx, ViewerTx
from ..problems import errors
from . import service
from .schemas import ModelKeyOut, ModelKeyPut, ModelKeyResume, Provider

router = APIRouter(prefix="/v1/model-keys", tags=["model keys"], responses=errors(401, 403, 422, 429))


@router.get(
    "",
    response_model=list[ModelKeyOut],
    summary="List the tenant's own model keys, one per provider (masked; with why one is paused)",
    description="A pipeline writes with these where its `model_keys` says `tenant` for a provider; elsewhere "
    "with the platform's keys.",
)
async def list_model_keys(tx: ViewerTx) -> list[ModelKeyOut]:
    return await service.list_keys(tx)


@router.get("/{provider}", response_model=ModelKeyOut, summary="Get one provider's key (masked)")
async def get_model_key(provider: Provider, tx: ViewerTx) -> ModelKeyOut:
    return await service.get_key(tx, provider)


@router.put(
    "/{provider}",
    response_model=ModelKeyOut,
    status_code=201,
    responses={
        200: {"description": "The provider's key was replaced (and any pause lifted)", "model": ModelKeyOut},
        **errors(502),
    },
    summary="Set or replace the tenant's key of a provider; the key is never returned",
    description="With `verify` (the default) the key is checked first with one chat call of one output "
    "token to the model the writer uses. 422 `model_key.refused`: the vendor refused the key; 422 "
    "`model_key.no_quota`: its account is out of quota or credits; 502 `model_key.unchecked`: the vendor "
    "could not be reached (try again, or send `verify: false`). Nothing is stored then. Replacing a key "
    "lifts its pause.",
)
async def put_model_key(
    provider: Provider, body: ModelKeyPut, tx: AdminTx, response: Response
) -> ModelKeyOut:
    out, created = await service.set_key(tx, provider, body)
    response.status_code = 201 if created else 200
    return out


@router.delete(
    "/{provider}",
    status_code=204,
    responses=errors(404),
    summary="Delete the tenant's key of a provider",
    description="Pipelines that choose this tenant's key for the provider then skip its writer (with the "
    "reason on each article) until a key is set or they switch to the platform's key.",
)
async def delete_model_key(provider: Provider, tx: AdminTx) -> Response:
    await service.delete_key(tx, provider)
    return Response(status_code=204)


@router.post(
    "/{provider}/resume",
    response_model=ModelKeyOut,
    responses=errors(404, 502),
    summary="Resume a provider paused because its vendor refused the tenant's key",
    description="After fixing the key or its billing at the vendor. With `verify` (the default) the key is "
    "checked first and stays paused when the vendor still refuses it (422, as for PUT). A key that is not "
    "paused is answered as it is.",
)
async def resume_model_key(
    provider: Provider, tx: AdminTx, body: ModelKeyResume | None = None
) -> ModelKeyOut:
    return await service.resume(tx, provider, body or ModelKeyResume())
