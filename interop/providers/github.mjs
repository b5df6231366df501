// A stand-in for GitHub's OAuth app endpoints on 127.0.0.1, for Warden's "Sign in with GitHub" tests. GitHub is not
// OpenID Connect (no discovery, no ID token, no userinfo), so there is no certified server to run in its place: this
// is the harness's only stand-in, written from GitHub's documentation:
//
// - "Authorizing OAuth apps" (docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps): the web
//   application flow, its parameters, PKCE (code_challenge with code_challenge_method=S256 only) and the token
//   answer, form-encoded unless `Accept: application/json`, with `scope` comma-separated;
// - "Troubleshooting authorization request errors" and "Troubleshooting OAuth app access token request errors"
//   (docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/...): redirect_uri_mismatch and access_denied sent
//   back to the callback; incorrect_client_credentials, redirect_uri_mismatch and bad_verification_code answered with
//   HTTP 200;
// - the REST API's "Get the authenticated user" (docs.github.com/en/rest/users/users) and "List email addresses for
//   the authenticated user" (docs.github.com/en/rest/users/emails), at api.github.com's paths (/user, /user/emails)
//   and at GitHub Enterprise Server's (/api/v3/user, /api/v3/user/emails), `Authorization: Bearer` or `token`; like
//   GitHub, the API refuses requests without a User-Agent (403), and /user/emails needs the `user:email` or `user`
//   scope (404 without it).
//
// One base URL serves both styles: the OAuth pages (/login/oauth/...) are the same on GitHub.com and on Enterprise,
// where only the API moves to /api/v3. Where the stand-in is simpler than GitHub: redirect_uri must equal a
// registered one exactly (GitHub also takes subpaths of the callback URL), the Authorize page shows every time (GitHub
// skips it once a user has authorized the app with those scopes), codes last 10 minutes and work once, tokens never
// expire and there are no refresh tokens (as for OAuth apps).
//
// The dance for clients without a browser (authorizeByHttp below does exactly this; redirects off, a cookie store):
//
//   1. GET  {baseUrl}/login/oauth/authorize?client_id=..&redirect_uri=..&scope=read:user+user:email&state=..
//           &code_challenge=..&code_challenge_method=S256
//      -> 200, the sign-in page: <form method="post" action="/session"> with a hidden `return_to` (this URL).
//      An unknown client_id is a 404 page; an unregistered redirect_uri is a 303 to the first registered one with
//      error=redirect_uri_mismatch&error_description=..&error_uri=..&state=..; code_challenge_method other than S256
//      is a 303 to redirect_uri with error=invalid_request.
//   2. POST /session, application/x-www-form-urlencoded `login=..&password=..&return_to=..` (login: the username or
//      any of the user's addresses)
//      -> wrong: 200, the sign-in page again with "Incorrect username or password." in a role="alert" element;
//      -> right: 303 Location: return_to, setting cookie `user_session` (Path=/).
//   3. GET  return_to (the authorize URL again) -> 200, the Authorize page: <form method="post"
//      action="/login/oauth/authorize"> with hidden inputs carrying client_id, redirect_uri, scope, state,
//      code_challenge, code_challenge_method, and two buttons named `authorize`, valued `1` ("Authorize") and `0`
//      ("Cancel").
//   4. POST /login/oauth/authorize, the hidden inputs + `authorize=1` -> 303 Location: {redirect_uri}?code=..&state=..
//      (`authorize=0`: ?error=access_denied&error_description=..&error_uri=..&state=..).
//   5. POST /login/oauth/access_token `client_id=..&client_secret=..&code=..&redirect_uri=..&code_verifier=..` (form or
//      JSON; the client may use Basic auth instead) with `Accept: application/json`
//      -> 200 { access_token: "gho_..", token_type: "bearer", scope: "read:user,user:email" }.
//   6. GET  /user and /user/emails (or /api/v3/...) with `Authorization: Bearer gho_..` and a User-Agent.
//
//   node interop/providers/github.mjs --client <id>:<secret>:<redirect_uri>[,<redirect_uri>...] [--client ...]
//       [--port N] [--users '<JSON array>']
// prints {"baseUrl":"http://127.0.0.1:NNNN"} on stdout once it listens and runs until SIGTERM or SIGINT.

