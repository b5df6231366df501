// The identity-provider harness that Warden's social sign-in tests sign in through: providers/oidc.mjs (panva's
// oidc-provider with pages of its own) and providers/github.mjs (the GitHub stand-in). These tests prove each behaves
// as the real thing does where Warden relies on it: codes only with S256 PKCE, ID tokens that verify against the
// JWKS, userinfo, refresh tokens, refusals in the shapes real providers send, pages a browser drives by their labels,
// and the command-line mode Rust tests start. Neither needs the Warden that interop/run starts.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

import { authorizeByHttp as authorizeGithub, startGithub } from "../providers/github.mjs";
import { authorizeByHttp, basicAuth, obtainTokens, pkcePair, startOidcProvider } from "../providers/oidc.mjs";
import { launchChromium } from "./chromium.mjs";

// Nothing listens on port 9 (discard): the flows stop at the redirect to the client and never request it.
const CLIENT = {
  clientId: "warden-test",
  clientSecret: "a secret: with spaces & symbols",
  redirectUris: ["http://127.0.0.1:9/api/auth/callback/oidc", "http://127.0.0.1:9/api/auth/oauth2/callback/oidc"],
};
const REDIRECT_URI = CLIENT.redirectUris[0];
const ADA = { email: "ada@example.com", password: "ada password" };

const randomText = () => randomBytes(12).toString("base64url");

/** A form POST to a token endpoint; resolves to `{ status, body }` with the body parsed as JSON. */
async function postToken(url, fields, headers = {}) {
  const response = await fetch(url, { method: "POST", headers, body: new URLSearchParams(fields) });
  return { status: response.status, body: await response.json() };
}

