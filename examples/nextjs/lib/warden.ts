// Server-side access to Warden for server components, route handlers and the middleware. The browser reaches Warden
// through this app's rewrites; the Next.js server calls the gateway directly at WARDEN_URL.

/** Warden's gateway as the Next.js server reaches it, e.g. http://127.0.0.1:8080 or http://warden:8080. */
export const WARDEN_URL = (process.env.WARDEN_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");

/**
 * Warden's public URL, its BASE_URL: this app's own origin, since browsers see Warden through it. It is the issuer and
 * audience of the JWTs Warden signs.
 */
export const PUBLIC_URL = (process.env.PUBLIC_URL ?? "http://localhost:3000").replace(/\/$/, "");

/** How a server-side call proves who it acts for: the browser's cookies, or a JWT Warden signed. */
export type Credentials = { cookie: string } | { jwt: string };

/** Calls Warden's gateway on behalf of the signed-in user, never cached by Next.js. */
export function wardenFetch(path: string, credentials: Credentials, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if ("cookie" in credentials) {
    headers.set("cookie", credentials.cookie);
  } else {
    headers.set("authorization", `Bearer ${credentials.jwt}`);
  }
  return fetch(`${WARDEN_URL}${path}`, { ...init, headers, cache: "no-store" });
}

/** A failed call to Warden, with its status and Better Auth's error code when it sent one. */
export class WardenError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "WardenError";
  }

  static async from(response: Response): Promise<WardenError> {
    const body = (await response.json().catch(() => null)) as { code?: string; message?: string } | null;
    return new WardenError(response.status, body?.code, body?.message ?? `Warden answered ${response.status}`);
  }
}
