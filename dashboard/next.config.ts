import type { NextConfig } from "next";

// Origins allowed to post Server Actions besides the request's own host (a proxy in front).
const publicOrigin = process.env.ICOP_DASHBOARD_PUBLIC_URL;
const allowedOrigins = publicOrigin ? [new URL(publicOrigin).host] : [];
const overTls = publicOrigin?.startsWith("https://") ?? false;

// Everything the pages load comes from this origin: scripts and styles (Next's hydration data and React's
// style props are inline), images through the /api proxy, the live stream from /api/events. No plugin,
// no framing by any site, no <base> that could re-point relative URLs. `next dev` also needs eval.
const csp = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${process.env.NODE_ENV === "production" ? "" : " 'unsafe-eval'"}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join("; ");

const nextConfig: NextConfig = {
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
  images: { unoptimized: true, remotePatterns: [] },
  // The test command runs `npm run typecheck` and `npm run lint` as steps of their own, so `next build`
  // does not type-check and lint the app a second time.
  eslint: { ignoreDuringBuilds: true },
  typescript: { ignoreBuildErrors: true },
  experimental: {
    serverActions: { bodySizeLimit: "10mb", allowedOrigins },
  },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "Content-Security-Policy", value: csp },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
          // Only when the dashboard is served over TLS: browsers then refuse plain http for a year.
          ...(overTls ? [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }] : []),
        ],
      },
    ];
  },
};

export default nextConfig;