describe("the OpenID Connect provider (oidc-provider)", () => {
  let provider;
  let discovery;

  before(async () => {
    provider = await startOidcProvider({ clients: [CLIENT] });
    discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
  });
  after(() => provider?.stop());

  /** An authorization URL with PKCE (unless `pkce: false`), a fresh state and nonce, and `params` on top. */
  function authorizationUrl(params = {}, { pkce = true } = {}) {
    const { verifier, challenge } = pkcePair();
    const state = randomText();
    const nonce = randomText();
    const url = new URL(discovery.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT_URI,
      scope: "openid email profile",
      state,
      nonce,
      ...(pkce ? { code_challenge: challenge, code_challenge_method: "S256" } : {}),
      ...params,
    });
    return { url: url.href, verifier, state, nonce };
  }

  /** Signs in as `who` and resolves to `{ code, verifier, nonce }`, checking what comes back on the way. */
  async function code(who = ADA, params = {}) {
    const request = authorizationUrl(params);
    const back = new URL(await authorizeByHttp(request.url, who));
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
    assert.equal(back.searchParams.get("state"), request.state);
    assert.equal(back.searchParams.get("iss"), provider.issuer, "RFC 9207's iss comes back with the code");
    assert.ok(back.searchParams.get("code"), `a code in ${back.href}`);
    return { code: back.searchParams.get("code"), verifier: request.verifier, nonce: request.nonce };
  }

  test("discovery describes a code-flow-only provider with S256 PKCE and both secret methods", async () => {
    assert.match(provider.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(discovery.issuer, provider.issuer);
    for (const endpoint of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"]) {
      assert.ok(discovery[endpoint].startsWith(`${provider.issuer}/`), `${endpoint}: ${discovery[endpoint]}`);
    }
    assert.deepEqual(discovery.response_types_supported, ["code"]);
    assert.deepEqual(discovery.code_challenge_methods_supported, ["S256"]);
    assert.deepEqual(discovery.grant_types_supported, ["authorization_code", "refresh_token"]);
    assert.deepEqual(discovery.token_endpoint_auth_methods_supported, ["client_secret_basic", "client_secret_post"]);
    assert.deepEqual(discovery.scopes_supported, ["openid", "email", "profile", "offline_access"]);
    for (const claim of ["sub", "email", "email_verified", "name", "picture"]) {
      assert.ok(discovery.claims_supported.includes(claim), `claims_supported has ${claim}`);
    }
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, ["RS256"]);

    const jwks = await (await fetch(discovery.jwks_uri)).json();
    assert.equal(jwks.keys.length, 1);
    const [key] = jwks.keys;
    assert.equal(key.kty, "RSA");
    assert.equal(key.alg, "RS256");
    assert.equal(key.use, "sig");
    assert.ok(key.kid);
    assert.equal(key.d, undefined, "no private part in the published key");
  });

  test("the code flow with PKCE gives tokens; the ID token verifies against the JWKS; userinfo answers", async () => {
    const { code: authorizationCode, verifier, nonce } = await code();
    const { status, body } = await postToken(discovery.token_endpoint, {
      grant_type: "authorization_code",
      code: authorizationCode,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, "Bearer");
    assert.equal(body.scope, "openid email profile");
    assert.ok(body.access_token && body.id_token && body.refresh_token, JSON.stringify(body));
    assert.equal(body.expires_in, 3600);

    assert.equal(decodeProtectedHeader(body.id_token).alg, "RS256");
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload } = await jwtVerify(body.id_token, jwks, { issuer: provider.issuer, audience: CLIENT.clientId });
    assert.equal(payload.nonce, nonce);
    assert.equal(payload.sub, "ada");
    assert.equal(payload.email, "ada@example.com");
    assert.equal(payload.email_verified, true);
    assert.equal(payload.name, "Ada Lovelace");
    assert.equal(payload.picture, "https://images.example.com/ada.png");
    await assert.rejects(
      jwtVerify(body.id_token, jwks, { issuer: provider.issuer, audience: "someone-else" }),
      /aud/,
      "the audience is the client",
    );

    const bearer = { authorization: `Bearer ${body.access_token}` };
    const userinfo = await fetch(discovery.userinfo_endpoint, { headers: bearer });
    assert.equal(userinfo.status, 200);
    assert.deepEqual(await userinfo.json(), {
      sub: "ada",
      email: "ada@example.com",
      email_verified: true,
      name: "Ada Lovelace",
      picture: "https://images.example.com/ada.png",
    });
    const refused = await fetch(discovery.userinfo_endpoint, { headers: { authorization: "Bearer not-a-token" } });
    assert.equal(refused.status, 401);

    const again = await postToken(discovery.token_endpoint, {
      grant_type: "authorization_code",
      code: authorizationCode,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }, { authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) });
    assert.equal(again.status, 400, "a code works once");
    assert.equal(again.body.error, "invalid_grant");
  });

  test("a refresh token gives new tokens and, not rotated, stays usable; Basic client authentication", async () => {
    const tokens = await obtainTokens({ issuer: provider.issuer, client: CLIENT, ...ADA, nonce: randomText() });
    const { status, body } = await postToken(
      discovery.token_endpoint,
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      { authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) },
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.notEqual(body.access_token, tokens.access_token);
    // oidc-provider rotates a confidential client's refresh token only after 70 % of its lifetime: the same one again.
    assert.equal(body.refresh_token, tokens.refresh_token);
    const { payload } = await jwtVerify(body.id_token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: provider.issuer,
      audience: CLIENT.clientId,
    });
    assert.equal(payload.sub, "ada");
    const bearer = { authorization: `Bearer ${body.access_token}` };
    const userinfo = await fetch(discovery.userinfo_endpoint, { headers: bearer });
    assert.equal((await userinfo.json()).email, "ada@example.com");

    const wrongSecret = await postToken(
      discovery.token_endpoint,
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      { authorization: basicAuth(CLIENT.clientId, "not the secret") },
    );
    assert.equal(wrongSecret.status, 401);
    assert.equal(wrongSecret.body.error, "invalid_client");
  });

  test("PKCE is required, S256 only: no challenge, plain, no verifier or a wrong verifier are refused", async () => {
    for (const [what, params, pkce] of [
      ["no code_challenge", {}, false],
      ["the plain method", { code_challenge: "a".repeat(43), code_challenge_method: "plain" }, false],
    ]) {
      const request = authorizationUrl(params, { pkce });
      const back = new URL(await authorizeByHttp(request.url, ADA));
      assert.equal(back.searchParams.get("error"), "invalid_request", `${what}: ${back.href}`);
      assert.equal(back.searchParams.get("code"), null, what);
      assert.equal(back.searchParams.get("state"), request.state, what);
    }

    for (const [what, verifier] of [
      ["no code_verifier", undefined],
      ["the challenge itself as verifier, as plain would have it", "challenge"],
      ["someone else's verifier", pkcePair().verifier],
    ]) {
      const request = authorizationUrl();
      const challenge = new URL(request.url).searchParams.get("code_challenge");
      const back = new URL(await authorizeByHttp(request.url, ADA));
      const fields = {
        grant_type: "authorization_code",
        code: back.searchParams.get("code"),
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      };
      if (verifier) fields.code_verifier = verifier === "challenge" ? challenge : verifier;
      const { status, body } = await postToken(discovery.token_endpoint, fields);
      assert.equal(status, 400, what);
      assert.equal(body.error, "invalid_grant", what);
    }
  });

  test("a wrong password stays on the login form and says so; authorizeByHttp rejects", async () => {
    const jar = new Map();
    const go = async (url, form) => {
      const response = await fetch(url, {
        method: form ? "POST" : "GET",
        headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join("; ") },
        body: form && new URLSearchParams(form),
        redirect: "manual",
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(";");
        jar.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
      }
      return response;
    };
    const start = await go(authorizationUrl().url);
    assert.equal(start.status, 303);
    const loginUrl = new URL(start.headers.get("location"), provider.issuer);
    assert.match(loginUrl.pathname, /^\/interaction\/[\w-]+$/);
    const login = await go(loginUrl);
    assert.equal(login.status, 200);
    assert.match(await login.text(), /<label for="email">Email<\/label>/);

    const wrong = await go(`${loginUrl}/login`, { email: "ada@example.com", password: "not ada's password" });
    assert.equal(wrong.status, 200);
    const page = await wrong.text();
    assert.match(page, /<p role="alert">Wrong email or password\.<\/p>/);
    assert.match(page, new RegExp(`action="${loginUrl.pathname}/login"`));
    assert.match(page, /value="ada@example\.com"/, "the email stays filled in");

    const right = await go(`${loginUrl}/login`, ADA);
    assert.equal(right.status, 303, "the same interaction still takes the right password");

    await assert.rejects(
      authorizeByHttp(authorizationUrl().url, { email: "ada@example.com", password: "wrong" }),
      /refused the login of ada@example\.com: Wrong email or password\./,
    );
    await assert.rejects(
      authorizeByHttp(authorizationUrl().url, { email: "nobody@example.com", password: "ada password" }),
      /Wrong email or password/,
    );
  });

  test("denying consent sends the client error=access_denied with its state", async () => {
    const request = authorizationUrl();
    const back = new URL(await authorizeByHttp(request.url, { ...ADA, approve: false }));
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
    assert.equal(back.searchParams.get("error"), "access_denied");
    assert.equal(back.searchParams.get("state"), request.state);
    assert.equal(back.searchParams.get("code"), null);
  });

  test("an unverified address says so in the ID token; the second redirect URI works too", async () => {
    const client = { ...CLIENT, redirectUri: CLIENT.redirectUris[1] };
    const tokens = await obtainTokens({
      issuer: provider.issuer,
      client,
      email: "mallory@example.com",
      password: "mallory password",
    });
    const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: provider.issuer,
      audience: CLIENT.clientId,
    });
    assert.equal(payload.email, "mallory@example.com");
    assert.equal(payload.email_verified, false);
    assert.equal(payload.nonce, undefined, "no nonce asked, none given");
  });

  test("an unknown client or an unregistered redirect URI gets a page, not a redirect", async () => {
    for (const params of [{ client_id: "nobody" }, { redirect_uri: "http://127.0.0.1:9/elsewhere" }]) {
      const response = await fetch(authorizationUrl(params).url, { redirect: "manual" });
      assert.equal(response.status, 400, JSON.stringify(params));
      assert.match(await response.text(), /role="alert">invalid_(client|redirect_uri)/);
    }
  });
});

