/**
 * Where to go after logging in (the login page's `next`): a path of this site, or "/".
 *
 * Browsers read more than a plain check sees: they drop tab, CR and LF inside a URL ("/\t/evil.example"
 * is "//evil.example", another host), treat "\" as "/", and resolve "/./" and "/../". So the value is
 * refused if it holds a control character or a backslash, then resolved against a placeholder origin the
 * way a browser would; only a result on that origin whose path does not start with "//" is kept, in the
 * URL parser's encoding (non-ASCII percent-encoded, so a Location header can carry it).
 */
const BASE = "http://next.invalid";

export function safeNext(value: unknown): string {
  if (typeof value !== "string" || value.length > 2000) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || /[\u0000-\u001f\u007f\\]/.test(value)) return "/";
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return "/";
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== BASE || !path.startsWith("/") || path.startsWith("//")) return "/";
  return path;
}
