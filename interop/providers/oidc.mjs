// A real OpenID Connect provider on 127.0.0.1 for Warden's social sign-in tests: panva's oidc-provider (OpenID
// Certified), with login and consent pages of its own instead of oidc-provider's development-only ones.
//
// What it does: the authorization code flow only (response_type=code), PKCE required and S256 only (oidc-provider
// refuses `plain` outright); client_secret_basic and client_secret_post both accepted for every client (oidc-provider
// takes either for a client registered with one of them); discovery, JWKS (a fresh RS256 key per start), userinfo and
// refresh tokens. Scopes openid, email, profile, offline_access; claims sub, email, email_verified, name, picture, in
// the ID token as well as at userinfo (`conformIdTokenClaims: false`, as Google does; by default oidc-provider puts
// scope-requested claims only into userinfo when an access token is issued). An `http://` issuer is fine to
// oidc-provider; it only marks its cookies `Secure` over https.
//
// Refresh tokens: by default (`refreshTokens: "always"`) every code exchange returns one, whatever the scope, through
// oidc-provider's `issueRefreshToken` hook, since a test client is always allowed the refresh_token grant. With
// `refreshTokens: "offline_access"` it follows OpenID Connect Core 11: a refresh token only when the scope has
// `offline_access`, and oidc-provider drops `offline_access` from the request unless it comes with `prompt=consent`.
// A refresh (grant_type=refresh_token) answers new access and ID tokens and the same refresh token again: oidc-provider
// rotates a confidential client's refresh token only once 70 % of its 14 days have passed.
//
// The login and consent dance, for clients without a browser (authorizeByHttp below does exactly this; a Rust test can
// replicate it with reqwest, redirects off and a cookie store that keeps paths):
//
//   1. GET  {issuer}/auth?response_type=code&client_id=..&redirect_uri=..&scope=openid+email+profile&state=..
//           &nonce=..&code_challenge=..&code_challenge_method=S256
//      -> 303 Location: /interaction/{uid}, setting cookies `_interaction` (Path=/interaction/{uid}) and
//         `_interaction_resume` (Path=/auth/{uid}), each with a `.sig` companion.
//      A request error the client may hear (no code_challenge, code_challenge_method=plain) is instead a 303 straight
//      to redirect_uri?error=invalid_request&error_description=..&state=..&iss=..; an unknown client_id or an
//      unregistered redirect_uri is a 400 HTML page. Scopes it does not know are dropped silently, not refused.
//   2. GET  /interaction/{uid} -> 200, the login page: <form method="post" action="/interaction/{uid}/login">.
//   3. POST /interaction/{uid}/login, application/x-www-form-urlencoded `email=..&password=..`
//      -> wrong: 200, the login page again with the error in a role="alert" paragraph;
//      -> right: 303 Location: {issuer}/auth/{uid}.
//   4. GET  /auth/{uid} -> 303 Location: /interaction/{uid2}, setting `_session` (Path=/) and new interaction cookies.
//   5. GET  /interaction/{uid2} -> 200, the consent page: <form method="post" action="/interaction/{uid2}/consent">
//      with two buttons named `decision`, valued `allow` ("Allow") and `deny` ("Deny").
//   6. POST /interaction/{uid2}/consent `decision=allow` (or `deny`) -> 303 Location: {issuer}/auth/{uid2}.
//   7. GET  /auth/{uid2} -> 303 Location: {redirect_uri}?code=..&state=..&iss={issuer}
//      (denied: ?error=access_denied&error_description=End-User+aborted+interaction&state=..&iss=..).
//   8. POST {issuer}/token `grant_type=authorization_code&code=..&redirect_uri=..&code_verifier=..`, the client
//      authenticated with Basic auth or `client_id` + `client_secret` in the body -> 200 JSON
//      { access_token, expires_in, id_token, refresh_token, scope, token_type: "Bearer" }.
// With a `_session` cookie from an earlier round, step 1 skips the login (and, for a client and scope already
// allowed in that session, the consent as well); with a fresh cookie store every round shows both pages.
//
//   node interop/providers/oidc.mjs --client <id>:<secret>:<redirect_uri>[,<redirect_uri>...] [--client ...]
//       [--port N] [--refresh-tokens always|offline_access] [--access-token-ttl SECONDS] [--accounts '<JSON array>']
// prints {"issuer":"http://127.0.0.1:NNNN"} on stdout once it listens and runs until SIGTERM or SIGINT.

import { createHash, generateKeyPair, randomBytes } from "node:crypto";
import { promisify } from "node:util";

import Provider, { errors } from "oidc-provider";

import {
  alertOf, escapeHtml, isMain, listen, optionValues, page, parseClient, readForm, redirect, runCli, sendHtml, walkPages,
} from "./shared.mjs";