import { randomBytes, createHash, timingSafeEqual } from "node:crypto";

import {
  alertOf, escapeHtml, isMain, listen, optionValues, page, parseClient, readBody, redirect, runCli, sendHtml, sendJson,
  walkPages,
} from "./shared.mjs";

/**
 * The users a stand-in has unless told otherwise; each password is the login and " password". Ada's primary address
 * is verified and public; Mallory's is not verified; Grace keeps hers private, so /user answers `email: null` and
 * only /user/emails tells it, beside a second, verified, non-primary one.
 */
export const DEFAULT_USERS = Object.freeze([
  {
    id: 1001,
    login: "ada",
    name: "Ada Lovelace",
    email: "ada@example.com",
    password: "ada password",
    emails: [{ email: "ada@example.com", primary: true, verified: true }],
  },
  {
    id: 1002,
    login: "mallory",
    name: null,
    email: "mallory@example.com",
    password: "mallory password",
    emails: [{ email: "mallory@example.com", primary: true, verified: false }],
  },
  {
    id: 1003,
    login: "grace",
    name: "Grace Hopper",
    email: null,
    password: "grace password",
    emails: [
      { email: "grace@example.com", primary: true, verified: true },
      { email: "1003+grace@users.noreply.github.com", primary: false, verified: true },
    ],
  },
]);

const DOCS = "https://docs.github.com";
// The error_uri values GitHub sends, relative as in its documentation's examples.
const TOKEN_ERRORS = "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/";
const AUTHORIZE_ERRORS =
  "/apps/building-integrations/setting-up-and-registering-oauth-apps/troubleshooting-authorization-request-errors/";
const CODE_TTL_MS = 10 * 60 * 1000;

/**
 * Starts the stand-in and resolves to `{ baseUrl, stop() }`.
 *
 * - `clients`: `[{ clientId, clientSecret, redirectUris: [..] }]`, OAuth apps; the first redirect URI is the
 *   registered "Authorization callback URL", used when a request names none;
 * - `users`: `[{ id, login, name, email, password, emails: [{ email, primary, verified }] }]`, DEFAULT_USERS when
 *   left out; `email` is the public address /user shows (null for a private one).
 */
export async function startGithub({ port = 0, clients, users = DEFAULT_USERS } = {}) {
  if (!clients?.length) throw new Error("startGithub needs at least one client");
  const state = {
    clients: new Map(clients.map((client) => [client.clientId, client])),
    // Missing fields as GitHub would have them: no name, a private address, only the public address on file.
    users: users.map((user) => ({
      name: null,
      email: null,
      password: `${user.login} password`,
      ...user,
      emails: user.emails ?? (user.email ? [{ email: user.email, primary: true, verified: true }] : []),
    })),
    sessions: new Map(), // user_session cookie -> user
    codes: new Map(), // code -> { client, user, redirectUri, scopes, challenge, expires }
    tokens: new Map(), // access token -> { user, scopes }
  };
  let baseUrl;
  const server = await listen((req, res) => {
    handle(state, baseUrl, req, res).catch((error) => {
      console.error("github stand-in failed:", error);
      if (!res.headersSent) sendJson(res, 500, { message: error.message });
    });
  }, port);
  baseUrl = `http://127.0.0.1:${server.port}`;
  return { baseUrl, stop: () => server.stop() };
}

async function handle(state, baseUrl, req, res) {
  const url = new URL(req.url, baseUrl);
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const route = `${req.method} ${path}`;

  if (route === "GET /login/oauth/authorize") return authorizePage(state, url.searchParams, req, res);
  if (route === "POST /login/oauth/authorize") return authorizeDecision(state, await readBodyParams(req), req, res);
  if (route === "POST /session") return signIn(state, await readBodyParams(req), res);
  if (route === "POST /login/oauth/access_token") return accessToken(state, req, res);

  const api = /^(?:\/api\/v3)?(\/user(?:\/emails)?)$/.exec(path);
  if (api && req.method === "GET") return apiRequest(state, baseUrl, api[1], path.startsWith("/api/v3"), req, res);

  return sendJson(res, 404, { message: "Not Found", documentation_url: `${DOCS}/rest` });
}

