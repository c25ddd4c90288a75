/** Gateway errors (application/problem+json) and what the dashboard does with them. */
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { getDict } from "../i18n";
import { problemMessage, type ProblemBody } from "../problems";
import { accessToken } from "./client";

export type Problem = ProblemBody;

/** Send the user to log in, and back to this page afterwards (the middleware names it). */
export async function toLogin(expired: boolean): Promise<never> {
  const h = await headers();
  const q = new URLSearchParams();
  if (expired || h.get("x-icop-expired")) q.set("expired", "1");
  const path = h.get("x-icop-path");
  if (path && path !== "/" && path.startsWith("/") && !path.startsWith("//")) q.set("next", path);
  redirect(q.size ? `/login?${q}` : "/login");
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problemText(problem, status));
  }
}

/** The error in the UI's language (see lib/problems.ts). */
export async function localized(e: ApiError): Promise<string> {
  const { lang, t } = await getDict();
  return problemMessage(e.problem, e.status, t, lang);
}

/** One English sentence (logs, exceptions): the detail, else the field errors, else the title. */
export function problemText(p: Problem | undefined, status: number): string {
  if (p?.errors?.length) {
    return p.errors
      .map((e) => {
        const field = (e.loc ?? []).filter((x) => x !== "body").join(".");
        return field ? `${field}: ${e.msg ?? ""}` : (e.msg ?? "");
      })
      .join("; ");
  }
  if (p?.detail) return p.detail;
  return p?.title ?? `HTTP ${status}`;
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful call. 401 sends the user to log in; with `orNotFound`, 404 (and 422: an
 * id that is not even a UUID) renders the not-found page; anything else throws `ApiError`.
 */
export async function unwrap<T>(call: Promise<Result<T>>, opts: { orNotFound?: boolean } = {}): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  if (response.status === 401) await toLogin(Boolean(await accessToken()));
  if (opts.orNotFound && (response.status === 404 || response.status === 422)) notFound();
  throw new ApiError(response.status, (error ?? {}) as Problem);
}

export type Outcome<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; error: string; problem?: Problem };

/** A mutation's outcome for a form to show, in the UI's language. A 401 sends the user to log in (their
 * session ended), except for the calls that log in themselves (`anonymous`: a 401 is a wrong password). */
export async function attempt<T>(call: Promise<Result<T>>, opts: { anonymous?: boolean } = {}): Promise<Outcome<T>> {
  const { lang, t } = await getDict();
  let result: Result<T>;
  try {
    result = await call;
  } catch {
    return { ok: false, status: 502, error: t.problems.unreachable };
  }
  const { data, error, response } = result;
  if (response.ok) return { ok: true, data: data as T };
  if (response.status === 401 && !opts.anonymous) await toLogin(Boolean(await accessToken()));
  const problem = (error ?? {}) as Problem;
  return { ok: false, status: response.status, error: problemMessage(problem, response.status, t, lang), problem };
}
