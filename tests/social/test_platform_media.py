"""The emulated platforms fetch media like the real ones, from presigned URLs of the session stack's S3
server (SeaweedFS): Instagram, Threads and Facebook photo posts download ``image_url`` themselves, X takes
the bytes through its media endpoint; each keeps its posts (media hashes included) with a permalink page,
and the publisher records the platform's id and permalink."""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import uuid

import asyncpg
import httpx
import pytest
from PIL import Image
from temporalio.testing import ActivityEnvironment

from cluster.ports import free_port
from icop.settings import Settings
from icop.social.clients import build_clients
from icop.social.publisher import Publisher
from icop.social.tokens import VaultTokenStore
from icop.storage import S3Store, make_store, put_article_markdown, put_image
from workflows.activities.publish import PublishActivities
from workflows.types import PublishInput

from .conftest import Emu, connect_account, make_articles
from .test_publish import ACCOUNTS, post_row, target


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1080, 1080), colour).save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.fixture
def store(settings: Settings) -> S3Store:
    """The stack's object store, as the worker builds it: SeaweedFS, presigned GET URLs."""
    s = make_store(settings)
    assert isinstance(s, S3Store) and s.presign
    return s


@pytest.mark.parametrize("case", ["facebook-photo", "instagram", "threads", "x"])
async def test_media_from_a_presigned_url_reaches_the_platform_and_the_post_has_a_permalink(
    case: str,
    publisher: Publisher,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    app_pool: asyncpg.Pool,
    store: S3Store,
) -> None:
    platform = case.split("-")[0]
    jpeg = _jpeg((30, 90, 150))
    obj = put_image(store, tenant, jpeg)
    assert "X-Amz-Signature" in obj.url
    await connect_account(emu, token_store, tenant, platform, ACCOUNTS[platform])
    [aid] = await make_articles(app_pool, tenant)
    out = await publisher.publish(target(tenant, aid, platform, (obj.url,)))
    assert out.status == "published", out.reason

    [post] = await emu.posts(platform, ACCOUNTS[platform])
    assert post["id"] == out.platform_post_id
    assert post["media_sha256"] == [hashlib.sha256(jpeg).hexdigest()]  # the very bytes we stored
    assert post["created_at"] > 0 and post["account_id"] == ACCOUNTS[platform]
    fetched = [f for f in (await emu.requests())["fetches"] if f["url"] == obj.url]
    if platform == "x":
        assert fetched == [] and post["media_urls"][0].startswith("x-media:")  # uploaded, not fetched
    else:
        assert [f["status"] for f in fetched] == [200]

    row = await post_row(app_pool, tenant, out.post_id)
    assert row["platform_post_id"] == out.platform_post_id
    assert row["permalink"] == post["permalink"] == f"{emu.base}/web/{platform}/{post['id']}"
    page = await emu.http.get(row["permalink"])
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert html.escape(post["text"]) in page.text
    assert hashlib.sha256(jpeg).hexdigest() in page.text
    one = (await emu.http.get(f"/_admin/posts/{post['id']}")).json()
    assert one == post


async def test_unreachable_expired_or_wrong_media_fails_like_the_platform(
    settings: Settings, emu: Emu, tenant: uuid.UUID, store: S3Store
) -> None:
    """What the platforms answer when they cannot fetch ``image_url``: unreachable, an expired
    presigned URL (the S3 server's 403), or (Instagram) not a JPEG."""
    accounts = {p: ACCOUNTS[p] for p in ("facebook", "instagram", "threads")}
    tokens = {p: (await emu.token(p, a))["token"] for p, a in accounts.items()}
    brief = S3Store(
        store.bucket, endpoint_url=store.endpoint_url, access_key_id=_key(settings),
        secret_access_key=_secret(settings), presign=True, presign_ttl=1,
    )  # fmt: skip
    expired = put_image(brief, tenant, _jpeg((1, 2, 3))).url
    png = io.BytesIO()
    Image.new("RGB", (600, 600), (9, 9, 9)).save(png, "PNG")
    not_jpeg = store.put(f"tenants/{tenant}/sources/{'a' * 64}.png", png.getvalue(), "image/png").url
    unreachable = f"http://127.0.0.1:{free_port()}/nothing.jpg"  # nobody listens there
    await asyncio.sleep(2.1)
    assert (await emu.http.get(expired)).status_code == 403

    async def create(platform: str, url: str) -> httpx.Response:
        acct, tok = accounts[platform], tokens[platform]
        if platform == "facebook":
            return await emu.http.post(f"/v21.0/{acct}/photos", data={"url": url, "access_token": tok})
        if platform == "instagram":
            return await emu.http.post(f"/v21.0/{acct}/media", data={"image_url": url, "access_token": tok})
        data = {"media_type": "IMAGE", "image_url": url, "text": "hi", "access_token": tok}
        return await emu.http.post(f"/v1.0/{acct}/threads", data=data)

    for url in (expired, unreachable):
        for platform in accounts:
            r = await create(platform, url)
            err = r.json()["error"]
            assert r.status_code == 400, (platform, url, r.text)
            if platform == "facebook":
                assert err["code"] == 324
            else:
                assert (err["code"], err["error_subcode"]) == (9004, 2207052)
                assert err["error_user_title"] == "Media download has failed."
    r = await create("instagram", not_jpeg)
    assert r.status_code == 400 and "JPEG" in r.json()["error"]["error_user_msg"]
    assert (await create("threads", not_jpeg)).status_code == 200  # Threads takes PNG
    assert await emu.posts() == []