// --- the browser side: sign-in and Authorize pages --------------------------------------------------------------

/**
 * Checks an authorization request's parameters; resolves to `{ client, redirectUri, scopes, ... }`, or answers the
 * request itself (404 page or error redirect) and resolves to undefined.
 */
function checkAuthorization(state, params, res) {
  const client = state.clients.get(params.get("client_id") ?? "");
  if (!client) {
    sendHtml(res, 404, page("Not Found", '<h1>Not Found</h1><p role="alert">No OAuth app has this client_id.</p>'));
    return undefined;
  }
  const appState = params.get("state") || null;
  const back = (to, query) => {
    const target = new URL(to);
    for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value);
    if (appState !== null) target.searchParams.set("state", appState);
    redirect(res, target.href);
  };
  const redirectUri = params.get("redirect_uri") || client.redirectUris[0];
  if (!client.redirectUris.includes(redirectUri)) {
    back(client.redirectUris[0], {
      error: "redirect_uri_mismatch",
      error_description: "The redirect_uri MUST match the registered callback URL for this application.",
      error_uri: `${AUTHORIZE_ERRORS}#redirect-uri-mismatch`,
    });
    return undefined;
  }
  // PKCE is optional at GitHub, but when used it is S256 with a challenge: GitHub does not support `plain`, which is
  // also what a challenge without a method would mean (RFC 7636 4.3).
  const challenge = params.get("code_challenge") || undefined;
  const method = params.get("code_challenge_method") || undefined;
  if ((challenge || method) && (method !== "S256" || !challenge)) {
    back(redirectUri, {
      error: "invalid_request",
      error_description: "code_challenge_method must be S256, with a code_challenge; plain is not supported.",
    });
    return undefined;
  }
  const scopes = (params.get("scope") ?? "").split(/[\s,]+/).filter(Boolean);
  return { client, redirectUri, scopes, appState, challenge, back };
}

function authorizePage(state, params, req, res) {
  const request = checkAuthorization(state, params, res);
  if (!request) return;
  const user = sessionUser(state, req);
  if (!user) {
    const returnTo = `/login/oauth/authorize?${params}`;
    sendHtml(res, 200, signInPage(returnTo, params.get("login") ?? ""));
    return;
  }
  const hidden = {
    client_id: request.client.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scopes.join(" "),
    state: request.appState ?? "",
    code_challenge: request.challenge ?? "",
    code_challenge_method: request.challenge ? "S256" : "",
  };
  const scopes = request.scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join("") || "<li>public data only</li>";
  const app = escapeHtml(request.client.clientId);
  sendHtml(res, 200, page(`Authorize ${request.client.clientId}`, `<h1>Authorize ${app}</h1>
<p>Signed in as <strong>${escapeHtml(user.login)}</strong>. ${app} wants:</p>
<ul>${scopes}</ul>
<form method="post" action="/login/oauth/authorize">
${Object.entries(hidden).map(([name, value]) => hiddenInput(name, value)).join("\n")}
  <button type="submit" name="authorize" value="1">Authorize</button>
  <button type="submit" name="authorize" value="0">Cancel</button>
</form>`));
}

function authorizeDecision(state, params, req, res) {
  const request = checkAuthorization(state, params, res);
  if (!request) return;
  const user = sessionUser(state, req);
  if (!user) {
    sendHtml(res, 200, signInPage(`/login/oauth/authorize?${params}`, ""));
    return;
  }
  if (params.get("authorize") !== "1") {
    request.back(request.redirectUri, {
      error: "access_denied",
      error_description: "The user has denied your application access.",
      error_uri: `${AUTHORIZE_ERRORS}#access-denied`,
    });
    return;
  }
  const code = randomBytes(10).toString("hex");
  state.codes.set(code, {
    client: request.client,
    user,
    redirectUri: request.redirectUri,
    scopes: request.scopes,
    challenge: request.challenge,
    expires: Date.now() + CODE_TTL_MS,
  });
  request.back(request.redirectUri, { code });
}

