import { getSessionCookie } from "better-auth/cookies";
import { NextResponse, type NextRequest } from "next/server";

import { JWT_COOKIE, withSessionJwt } from "./lib/session-jwt";

// The app's middleware (Next.js 16 names the file proxy.ts; on Next.js 15 it is middleware.ts exporting `middleware`).
// An optimistic check that saves a round trip for visitors who are plainly signed out: Better Auth's cookie helper only
// looks for the session cookie. The page itself still reads the session and redirects when it is over.
export async function proxy(request: NextRequest) {
  if (getSessionCookie(request)) {
    // Sessions read from Warden's JWTs (lib/session.ts): the middleware keeps one for this session in a cookie.
    if (process.env.WARDEN_SESSION !== "jwt") return NextResponse.next();
    const next = await withSessionJwt(request);
    if (next) return next;
  }
  const signIn = new URL("/sign-in", request.url);
  signIn.searchParams.set("next", request.nextUrl.pathname);
  const redirect = NextResponse.redirect(signIn);
  redirect.cookies.delete(JWT_COOKIE);
  return redirect;
}

export const config = {
  matcher: ["/tasks/:path*"],
};
