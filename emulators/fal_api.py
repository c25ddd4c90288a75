"""The fal.ai queue protocol for ``fal-ai/flux/*`` (served over TLS: fal-client only speaks https).

POST {queue}/fal-ai/flux/<variant>              -> {request_id, status_url, response_url, cancel_url}
GET  {queue}/fal-ai/flux/requests/<id>/status   -> IN_QUEUE (queue_position) | IN_PROGRESS | COMPLETED
GET  {queue}/fal-ai/flux/requests/<id>          -> {images: [{url, width, height, content_type}], seed, ...}
PUT  {queue}/fal-ai/flux/requests/<id>/cancel   -> 202 CANCELLATION_REQUESTED | 400 ALREADY_COMPLETED
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .core import Context, EmulatorError, fal_key
from .reqlog import Entry
from .synthesis import picture

IMAGE_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
VARIANTS = ("schnell", "dev", "pro", "pro/v1.1", "pro/v1.1-ultra", "krea")


@dataclass
class Job:
    id: str
    app: str
    args: dict[str, Any]
    submitted: float
    queue_s: float
    run_s: float
    cancelled: bool = False
    result: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def status(self) -> str:
        if self.cancelled:
            return "COMPLETED"
        age = time.monotonic() - self.submitted
        if age < self.queue_s:
            return "IN_QUEUE"
        if age < self.queue_s + self.run_s:
            return "IN_PROGRESS"
        return "COMPLETED"


def _jobs(ctx: Context) -> dict[str, Job]:
    return ctx.state.setdefault("fal_jobs", {})


def _size(args: dict[str, Any]) -> tuple[int, int]:
    size = args.get("image_size", "landscape_4_3")
    if isinstance(size, dict):
        w, h = int(size.get("width", 0)), int(size.get("height", 0))
        if not (64 <= w <= 14142 and 64 <= h <= 14142):
            raise EmulatorError(422, "image_size width and height must be between 64 and 14142")
        return w, h
    if size not in IMAGE_SIZES:
        raise EmulatorError(422, f"image_size must be one of {list(IMAGE_SIZES)} or {{width, height}}")
    return IMAGE_SIZES[size]


def _base(request: web.Request, job: Job) -> str:
    owner, alias = job.app.split("/")[:2]
    return f"{request.scheme}://{request.host}/{owner}/{alias}/requests/{job.id}"


def submit_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        variant = request.match_info["variant"]
        if variant not in VARIANTS:
            raise EmulatorError(404, f"Application 'flux/{variant}' not found")
        args = body if isinstance(body, dict) else {}
        if not args.get("prompt"):
            raise EmulatorError(422, "field required: prompt", "validation_error")
        _size(args)
        n = int(args.get("num_images", 1))
        if not 1 <= n <= 4:
            raise EmulatorError(422, "num_images must be between 1 and 4", "validation_error")
        if args.get("output_format", "jpeg") not in ("jpeg", "png"):
            raise EmulatorError(422, "output_format must be 'jpeg' or 'png'", "validation_error")
        knobs = ctx.faults["fal"].knobs
        job = Job(
            str(uuid.uuid4()),
            f"fal-ai/flux/{variant}",
            args,
            time.monotonic(),
            knobs.job_queue_ms / 1000,
            knobs.job_run_ms / 1000,
        )
        _jobs(ctx)[job.id] = job
        base = _base(request, job)
        entry.meta.update(request_id=job.id, app=job.app)
        return web.json_response(
            {
                "request_id": job.id,
                "response_url": base,
                "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel",
                "queue_position": 0,
            },
            headers={"x-fal-request-id": job.id},
        )

    return handle


def _job(ctx: Context, request: web.Request) -> Job:
    job = _jobs(ctx).get(request.match_info["rid"])
    if job is None:
        raise EmulatorError(404, "Request not found")
    return job


async def _result(ctx: Context, request: web.Request, job: Job) -> dict[str, Any]:
    if job.result is not None:
        return job.result
    args = job.args
    w, h = _size(args)
    fmt = args.get("output_format", "jpeg")
    seed = int(args.get("seed", int(uuid.UUID(job.id)) % 2**31))
    images = []
    for i in range(int(args.get("num_images", 1))):
        data = await asyncio.to_thread(
            picture, str(args["prompt"]), w, h, "PNG" if fmt == "png" else "JPEG", seed + i
        )
        ctype = f"image/{fmt}"
        if args.get("sync_mode"):
            url = f"data:{ctype};base64,{base64.b64encode(data).decode()}"
        else:
            url = f"{request.scheme}://{request.host}/files/{ctx.files.put(data, ctype, fmt)}"
        images.append({"url": url, "width": w, "height": h, "content_type": ctype})
    job.result = {
        "images": images,
        "timings": {"inference": job.run_s},
        "seed": seed,
        "has_nsfw_concepts": [False] * len(images),
        "prompt": args["prompt"],
        "offline": True,
    }
    return job.result


def status_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        job = _job(ctx, request)
        status = job.status()
        with_logs = request.query.get("logs") in ("1", "true", "True")
        out: dict[str, Any] = {"status": status, "request_id": job.id, "response_url": _base(request, job)}
        logs = (
            [
                {
                    "message": "offline emulator: procedural image",
                    "level": "INFO",
                    "source": "user",
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
                }
            ]
            if with_logs
            else []
        )
        if status == "IN_QUEUE":
            out["queue_position"] = 0
        elif status == "IN_PROGRESS":
            out["logs"] = logs
        else:
            out["logs"] = logs
            out["metrics"] = {"inference_time": job.run_s}
            if job.cancelled:
                out["error"], out["error_type"] = "Request was cancelled", "request_cancelled"
        entry.meta["status"] = status
        return web.json_response(out, status=202 if status != "COMPLETED" else 200)

    return handle


def response_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        job = _job(ctx, request)
        if job.cancelled:
            raise EmulatorError(400, "Request was cancelled", "request_cancelled")
        if job.status() != "COMPLETED":
            raise EmulatorError(400, "Request is still in progress")
        return web.json_response(await _result(ctx, request, job), headers={"x-fal-request-id": job.id})

    return handle


def cancel_handler(ctx: Context):
    async def handle(request: web.Request, body: Any, entry: Entry) -> web.StreamResponse:
        job = _job(ctx, request)
        if job.status() == "COMPLETED":
            return web.json_response({"status": "ALREADY_COMPLETED"}, status=400)
        job.cancelled = True
        return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)

    return handle


def add_routes(app: web.Application, ctx: Context) -> None:
    g = ctx.guard
    app.router.add_get("/fal-ai/flux/requests/{rid}/status", g("fal", fal_key, status_handler(ctx)))
    app.router.add_put("/fal-ai/flux/requests/{rid}/cancel", g("fal", fal_key, cancel_handler(ctx)))
    app.router.add_get("/fal-ai/flux/requests/{rid}", g("fal", fal_key, response_handler(ctx)))
    app.router.add_post("/fal-ai/flux/{variant:.+}", g("fal", fal_key, submit_handler(ctx)))