function signIn(state, params, res) {
  const login = (params.get("login") ?? "").trim().toLowerCase();
  const returnTo = params.get("return_to") ?? "/";
  const user = state.users.find(
    (candidate) =>
      candidate.login.toLowerCase() === login || candidate.emails.some((entry) => entry.email.toLowerCase() === login),
  );
  if (!user || user.password !== params.get("password")) {
    sendHtml(res, 200, signInPage(returnTo, params.get("login") ?? "", "Incorrect username or password."));
    return;
  }
  const session = randomBytes(24).toString("base64url");
  state.sessions.set(session, user);
  // Only paths of this server are followed, so a crafted return_to cannot send the browser elsewhere.
  const target = returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : "/";
  redirect(res, target, { "set-cookie": `user_session=${session}; Path=/; HttpOnly; SameSite=Lax` });
}

function sessionUser(state, req) {
  const cookie = (req.headers.cookie ?? "").split(";").map((part) => part.trim().split("="));
  const session = cookie.find(([name]) => name === "user_session")?.[1];
  return session ? state.sessions.get(session) : undefined;
}

function signInPage(returnTo, login, error) {
  return page("Sign in to GitHub", `<h1>Sign in to GitHub</h1>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/session">
${hiddenInput("return_to", returnTo)}
  <label for="login_field">Username or email address</label>
  <input id="login_field" name="login" type="text" autocomplete="username" value="${escapeHtml(login)}" required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>`);
}

function hiddenInput(name, value) {
  return `  <input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

// --- the server side: token endpoint and API --------------------------------------------------------------------

/** Form or JSON bodies, as GitHub takes both. */
async function readBodyParams(req) {
  const text = await readBody(req);
  if (/json/i.test(req.headers["content-type"] ?? "")) {
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      value = {};
    }
    const params = new URLSearchParams();
    for (const [key, entry] of Object.entries(value ?? {})) {
      if (entry !== null && entry !== undefined) params.set(key, String(entry));
    }
    return params;
  }
  return new URLSearchParams(text);
}

async function accessToken(state, req, res) {
  const params = await readBodyParams(req);
  const wantsJson = /application\/json/i.test(req.headers.accept ?? "");
  const answer = (value) => {
    if (wantsJson) {
      sendJson(res, 200, value);
    } else {
      const body = new URLSearchParams(value).toString();
      res.writeHead(200, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" });
      res.end(body);
    }
  };
  const fail = (error, description, anchor) =>
    answer({ error, error_description: description, error_uri: `${TOKEN_ERRORS}#${anchor}` });

  // Client credentials in the body, or in Basic auth either as they are (RFC 7617) or form-encoded (RFC 6749 2.3.1).
  let ids = [params.get("client_id") ?? ""];
  let secrets = [params.get("client_secret") ?? ""];
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (basic) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    ids = [decoded.slice(0, colon), formDecode(decoded.slice(0, colon))];
    secrets = [decoded.slice(colon + 1), formDecode(decoded.slice(colon + 1))];
  }
  const client = ids.map((id) => state.clients.get(id)).find(Boolean);
  if (!client || !secrets.some((secret) => sameText(client.clientSecret, secret))) {
    return fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.",
      "incorrect-client-credentials");
  }

  const code = params.get("code") ?? "";
  const grant = state.codes.get(code);
  const badCode = () =>
    fail("bad_verification_code", "The code passed is incorrect or expired.", "bad-verification-code");
  if (!grant || grant.client !== client || grant.expires < Date.now()) return badCode();
  const redirectUri = params.get("redirect_uri");
  if (redirectUri && redirectUri !== grant.redirectUri) {
    return fail(
      "redirect_uri_mismatch",
      "The redirect_uri MUST match the registered callback URL for this application.",
      "redirect-uri-mismatch2",
    );
  }
  if (grant.challenge) {
    const verifier = params.get("code_verifier") ?? "";
    const hashed = createHash("sha256").update(verifier).digest("base64url");
    // The code is spent either way, as a guessed verifier must not get a second try.
    if (!sameText(hashed, grant.challenge)) {
      state.codes.delete(code);
      return badCode();
    }
  }
  state.codes.delete(code);

  const token = `gho_${randomBytes(27).toString("base64url").replace(/[-_]/g, "0").slice(0, 36)}`;
  state.tokens.set(token, { user: grant.user, scopes: grant.scopes });
  answer({ access_token: token, token_type: "bearer", scope: grant.scopes.join(",") });
}

