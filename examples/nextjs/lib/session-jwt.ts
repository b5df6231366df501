// The middleware's half of the `jwt` way (see session.ts): it keeps a JWT Warden signed in an HTTP-only cookie, bound
// to the session cookie it was issued for, and asks Warden for a new one only when it is missing or about to expire.

import { getSessionCookie } from "better-auth/cookies";
import { decodeJwt } from "jose";
import { NextResponse, type NextRequest } from "next/server";

import { PUBLIC_URL, WardenError, wardenFetch } from "./warden";

/** The HTTP-only cookie holding the session's JWT: `<binding>.<jwt>`. */
export const JWT_COOKIE = "warden.session_jwt";

/** A JWT with less than this many seconds left is replaced before the page runs. */
const REFRESH_BEFORE = 60;

/**
 * Lets the request through with a fresh session JWT, asking Warden's get-session for one (its `set-auth-jwt` header)
 * when the cookie has none for this session; null when Warden says the session is over.
 */
export async function withSessionJwt(request: NextRequest): Promise<NextResponse | null> {
  const sessionCookie = getSessionCookie(request);
  const stored = request.cookies.get(JWT_COOKIE)?.value;
  if (!sessionCookie) return null;
  const current = stored && (await unbind(stored, sessionCookie));
  if (current && secondsLeft(current) > REFRESH_BEFORE) return NextResponse.next();

  const response = await wardenFetch("/api/auth/get-session", { cookie: request.headers.get("cookie") ?? "" });
  if (!response.ok) throw await WardenError.from(response);
  const jwt = response.headers.get("set-auth-jwt");
  if (!(await response.json()) || !jwt) return null;

  // The page rendering this request reads the new cookie, and the browser keeps it for the next ones.
  const value = await bind(jwt, sessionCookie);
  request.cookies.set(JWT_COOKIE, value);
  const next = NextResponse.next({ request: { headers: request.headers } });
  next.cookies.set(JWT_COOKIE, value, {
    httpOnly: true,
    sameSite: "lax",
    secure: PUBLIC_URL.startsWith("https://"),
    path: "/",
    maxAge: Math.max(secondsLeft(jwt), 0),
  });
  return next;
}

/** Seconds until a JWT expires, read without verifying it (only to decide when to ask for a new one). */
export function secondsLeft(jwt: string): number {
  try {
    const { exp } = decodeJwt(jwt);
    return typeof exp === "number" ? exp - Math.floor(Date.now() / 1000) : 0;
  } catch {
    return 0;
  }
}

// Binding a JWT to the session cookie means signing out and in as someone else in the same browser can never pick up
// the previous user's JWT.
async function binding(sessionCookie: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sessionCookie)));
  return Array.from(digest.subarray(0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The JWT_COOKIE value for `jwt`, issued for the session whose cookie value is `sessionCookie`. */
export async function bind(jwt: string, sessionCookie: string): Promise<string> {
  return `${await binding(sessionCookie)}.${jwt}`;
}

/** The JWT in a JWT_COOKIE value, or null when it was issued for another session. */
export async function unbind(stored: string, sessionCookie: string): Promise<string | null> {
  const dot = stored.indexOf(".");
  if (dot < 0 || stored.slice(0, dot) !== (await binding(sessionCookie))) return null;
  return stored.slice(dot + 1);
}
