/**
 * The tenant's live event stream (SSE), proxied with the session's token: EventSource cannot send
 * an Authorization header. Last-Event-ID is passed on so a reconnect resumes where it stopped.
 */
import type { NextRequest } from "next/server";
import { apiUrl } from "@/lib/env";
import { ACCESS_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

async function open(token: string, lastEventId: string | null, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  return fetch(`${apiUrl()}/v1/events/stream`, { headers, signal, cache: "no-store" });
}

export async function GET(req: NextRequest) {
  const token = req.cookies.get(ACCESS_COOKIE)?.value;
  if (!token) return new Response(null, { status: 401 });
  if (req.signal.aborted) return new Response(null, { status: 499 });
  // The browser closing the EventSource aborts req.signal: abort the upstream fetch with it, so its
  // socket is released and nothing is left reading (or throwing) after the client is gone.
  const upstreamAbort = new AbortController();
  const onClientAbort = () => upstreamAbort.abort();
  req.signal.addEventListener("abort", onClientAbort, { once: true });
  const lastEventId = req.headers.get("last-event-id");
  let upstream: Response;
  try {
    upstream = await open(token, lastEventId, upstreamAbort.signal);
    if (upstream.status === 404 && lastEventId) {
      // the event fell out of the outbox: start again from the newest one
      await upstream.body?.cancel().catch(() => undefined);
      upstream = await open(token, null, upstreamAbort.signal);
    }
  } catch {
    req.signal.removeEventListener("abort", onClientAbort);
    // an abort here is the client leaving; anything else is the gateway being unreachable
    return new Response(null, { status: upstreamAbort.signal.aborted ? 499 : 502 });
  }
  if (!upstream.ok || !upstream.body) {
    req.signal.removeEventListener("abort", onClientAbort);
    await upstream.body?.cancel().catch(() => undefined);
    return new Response(null, { status: upstream.status === 401 ? 401 : 502 });
  }
  const reader = upstream.body.getReader();
  let finished = false;
  /** Ends both sides once, quietly: the upstream fetch aborted, the reader released, our stream closed. */
  const finish = (controller?: ReadableStreamDefaultController<Uint8Array>) => {
    if (finished) return;
    finished = true;
    req.signal.removeEventListener("abort", onClientAbort);
    upstreamAbort.abort();
    reader.cancel().catch(() => undefined);
    if (controller) {
      try {
        controller.close();
      } catch {
        // already closed or cancelled by the consumer
      }
    }
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // the client went away while nothing was being read: close the stream without an error
      upstreamAbort.signal.addEventListener("abort", () => finish(controller), { once: true });
    },
    async pull(controller) {
      if (finished) return;
      try {
        const { done, value } = await reader.read();
        if (finished) return;
        if (done) finish(controller);
        else controller.enqueue(value);
      } catch {
        // the upstream ended abruptly or was aborted (client gone): end the stream quietly, and
        // the EventSource reconnects when it is still there
        finish(controller);
      }
    },
    cancel() {
      finish();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    },
  });
}