/** The accounts a provider has unless told otherwise; each password is the first name and " password". */
export const DEFAULT_ACCOUNTS = Object.freeze([
  {
    sub: "ada",
    email: "ada@example.com",
    emailVerified: true,
    name: "Ada Lovelace",
    picture: "https://images.example.com/ada.png",
    password: "ada password",
  },
  {
    sub: "grace",
    email: "grace@example.com",
    emailVerified: true,
    name: "Grace Hopper",
    picture: "https://images.example.com/grace.png",
    password: "grace password",
  },
  {
    sub: "mallory",
    email: "mallory@example.com",
    emailVerified: false,
    name: "Mallory Malicious",
    picture: "https://images.example.com/mallory.png",
    password: "mallory password",
  },
]);

/**
 * Starts the provider and resolves to `{ issuer, stop() }`.
 *
 * - `clients`: `[{ clientId, clientSecret, redirectUris: [..] }]`, confidential web clients allowed the
 *   authorization_code and refresh_token grants;
 * - `accounts`: `[{ sub, email, emailVerified, name, picture, password }]`, DEFAULT_ACCOUNTS when left out;
 * - `refreshTokens`: "always" (the default) or "offline_access", see the top of this file;
 * - `ttl`: oidc-provider's lifetimes in seconds to override, e.g. `{ AccessToken: 5 }` to test refreshing.
 */
export async function startOidcProvider({
  port = 0,
  clients,
  accounts = DEFAULT_ACCOUNTS,
  refreshTokens = "always",
  ttl = {},
} = {}) {
  if (!clients?.length) throw new Error("startOidcProvider needs at least one client");
  if (!["always", "offline_access"].includes(refreshTokens)) {
    throw new Error(`refreshTokens must be "always" or "offline_access", not ${JSON.stringify(refreshTokens)}`);
  }
  const bySub = new Map(accounts.map((account) => [account.sub, account]));
  const byEmail = new Map(accounts.map((account) => [account.email.toLowerCase(), account]));

  // The issuer names the port, so the server listens first and hands requests to the provider once it exists:
  // /interaction/ to the login and consent pages here, everything else to oidc-provider.
  let provider;
  let callback;
  const server = await listen((req, res) => {
    if (!provider) {
      sendHtml(res, 503, page("Starting", '<p role="alert">The provider is still starting.</p>'));
    } else if (req.url.startsWith("/interaction/")) {
      interaction(provider, byEmail, req, res).catch((error) => {
        console.error("oidc interaction failed:", error);
        if (!res.headersSent) sendHtml(res, 500, page("Error", `<p role="alert">${escapeHtml(error.message)}</p>`));
      });
    } else {
      callback(req, res);
    }
  }, port);
  const issuer = `http://127.0.0.1:${server.port}`;

  const { privateKey } = await promisify(generateKeyPair)("rsa", { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: "jwk" }), alg: "RS256", use: "sig", kid: randomId() };

  const configured = new Provider(issuer, {
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    async findAccount(_ctx, sub) {
      const account = bySub.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: account.emailVerified,
            name: account.name,
            picture: account.picture,
          };
        },
      };
    },
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "picture"],
    },
    scopes: ["openid", "email", "profile", "offline_access"],
    conformIdTokenClaims: false,
    responseTypes: ["code"],
    pkce: { required: () => true },
    clientAuthMethods: ["client_secret_basic", "client_secret_post"],
    // Only what social sign-in uses: no development pages, no pushed authorization requests, no DPoP.
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async issueRefreshToken(_ctx, client, code) {
      if (!client.grantTypeAllowed("refresh_token")) return false;
      return refreshTokens === "always" || code.scopes.has("offline_access");
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    // oidc-provider's own lifetimes, spelled out (it logs a notice for each one left to its default).
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      ...ttl,
    },
    // Errors the browser sees (an unknown client, an unregistered redirect_uri) on a plain page of the same kind.
    async renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = page("Sign-in error", `<h1>Sign-in error</h1><p role="alert">${escapeHtml(out.error)}: ${
        escapeHtml(out.error_description)}</p>`);
    },
  });

  callback = configured.callback();
  provider = configured;
  return { issuer, stop: () => server.stop() };
}

