import type { NextConfig } from "next";

// Where the Next.js server reaches Warden's gateway. Browsers never see this address: they call this app's own
// origin, and the rewrites below forward Better Auth's routes and the task API to Warden, so cookies stay
// first-party and no CORS is needed. Rewrites are fixed when `next build` runs, so set WARDEN_URL for the build.
const wardenUrl = (process.env.WARDEN_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");

const nextConfig: NextConfig = {
  async rewrites() {
    return [
      { source: "/api/auth/:path*", destination: `${wardenUrl}/api/auth/:path*` },
      { source: "/api/v1/:path*", destination: `${wardenUrl}/api/v1/:path*` },
    ];
  },
};

export default nextConfig;
