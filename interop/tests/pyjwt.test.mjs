// The JWT that a signed-in browser gets from /api/auth/token (through Better Auth's jwtClient plugin), verified by
// a Python backend with PyJWT's PyJWKClient against /api/auth/jwks (interop/jwt_check.py), and rejected once
// tampered with.

import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";

import { CookieJar, PASSWORD, run, uniqueEmail, venvPython, wardenUrl } from "./helpers.mjs";

const jwtCheck = fileURLToPath(new URL("../jwt_check.py", import.meta.url));

/** Runs jwt_check.py on `token`; returns its exit code and JSON verdict. */
async function pythonVerifies(token) {
  const { code, stdout, stderr } = await run(venvPython, [jwtCheck, token], {
    env: { ...process.env, WARDEN_URL: wardenUrl() },
  });
  assert.ok(code === 0 || code === 1, `jwt_check.py exited ${code}: ${stderr}`);
  const verdict = JSON.parse(stdout);
  assert.equal(verdict.valid, code === 0);
  return verdict;
}

const base64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const decode = (part) => JSON.parse(Buffer.from(part, "base64url").toString());

describe("a Warden JWT verified by PyJWT's PyJWKClient", () => {
  let token;
  let user;
  before(async () => {
    const jar = new CookieJar();
    const client = createAuthClient({
      baseURL: wardenUrl(),
      plugins: [jwtClient()],
      fetchOptions: { customFetchImpl: jar.fetch() },
    });
    const signedUp = await client.signUp.email({ name: "Ada", email: uniqueEmail("pyjwt"), password: PASSWORD });
    assert.equal(signedUp.error, null);
    user = signedUp.data.user;
    const issued = await client.token();
    assert.equal(issued.error, null);
    token = issued.data.token;
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test("verifies the token: EdDSA, a published kid, the user's claims, issuer and audience", async () => {
    const verdict = await pythonVerifies(token);
    assert.equal(verdict.valid, true, verdict.message);
    assert.equal(verdict.header.alg, "EdDSA");
    const jwks = await (await fetch(`${wardenUrl()}/api/auth/jwks`)).json();
    assert.ok(
      jwks.keys.some((key) => key.kid === verdict.header.kid),
      "the token's kid is one of the published keys",
    );

    const { claims } = verdict;
    assert.equal(claims.sub, user.id);
    assert.equal(claims.id, user.id);
    assert.equal(claims.email, user.email);
    assert.equal(claims.name, "Ada");
    assert.equal(claims.iss, wardenUrl());
    assert.equal(claims.aud, wardenUrl());
    assert.equal(claims.exp - claims.iat, 900, "Better Auth's jwt plugin issues 15-minute tokens");
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 300);
  });

  test("rejects the token with a changed claim", async () => {
    const [header, payload, signature] = token.split(".");
    const claims = { ...decode(payload), sub: "someone-else", id: "someone-else" };
    const verdict = await pythonVerifies(`${header}.${base64url(claims)}.${signature}`);
    assert.equal(verdict.valid, false);
    assert.equal(verdict.error, "InvalidSignatureError");
  });

  test("rejects the token with a changed signature", async () => {
    const [header, payload, signature] = token.split(".");
    const bytes = Buffer.from(signature, "base64url");
    bytes[0] ^= 0x01;
    const verdict = await pythonVerifies(`${header}.${payload}.${bytes.toString("base64url")}`);
    assert.equal(verdict.valid, false);
    assert.equal(verdict.error, "InvalidSignatureError");
  });

  test("rejects an unsigned token (alg none) and one MAC'd with the public key (alg HS256)", async () => {
    const [header, payload] = token.split(".");
    const { kid } = decode(header);
    const none = `${base64url({ alg: "none", kid })}.${payload}.`;
    assert.equal((await pythonVerifies(none)).valid, false);

    const jwks = await (await fetch(`${wardenUrl()}/api/auth/jwks`)).json();
    const publicKey = jwks.keys.find((key) => key.kid === kid).x;
    const signingInput = `${base64url({ alg: "HS256", typ: "JWT", kid })}.${payload}`;
    const mac = createHmac("sha256", publicKey).update(signingInput).digest("base64url");
    assert.equal((await pythonVerifies(`${signingInput}.${mac}`)).valid, false);
  });

  test("rejects a token whose kid is not published", async () => {
    const [header, payload, signature] = token.split(".");
    const unknown = { ...decode(header), kid: "not-a-published-key" };
    const verdict = await pythonVerifies(`${base64url(unknown)}.${payload}.${signature}`);
    assert.equal(verdict.valid, false);
    assert.equal(verdict.error, "PyJWKClientError");
  });
});