describe("the OpenID Connect provider's options", () => {
  test('refreshTokens: "offline_access": refresh tokens only for offline_access with prompt=consent', async () => {
    const accounts = [{
      sub: "248289761001",
      email: "Jane.Doe@Example.com",
      emailVerified: true,
      name: "Jane Doe",
      picture: "https://images.example.com/jane.png",
      password: "jane password",
    }];
    const provider = await startOidcProvider({ clients: [CLIENT], accounts, refreshTokens: "offline_access" });
    try {
      const jane = {
        issuer: provider.issuer,
        client: CLIENT,
        email: "jane.doe@example.com",
        password: "jane password",
      };
      const plain = await obtainTokens(jane);
      assert.equal(plain.refresh_token, undefined);
      const offline = await obtainTokens({ ...jane, scope: "openid email offline_access" });
      assert.ok(offline.refresh_token, JSON.stringify(offline));
      assert.equal(offline.scope, "openid email offline_access");

      const discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
      const userinfo = await fetch(discovery.userinfo_endpoint, {
        headers: { authorization: `Bearer ${offline.access_token}` },
      });
      assert.deepEqual(await userinfo.json(), {
        sub: "248289761001",
        email: "Jane.Doe@Example.com",
        email_verified: true,
      }, "only the claims of the scopes asked for");
      await assert.rejects(
        obtainTokens({ ...jane, email: "ada@example.com", password: "ada password" }),
        /Wrong email or password/,
        "the given accounts replace the default ones",
      );
    } finally {
      await provider.stop();
    }
  });

  test("ttl shortens the access token's lifetime", async () => {
    const provider = await startOidcProvider({ clients: [CLIENT], ttl: { AccessToken: 5 } });
    try {
      const tokens = await obtainTokens({ issuer: provider.issuer, client: CLIENT, ...ADA });
      assert.equal(tokens.expires_in, 5);
    } finally {
      await provider.stop();
    }
  });
});

