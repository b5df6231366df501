// What the interop tests share: where Warden is, unique users, a cookie jar for Node's fetch, the venv's tools, and an
// authenticator's codes.

import { createHmac, randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/** An environment variable that interop/run sets; a clear error when the tests run without it. */
export function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests through interop/run, which starts Warden and sets it`);
  }
  return value;
}

/** The gateway's base URL, e.g. `http://127.0.0.1:8080`. */
export const wardenUrl = () => required("WARDEN_URL").replace(/\/$/, "");
/** auth-svc's gRPC address, `host:port`. */
export const authAddr = () => required("WARDEN_AUTH_ADDR");
/** task-svc's gRPC address, `host:port`. */
export const taskAddr = () => required("WARDEN_TASK_ADDR");

export const PASSWORD = "correct horse battery";

/** An email address no other test uses. */
export function uniqueEmail(label = "user") {
  return `${label}-${randomBytes(6).toString("hex")}@example.com`;
}

/** Paths of the Python venv's tools, which interop/run installs from requirements.txt. */
export const venvPython = fileURLToPath(new URL("../.venv/bin/python", import.meta.url));
export const venvGrpcurl = fileURLToPath(new URL("../.venv/bin/grpcurl", import.meta.url));

/**
 * Runs a program and resolves to `{ code, stdout, stderr }` whatever its exit code, so that tests can assert on
 * failures too.
 */
export function run(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(error);
        return;
      }
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/**
 * A cookie jar for Node's fetch, which keeps no cookies: stores what `set-cookie` headers set (and drops what they
 * expire) and sends the rest back as a browser on Warden's own origin would.
 */
export class CookieJar {
  #cookies = new Map();

  /** Takes the cookies of a response. */
  store(headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(attribute));
      if (expired || value === "") {
        this.#cookies.delete(name);
      } else {
        this.#cookies.set(name, value);
      }
    }
  }

  /** The value of one cookie, or undefined. */
  get(name) {
    return this.#cookies.get(name);
  }

  /** The `cookie` header to send, or undefined when the jar is empty. */
  header() {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /**
   * A fetch that sends and keeps this jar's cookies and an `Origin` of Warden's own URL (Node's fetch sends
   * `sec-fetch-mode: cors`, so Warden, like Better Auth, checks the origin of cookie-carrying writes).
   */
  fetch(origin = wardenUrl()) {
    return async (input, init = {}) => {
      const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
      const cookie = this.header();
      if (cookie) headers.set("cookie", cookie);
      if (!headers.has("origin")) headers.set("origin", origin);
      const response = await fetch(input, { ...init, headers });
      this.store(response.headers);
      return response;
    };
  }
}

/** Signs a new user up through the gateway and returns `{ email, jar, body }`, the jar holding the session cookie. */
export async function signUpOverHttp(label = "user") {
  const email = uniqueEmail(label);
  const jar = new CookieJar();
  const response = await jar.fetch()(`${wardenUrl()}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Ada Lovelace", email, password: PASSWORD }),
  });
  const body = await response.json();
  if (response.status !== 200) {
    throw new Error(`sign-up answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return { email, jar, body };
}

/**
 * An authenticator's code for an `otpauth://` URI, `ahead` 30-second steps from now: RFC 6238 (HMAC-SHA1, six
 * digits) written here, so Warden's own TOTP code is not what checks itself.
 */
export function totpCode(uri, ahead = 0) {
  const base32 = new URL(uri).searchParams.get("secret");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of base32) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + ahead));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = digest[19] & 0xf;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}