/** The login and consent pages, and what their forms post. */
async function interaction(provider, byEmail, req, res) {
  const [, , uid, action = ""] = new URL(req.url, "http://x").pathname.split("/");
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    sendHtml(res, 400, page("Sign-in expired", `<h1>Sign-in expired</h1><p role="alert">${escapeHtml(error.message)}:
      start again from the application.</p>`));
    return;
  }
  if (details.uid !== uid) {
    const text = "This page belongs to another sign-in in this browser: start again from the application.";
    sendHtml(res, 400, page("Wrong sign-in", `<h1>Wrong sign-in</h1><p role="alert">${text}</p>`));
    return;
  }
  const { prompt, params } = details;
  const clientName = params.client_id;

  if (req.method === "GET" && action === "") {
    if (prompt.name === "login") {
      sendHtml(res, 200, loginPage(uid, clientName, params.login_hint ?? ""));
    } else if (prompt.name === "consent") {
      sendHtml(res, 200, consentPage(uid, clientName, params.scope));
    } else {
      const text = `No page for the ${escapeHtml(prompt.name)} prompt.`;
      sendHtml(res, 400, page("Unknown step", `<p role="alert">${text}</p>`));
    }
    return;
  }

  if (req.method === "POST" && action === "login" && prompt.name === "login") {
    const form = await readForm(req);
    const email = form.get("email") ?? "";
    const account = byEmail.get(email.trim().toLowerCase());
    if (!account || account.password !== form.get("password")) {
      sendHtml(res, 200, loginPage(uid, clientName, email, "Wrong email or password."));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }

  if (req.method === "POST" && action === "consent" && prompt.name === "consent") {
    const form = await readForm(req);
    if (form.get("decision") !== "allow") {
      await provider.interactionFinished(req, res, {
        error: "access_denied",
        error_description: "End-User aborted interaction",
      }, { mergeWithLastSubmission: false });
      return;
    }
    // As oidc-provider's own example does: grant what the prompt says is missing, on the session's grant if any.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }

  // A form posted for a step that is over (the back button, a second tab): show the current step again.
  redirect(res, `/interaction/${uid}`);
}

function loginPage(uid, clientName, email, error) {
  return page("Sign in", `<h1>Sign in</h1>
<p>to continue to ${escapeHtml(clientName)}</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(email)}" required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>`);
}

function consentPage(uid, clientName, scope = "") {
  const scopes = scope.split(" ").filter(Boolean).map((s) => `<li>${escapeHtml(s)}</li>`).join("");
  return page("Allow access", `<h1>Allow access</h1>
<p>${escapeHtml(clientName)} asks for:</p>
<ul>${scopes}</ul>
<form method="post" action="/interaction/${escapeHtml(uid)}/consent">
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny">Deny</button>
</form>`);
}

/**
 * Goes through login and consent for `authorizationUrl` with fetch and a cookie jar (the dance at the top of this
 * file) and resolves to the URL the provider finally redirects to: the client's redirect_uri with `code` and `state`,
 * or with `error`. That URL is not requested. A wrong password rejects with the login page's error.
 */
export async function authorizeByHttp(authorizationUrl, { email, password, approve = true }) {
  let triedLogin = false;
  return walkPages(authorizationUrl, ["/auth", "/interaction/"], (form, html) => {
    if (form.action.pathname.endsWith("/login")) {
      if (triedLogin) throw new Error(`the provider refused the login of ${email}: ${alertOf(html)}`);
      triedLogin = true;
      return new URLSearchParams({ email, password });
    }
    if (form.action.pathname.endsWith("/consent")) {
      return new URLSearchParams({ decision: approve ? "allow" : "deny" });
    }
    throw new Error(`unexpected form posting to ${form.action.href}`);
  });
}

/** A PKCE pair: `verifier` for the token request, `challenge` (S256) for the authorization request. */
export function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/**
 * A whole code flow with PKCE as `client` (`{ clientId, clientSecret, redirectUris }`, or `redirectUri` to pick one)
 * signing in as `email`: resolves to the token endpoint's JSON (id_token, access_token, refresh_token, expires_in,
 * scope, token_type). With `offline_access` in `scope` it also sends `prompt=consent`, without which oidc-provider
 * drops that scope.
 */
export async function obtainTokens({ issuer, client, email, password, nonce, scope = "openid email profile" }) {
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const redirectUri = client.redirectUri ?? client.redirectUris[0];
  const { verifier, challenge } = pkcePair();
  const state = randomId();
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...(nonce ? { nonce } : {}),
    ...(scope.split(" ").includes("offline_access") ? { prompt: "consent" } : {}),
  });
  const back = new URL(await authorizeByHttp(url.href, { email, password }));
  if (back.searchParams.get("state") !== state) throw new Error(`state lost on the way back: ${back.href}`);
  const code = back.searchParams.get("code");
  if (!code) throw new Error(`no code: ${back.href}`);
  const response = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: { authorization: basicAuth(client.clientId, client.clientSecret) },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  const body = await response.json();
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** An `Authorization: Basic` value as RFC 6749 2.3.1 has it: id and secret form-encoded first. */
export function basicAuth(id, secret) {
  const encode = (value) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString("base64")}`;
}

function randomId() {
  return randomBytes(16).toString("base64url");
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  await runCli(
    () => {
      const [port = "0"] = optionValues(args, "--port");
      const [refreshTokens = "always"] = optionValues(args, "--refresh-tokens");
      const [accessTokenTtl] = optionValues(args, "--access-token-ttl");
      const [accounts] = optionValues(args, "--accounts");
      return startOidcProvider({
        port: Number(port),
        clients: optionValues(args, "--client").map(parseClient),
        refreshTokens,
        ...(accounts ? { accounts: JSON.parse(accounts) } : {}),
        ...(accessTokenTtl ? { ttl: { AccessToken: Number(accessTokenTtl) } } : {}),
      });
    },
    (provider) => ({ issuer: provider.issuer }),
  );
}