def _key(s: Settings) -> str:
    assert s.s3_access_key_id is not None
    return s.s3_access_key_id.get_secret_value()


def _secret(s: Settings) -> str:
    assert s.s3_secret_access_key is not None
    return s.s3_secret_access_key.get_secret_value()


@pytest.mark.parametrize("case", ["facebook-photo", "instagram", "threads"])
async def test_an_expired_presigned_url_is_refused_then_sent_again_with_a_fresh_one(
    case: str,
    app_pool: asyncpg.Pool,
    social_settings: Settings,
    settings: Settings,
    emu: Emu,
    token_store: VaultTokenStore,
    tenant: uuid.UUID,
    store: S3Store,
) -> None:
    """The platform fetches the image after its presigned URL expired and answers its download error;
    nothing was posted, so the publish activity comes back with a retry, and the next call signs fresh
    URLs from the storage keys: the post goes out once, with the very image stored."""
    platform = case.split("-")[0]
    brief = S3Store(
        store.bucket, endpoint_url=store.endpoint_url, access_key_id=_key(settings),
        secret_access_key=_secret(settings), presign=True, presign_ttl=1,
    )  # fmt: skip
    jpeg = _jpeg((120, 60, 30))
    image = put_image(brief, tenant, jpeg)
    [aid] = await make_articles(app_pool, tenant)
    markdown = put_article_markdown(brief, tenant, aid, "# An article\n")
    await connect_account(emu, token_store, tenant, platform, ACCOUNTS[platform])
    quick = social_settings.model_copy(update={"social_media_refetch_s": 0.2})
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        publisher = Publisher(app_pool, quick, build_clients(quick, http), token_store)
        acts = PublishActivities(publisher, brief)
        inp = PublishInput(
            str(tenant), str(aid), platform, ACCOUNTS[platform], "Autumn in Seoul", "A short guide.",
            "https://stale.example/article", ["Seoul"], "en", ["https://stale.example/image.jpg"], False,
            media_keys=[image.key], markdown_key=markdown.key,
        )  # fmt: skip
        await emu.knobs(media_fetch_delay_s=1.5)  # the platform's fetcher is slower than the URL's life
        first = await ActivityEnvironment().run(acts.publish, inp)
        assert first.status == "pending" and first.retry_in_s is not None, first
        assert "could not fetch the media" in (first.reason or "")
        assert await emu.posts(platform) == []
        await emu.knobs(media_fetch_delay_s=0)
        await asyncio.sleep(first.retry_in_s)  # the workflow sleeps durably, then calls again
        # (the store's usual lifetime for the new signature: a 1 s URL may live 0 to 1 s)
        second = await ActivityEnvironment().run(PublishActivities(publisher, store).publish, inp)
    assert second.status == "published", second
    [post] = await emu.posts(platform, ACCOUNTS[platform])
    assert post["id"] == second.platform_post_id
    assert post["media_sha256"] == [hashlib.sha256(jpeg).hexdigest()]
    fetches = [f for f in (await emu.requests())["fetches"] if image.key in f["url"]]
    assert [f["status"] for f in fetches] == [403, 200]  # expired, then the fresh signature
    assert fetches[0]["url"] != fetches[1]["url"] and "stale.example" not in fetches[1]["url"]
    row = await post_row(app_pool, tenant, uuid.UUID(second.post_id))
    assert row["attempts"] == 2 and row["media_urls"] == [fetches[1]["url"]]
    assert row["platform_post_id"] == post["id"] and row["permalink"] == post["permalink"]