describe("the GitHub stand-in", () => {
  const APP = {
    clientId: "Iv1.0123456789abcdef",
    clientSecret: "0123456789abcdef0123456789abcdef01234567",
    redirectUris: ["http://127.0.0.1:9/api/auth/callback/github"],
  };
  const CALLBACK = APP.redirectUris[0];
  const SCOPE = "read:user user:email";
  let github;

  before(async () => {
    github = await startGithub({ clients: [APP] });
  });
  after(() => github?.stop());

  function authorizationUrl(params = {}) {
    const { verifier, challenge } = pkcePair();
    const state = randomText();
    const url = new URL(`${github.baseUrl}/login/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: APP.clientId,
      redirect_uri: CALLBACK,
      scope: SCOPE,
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...params,
    });
    return { url: url.href, verifier, state };
  }

  async function code(login = "ada", params = {}) {
    const request = authorizationUrl(params);
    const back = new URL(await authorizeGithub(request.url, { login, password: `${login} password` }));
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
    assert.equal(back.searchParams.get("state"), request.state);
    assert.ok(back.searchParams.get("code"), back.href);
    return { code: back.searchParams.get("code"), verifier: request.verifier };
  }

  async function exchange(fields, headers = { accept: "application/json" }) {
    const response = await fetch(`${github.baseUrl}/login/oauth/access_token`, {
      method: "POST",
      headers,
      body: new URLSearchParams(fields),
    });
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
  }

  async function token(login = "ada", params = {}) {
    const { code: authorizationCode, verifier } = await code(login, params);
    const { text } = await exchange({
      client_id: APP.clientId,
      client_secret: APP.clientSecret,
      code: authorizationCode,
      code_verifier: verifier,
    });
    return JSON.parse(text).access_token;
  }

  async function api(path, accessToken, scheme = "Bearer") {
    const response = await fetch(`${github.baseUrl}${path}`, {
      headers: { authorization: `${scheme} ${accessToken}`, accept: "application/vnd.github+json" },
    });
    return { status: response.status, body: await response.json() };
  }

  test("the code flow with PKCE gives a token, as JSON or form-encoded as GitHub answers", async () => {
    const first = await code();
    const json = await exchange({
      client_id: APP.clientId,
      client_secret: APP.clientSecret,
      code: first.code,
      redirect_uri: CALLBACK,
      code_verifier: first.verifier,
    });
    assert.equal(json.status, 200);
    assert.match(json.type, /^application\/json/);
    const body = JSON.parse(json.text);
    assert.deepEqual(Object.keys(body).sort(), ["access_token", "scope", "token_type"]);
    assert.match(body.access_token, /^gho_[A-Za-z0-9]{36}$/);
    assert.equal(body.token_type, "bearer");
    assert.equal(body.scope, "read:user,user:email");

    // Without Accept: application/json, and with the client in Basic auth and a JSON body.
    const second = await code();
    const response = await fetch(`${github.baseUrl}/login/oauth/access_token`, {
      method: "POST",
      headers: { authorization: basicAuth(APP.clientId, APP.clientSecret), "content-type": "application/json" },
      body: JSON.stringify({ code: second.code, code_verifier: second.verifier }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type"), /^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(await response.text());
    assert.match(form.get("access_token"), /^gho_/);
    assert.equal(form.get("token_type"), "bearer");
    assert.equal(form.get("scope"), "read:user,user:email");
  });

  test("a bad code, a wrong or missing verifier and wrong credentials get GitHub's HTTP 200 errors", async () => {
    const tokenErrors = "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/";
    const badCode = {
      error: "bad_verification_code",
      error_description: "The code passed is incorrect or expired.",
      error_uri: `${tokenErrors}#bad-verification-code`,
    };
    const credentials = { client_id: APP.clientId, client_secret: APP.clientSecret };

    const unknown = await exchange({ ...credentials, code: "0123456789abcdef0123" });
    assert.equal(unknown.status, 200);
    assert.deepEqual(JSON.parse(unknown.text), badCode);
    const asForm = await exchange({ ...credentials, code: "0123456789abcdef0123" }, {});
    assert.equal(asForm.status, 200);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(asForm.text)), badCode);

    const wrongVerifier = await code();
    const wrong = await exchange({ ...credentials, code: wrongVerifier.code, code_verifier: pkcePair().verifier });
    assert.deepEqual(JSON.parse(wrong.text), badCode);
    const spent = await exchange({ ...credentials, code: wrongVerifier.code, code_verifier: wrongVerifier.verifier });
    assert.deepEqual(JSON.parse(spent.text), badCode, "a code is spent by a wrong verifier");

    const missingVerifier = await code();
    assert.deepEqual(JSON.parse((await exchange({ ...credentials, code: missingVerifier.code })).text), badCode);

    const used = await code();
    const ok = await exchange({ ...credentials, code: used.code, code_verifier: used.verifier });
    assert.ok(JSON.parse(ok.text).access_token);
    const twice = await exchange({ ...credentials, code: used.code, code_verifier: used.verifier });
    assert.deepEqual(JSON.parse(twice.text), badCode, "a code works once");

    const secret = await code();
    const wrongSecret = await exchange({
      ...credentials,
      client_secret: "nope",
      code: secret.code,
      code_verifier: secret.verifier,
    });
    assert.equal(wrongSecret.status, 200);
    assert.deepEqual(JSON.parse(wrongSecret.text), {
      error: "incorrect_client_credentials",
      error_description: "The client_id and/or client_secret passed are incorrect.",
      error_uri: `${tokenErrors}#incorrect-client-credentials`,
    });
    const otherRedirect = await exchange({
      ...credentials,
      code: secret.code,
      code_verifier: secret.verifier,
      redirect_uri: "http://127.0.0.1:9/elsewhere",
    });
    assert.equal(JSON.parse(otherRedirect.text).error, "redirect_uri_mismatch");
  });

  test("the authorization page refuses plain PKCE and unregistered callbacks, and reports a denial", async () => {
    const plain = authorizationUrl({ code_challenge: "a".repeat(43), code_challenge_method: "plain" });
    const refused = new URL(await authorizeGithub(plain.url, { login: "ada", password: "ada password" }));
    assert.equal(refused.searchParams.get("error"), "invalid_request");
    assert.equal(refused.searchParams.get("state"), plain.state);

    const mismatch = authorizationUrl({ redirect_uri: "http://127.0.0.1:9/elsewhere" });
    const back = new URL(await authorizeGithub(mismatch.url, { login: "ada", password: "ada password" }));
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK, "sent to the registered callback");
    assert.equal(back.searchParams.get("error"), "redirect_uri_mismatch");
    assert.equal(back.searchParams.get("state"), mismatch.state);

    const denied = authorizationUrl();
    const no = new URL(await authorizeGithub(denied.url, { login: "ada", password: "ada password", approve: false }));
    assert.equal(no.searchParams.get("error"), "access_denied");
    assert.equal(no.searchParams.get("error_description"), "The user has denied your application access.");
    assert.equal(no.searchParams.get("state"), denied.state);

    const unknownApp = await fetch(authorizationUrl({ client_id: "nobody" }).url, { redirect: "manual" });
    assert.equal(unknownApp.status, 404);

    await assert.rejects(
      authorizeGithub(authorizationUrl().url, { login: "ada", password: "wrong" }),
      /refused the sign-in of ada: Incorrect username or password\./,
    );

    // Without PKCE, as GitHub allows; the sign-in also takes an email address.
    const url = new URL(authorizationUrl().url);
    url.searchParams.delete("code_challenge");
    url.searchParams.delete("code_challenge_method");
    const granted = new URL(await authorizeGithub(url.href, { login: "ada@example.com", password: "ada password" }));
    assert.ok(granted.searchParams.get("code"));
  });

  test("users may be given, with no more than an id, a login and an address", async () => {
    const users = [{ id: 583231, login: "octocat", email: "octo@example.com" }];
    const own = await startGithub({ clients: [APP], users });
    try {
      const request = new URL(`${own.baseUrl}/login/oauth/authorize`);
      request.search = new URLSearchParams({ client_id: APP.clientId, scope: "user:email" });
      const back = new URL(await authorizeGithub(request.href, { login: "octocat", password: "octocat password" }));
      const response = await fetch(`${own.baseUrl}/login/oauth/access_token`, {
        method: "POST",
        headers: { accept: "application/json", authorization: basicAuth(APP.clientId, APP.clientSecret) },
        body: new URLSearchParams({ code: back.searchParams.get("code") }),
      });
      const headers = { authorization: `Bearer ${(await response.json()).access_token}` };
      const user = await (await fetch(`${own.baseUrl}/user`, { headers })).json();
      assert.equal(user.id, 583231);
      assert.equal(user.name, null);
      assert.equal(user.email, "octo@example.com");
      assert.deepEqual(await (await fetch(`${own.baseUrl}/user/emails`, { headers })).json(), [
        { email: "octo@example.com", primary: true, verified: true, visibility: "public" },
      ]);
      await assert.rejects(
        authorizeGithub(request.href, { login: "ada", password: "ada password" }),
        /Incorrect username or password/,
        "the given users replace the default ones",
      );
    } finally {
      await own.stop();
    }
  });

  test("/user and /user/emails answer in GitHub's shapes, at api.github.com's and Enterprise's paths", async () => {
    const ada = await token("ada");
    for (const prefix of ["", "/api/v3"]) {
      for (const scheme of ["Bearer", "token"]) {
        const user = await api(`${prefix}/user`, ada, scheme);
        assert.equal(user.status, 200, `${prefix}/user with ${scheme}`);
        assert.equal(user.body.id, 1001);
        assert.equal(typeof user.body.id, "number");
        assert.equal(user.body.login, "ada");
        assert.equal(user.body.name, "Ada Lovelace");
        assert.equal(user.body.email, "ada@example.com");
        assert.match(user.body.avatar_url, /^http:\/\//);
        const emails = await api(`${prefix}/user/emails`, ada, scheme);
        assert.equal(emails.status, 200);
        assert.deepEqual(emails.body, [
          { email: "ada@example.com", primary: true, verified: true, visibility: "public" },
        ]);
      }
    }

    const grace = await token("grace");
    const graceUser = await api("/user", grace);
    assert.equal(graceUser.body.email, null, "a private address is not on /user");
    assert.deepEqual((await api("/api/v3/user/emails", grace)).body, [
      { email: "grace@example.com", primary: true, verified: true, visibility: "private" },
      { email: "1003+grace@users.noreply.github.com", primary: false, verified: true, visibility: null },
    ]);

    const mallory = await token("mallory");
    assert.equal((await api("/user", mallory)).body.name, null);
    assert.deepEqual((await api("/user/emails", mallory)).body, [
      { email: "mallory@example.com", primary: true, verified: false, visibility: "public" },
    ]);

    const noEmailScope = await token("ada", { scope: "read:user" });
    assert.equal((await api("/user", noEmailScope)).status, 200);
    const hidden = await api("/user/emails", noEmailScope);
    assert.equal(hidden.status, 404, "/user/emails needs the user:email scope");

    const bad = await api("/user", "gho_nottherightone");
    assert.equal(bad.status, 401);
    assert.equal(bad.body.message, "Bad credentials");

    // GitHub refuses API requests without a User-Agent (fetch always sends one; node:http does not).
    const status = await new Promise((resolve, reject) => {
      request(`${github.baseUrl}/user`, { headers: { authorization: `Bearer ${ada}` } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on("error", reject).end();
    });
    assert.equal(status, 403);
  });
});

describe("the sign-in pages in Chromium", () => {
  let browser;
  let provider;
  let github;
  const GITHUB_APP = { clientId: "github-app", clientSecret: "github-secret", redirectUris: ["http://127.0.0.1:9/gh"] };

  before(async () => {
    [browser, provider, github] = await Promise.all([
      launchChromium(),
      startOidcProvider({ clients: [CLIENT] }),
      startGithub({ clients: [GITHUB_APP] }),
    ]);
    // The redirects back to the client end here instead of at a closed port.
    await browser.context.route("http://127.0.0.1:9/**", (route) =>
      route.fulfill({ status: 200, contentType: "text/plain", body: "back at the client" }),
    );
  });
  after(() => Promise.all([browser?.close(), provider?.stop(), github?.stop()]));

  test("the OIDC login and consent pages are driven by their labels and buttons", async () => {
    const { verifier, challenge } = pkcePair();
    const state = randomText();
    const url = new URL(`${provider.issuer}/auth`);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT_URI,
      scope: "openid email profile",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const page = await browser.context.newPage();
    await page.goto(url.href);
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    assert.equal(await page.getByRole("alert").textContent(), "Wrong email or password.");

    await page.getByLabel("Password").fill("ada password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Deny" }).waitFor();
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL((current) => current.href.startsWith(REDIRECT_URI));
    const back = new URL(page.url());
    assert.equal(back.searchParams.get("state"), state);

    const { status, body } = await postToken(`${provider.issuer}/token`, {
      grant_type: "authorization_code",
      code: back.searchParams.get("code"),
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }, { authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) });
    assert.equal(status, 200, JSON.stringify(body));
    assert.ok(body.id_token);
    await page.close();
  });

  test("the GitHub stand-in's sign-in and Authorize pages are driven the same way", async () => {
    const state = randomText();
    const page = await browser.context.newPage();
    const query = new URLSearchParams({ client_id: GITHUB_APP.clientId, scope: "user:email", state });
    await page.goto(`${github.baseUrl}/login/oauth/authorize?${query}`);
    assert.equal(await page.getByRole("heading").textContent(), "Sign in to GitHub");
    await page.getByLabel("Username or email address").fill("grace");
    await page.getByLabel("Password").fill("grace password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Authorize" }).click();
    await page.waitForURL((current) => current.href.startsWith(GITHUB_APP.redirectUris[0]));
    const back = new URL(page.url());
    assert.equal(back.searchParams.get("state"), state);
    assert.ok(back.searchParams.get("code"));
    await page.close();
  });
});