function apiRequest(state, baseUrl, resource, enterprise, req, res) {
  const headers = { "x-github-media-type": "github.v3; format=json" };
  if (!req.headers["user-agent"]) {
    res.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
    res.end("Request forbidden by administrative rules. Please make sure your request has a User-Agent header " +
      "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). " +
      "Check https://developer.github.com for other possible causes.\n");
    return;
  }
  const auth = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  const grant = auth ? state.tokens.get(auth[1]) : undefined;
  if (!grant) {
    const message = auth ? "Bad credentials" : "Requires authentication";
    sendJson(res, 401, { message, documentation_url: `${DOCS}/rest`, status: "401" }, headers);
    return;
  }
  headers["x-oauth-scopes"] = grant.scopes.join(", ");
  const { user } = grant;
  const api = enterprise ? `${baseUrl}/api/v3` : baseUrl;

  if (resource === "/user/emails") {
    if (!grant.scopes.includes("user:email") && !grant.scopes.includes("user")) {
      sendJson(res, 404, {
        message: "Not Found",
        documentation_url: `${DOCS}/rest/users/emails#list-email-addresses-for-the-authenticated-user`,
        status: "404",
      }, headers);
      return;
    }
    sendJson(res, 200, user.emails.map((entry) => ({
      email: entry.email,
      primary: entry.primary,
      verified: entry.verified,
      visibility: entry.primary ? (user.email === entry.email ? "public" : "private") : null,
    })), headers);
    return;
  }

  sendJson(res, 200, {
    login: user.login,
    id: user.id,
    node_id: Buffer.from(`04:User${user.id}`).toString("base64"),
    avatar_url: `${baseUrl}/avatars/u/${user.id}?v=4`,
    gravatar_id: "",
    url: `${api}/users/${user.login}`,
    html_url: `${baseUrl}/${user.login}`,
    type: "User",
    site_admin: false,
    name: user.name ?? null,
    company: null,
    blog: "",
    location: null,
    email: user.email ?? null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: "2011-01-25T18:44:36Z",
    updated_at: "2024-01-01T00:00:00Z",
  }, headers);
}

function formDecode(value) {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

function sameText(a, b) {
  const left = Buffer.from(String(a));
  const right = Buffer.from(String(b));
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Goes through GitHub's sign-in and Authorize pages for `authorizationUrl` with fetch and a cookie jar (the dance at
 * the top of this file) and resolves to the URL the stand-in finally redirects to: the app's redirect_uri with `code`
 * and `state`, or with `error`. That URL is not requested. A wrong password rejects with the sign-in page's error.
 * `login` is the username or any of the user's addresses.
 */
export async function authorizeByHttp(authorizationUrl, { login, password, approve = true }) {
  let triedLogin = false;
  return walkPages(authorizationUrl, ["/login/", "/session"], (form, html) => {
    if (form.action.pathname === "/session") {
      if (triedLogin) throw new Error(`the GitHub stand-in refused the sign-in of ${login}: ${alertOf(html)}`);
      triedLogin = true;
      return new URLSearchParams([...form.hidden, ["login", login], ["password", password]]);
    }
    if (form.action.pathname === "/login/oauth/authorize") {
      return new URLSearchParams([...form.hidden, ["authorize", approve ? "1" : "0"]]);
    }
    throw new Error(`unexpected form posting to ${form.action.href}`);
  });
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  await runCli(
    () => {
      const [port = "0"] = optionValues(args, "--port");
      const [users] = optionValues(args, "--users");
      return startGithub({
        port: Number(port),
        clients: optionValues(args, "--client").map(parseClient),
        ...(users ? { users: JSON.parse(users) } : {}),
      });
    },
    (github) => ({ baseUrl: github.baseUrl }),
  );
}
