// The signed-in user, on the server, from Warden. This replaces `auth.api.getSession({ headers })`, which needed
// Better Auth and its database inside this app. Two ways, chosen with WARDEN_SESSION:
//
// - `get-session` (the default): forward the browser's cookies to Warden's /api/auth/get-session on every render. One
//   network hop to Warden per request (about a millisecond on a local network), and a sign-out, a revoked session or a
//   ban takes effect on the very next request.
// - `jwt`: the middleware asks Warden once for a JWT (the `set-auth-jwt` header of get-session), keeps it in an
//   HTTP-only cookie bound to the session cookie, and pages verify it locally against Warden's JWKS with jose. No hop
//   per render, but a revoked session or a ban goes on being accepted here until that JWT expires (15 minutes), and
//   so are the server's calls to the task API, which carry the JWT. The browser's own calls carry the cookie, and the
//   task API refuses those at once.

import { createRemoteJWKSet, jwtVerify } from "jose";
import { getSessionCookie } from "better-auth/cookies";
import { cookies, headers } from "next/headers";

import { JWT_COOKIE, unbind } from "./session-jwt";
import { PUBLIC_URL, WARDEN_URL, WardenError, wardenFetch, type Credentials } from "./warden";

export type SessionUser = { id: string; email: string; name: string };

export type Session = {
  user: SessionUser;
  /** What server-side calls to Warden send on the user's behalf. */
  credentials: Credentials;
  /** Which way the session was read. */
  source: "get-session" | "jwt";
};

export const SESSION_STRATEGY: Session["source"] = process.env.WARDEN_SESSION === "jwt" ? "jwt" : "get-session";

/** The signed-in user, or null: read the way WARDEN_SESSION chooses. */
export function getSession(): Promise<Session | null> {
  return SESSION_STRATEGY === "jwt" ? getSessionFromJwt() : getSessionFromWarden();
}

/** The first way: one call to Warden's get-session with the browser's cookies. */
export async function getSessionFromWarden(): Promise<Session | null> {
  const cookie = (await headers()).get("cookie");
  if (!cookie) return null;
  const response = await wardenFetch("/api/auth/get-session", { cookie });
  if (!response.ok) throw await WardenError.from(response);
  const body = (await response.json()) as { user: SessionUser } | null;
  if (!body) return null;
  const { id, email, name } = body.user;
  return { user: { id, email, name }, credentials: { cookie }, source: "get-session" };
}

/** The second way: the JWT the middleware keeps in JWT_COOKIE, verified here without calling Warden. */
export async function getSessionFromJwt(): Promise<Session | null> {
  const jar = await cookies();
  const stored = jar.get(JWT_COOKIE)?.value;
  const sessionCookie = getSessionCookie(await headers());
  if (!stored || !sessionCookie) return null;
  const jwt = await unbind(stored, sessionCookie);
  if (!jwt) return null;
  const user = await verifySessionJwt(jwt);
  return user && { user, credentials: { jwt }, source: "jwt" };
}

// Warden's signing keys, fetched once and again only for an unknown key id (jose caches them).
const jwks = createRemoteJWKSet(new URL(`${WARDEN_URL}/api/auth/jwks`));

// jose's codes for a token that is simply not good (expired, forged, for someone else); anything else, such as Warden's
// JWKS not answering, is an outage and is thrown rather than taken for "signed out".
const REJECTED = new Set([
  "ERR_JWT_EXPIRED",
  "ERR_JWT_CLAIM_VALIDATION_FAILED",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
  "ERR_JWKS_NO_MATCHING_KEY",
]);

/** The user a JWT Warden signed speaks for, or null when it is expired, forged or not meant for this app. */
export async function verifySessionJwt(jwt: string): Promise<SessionUser | null> {
  try {
    const { payload } = await jwtVerify(jwt, jwks, { issuer: PUBLIC_URL, audience: PUBLIC_URL });
    if (typeof payload.sub !== "string") return null;
    return { id: payload.sub, email: String(payload.email ?? ""), name: String(payload.name ?? "") };
  } catch (error) {
    if (REJECTED.has((error as { code?: string }).code ?? "")) return null;
    throw error;
  }
}