describe("the command-line mode", () => {
  const providers = fileURLToPath(new URL("../providers/", import.meta.url));
  const children = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  /**
   * Starts `script` as a Rust test would (`node <script> args`, without the test runner's NODE_TEST_CONTEXT) and
   * resolves to `{ line, child, stdout() }` once it has printed its first line.
   */
  function startCli(script, args) {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [`${providers}${script}`, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${script} printed no line in 30 s; stdout: ${JSON.stringify(stdout)}, stderr: ${stderr}`));
      }, 30_000);
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("\n")) {
          clearTimeout(timer);
          resolve({ line: stdout.slice(0, stdout.indexOf("\n")), child, stdout: () => stdout });
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code ?? signal}) before printing a line: ${stderr}`));
      });
    });
  }

  /** Sends SIGTERM and resolves to how the program ended, `{ code, signal }`. */
  async function stopCli({ child }) {
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.kill("SIGTERM");
    return exited;
  }

  test("oidc.mjs prints its issuer as one JSON line, serves discovery and stops on SIGTERM", async () => {
    const account = {
      sub: "cli-1",
      email: "lin@example.com",
      emailVerified: true,
      name: "Lin",
      picture: "https://images.example.com/lin.png",
      password: "lin password",
    };
    const cli = await startCli("oidc.mjs", [
      "--client", `cli-app:cli-secret:${REDIRECT_URI},http://127.0.0.1:9/second`,
      "--client", "other:other-secret:http://127.0.0.1:9/other",
      "--accounts", JSON.stringify([account]),
      "--access-token-ttl", "7",
      "--refresh-tokens", "offline_access",
    ]);
    try {
      const printed = JSON.parse(cli.line);
      assert.deepEqual(Object.keys(printed), ["issuer"]);
      assert.match(printed.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      const discovery = await (await fetch(`${printed.issuer}/.well-known/openid-configuration`)).json();
      assert.equal(discovery.issuer, printed.issuer);
      const client = { clientId: "cli-app", clientSecret: "cli-secret", redirectUri: "http://127.0.0.1:9/second" };
      const { email, password } = account;
      const tokens = await obtainTokens({ issuer: printed.issuer, client, email, password });
      assert.ok(tokens.id_token);
      assert.equal(tokens.expires_in, 7);
      assert.equal(tokens.refresh_token, undefined, "only with offline_access");
    } finally {
      assert.deepEqual(await stopCli(cli), { code: 0, signal: null });
    }
    assert.equal(cli.stdout(), `${cli.line}\n`, "nothing else on stdout");
  });

  test("github.mjs prints its base URL as one JSON line, serves the flow and stops on SIGTERM", async () => {
    const cli = await startCli("github.mjs", ["--client", "gh-cli:gh-secret:http://127.0.0.1:9/gh"]);
    try {
      const printed = JSON.parse(cli.line);
      assert.deepEqual(Object.keys(printed), ["baseUrl"]);
      assert.match(printed.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      const back = new URL(await authorizeGithub(`${printed.baseUrl}/login/oauth/authorize?client_id=gh-cli`, {
        login: "ada",
        password: "ada password",
      }));
      assert.equal(back.origin + back.pathname, "http://127.0.0.1:9/gh");
      assert.ok(back.searchParams.get("code"));
    } finally {
      assert.deepEqual(await stopCli(cli), { code: 0, signal: null });
    }
    assert.equal(cli.stdout(), `${cli.line}\n`, "nothing else on stdout");
  });
});
