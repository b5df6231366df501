// What the social sign-in interop tests share: a Warden of their own whose Google is the local OpenID Connect
// provider (panva's oidc-provider, through GOOGLE_ISSUER), whose GitHub is the GitHub stand-in (GITHUB_BASE_URL) and
// which has one generic provider `oidc` (OAUTH_PROVIDERS, discovered at the same local provider with a client of its
// own), every callback URL `<BASE_URL>/api/auth/callback/<provider>` registered; and helpers that walk a provider's
// login and consent pages over HTTP and bring the redirect back to Warden with a browser's cookie jar.
//
// It is a Warden of its own (not interop/run's) because the providers must know Warden's callback URLs before Warden
// starts, and Warden must know the providers' addresses in its settings.

import { randomBytes } from "node:crypto";

import { startGithub, authorizeByHttp as githubAuthorize } from "../providers/github.mjs";
import { startOidcProvider, authorizeByHttp as oidcAuthorize, obtainTokens } from "../providers/oidc.mjs";
import { CookieJar } from "./helpers.mjs";
import {
  Cleanup,
  freePort,
  scratchDatabase,
  scratchRedisPrefix,
  showLogs,
  startWarden,
  wardenEnv,
} from "./processes.mjs";

/** The provider clients Warden is registered as. Not secrets of anything real. */
export const CLIENTS = Object.freeze({
  google: { clientId: "warden-google.apps.googleusercontent.com", clientSecret: "google client secret" },
  github: { clientId: "warden-github-app", clientSecret: "github client secret" },
  oidc: { clientId: "warden-generic", clientSecret: "generic client secret" },
});

/**
 * The people who can sign in, each with the same address at the OpenID Connect provider (sub = the first name) and at
 * the GitHub stand-in (login = the first name, id 1001, 1002, ...), password `<first name> password` at both.
 * Mallory's address is unverified at both; everyone else's is verified. Each test takes people no other test in its
 * file uses, since they share one Warden.
 */
const NAMES = ["ada", "grace", "alan", "barbara", "edsger", "frances", "hedy", "john", "katherine", "linus", "mallory"];
export const PEOPLE = Object.freeze(
  Object.fromEntries(
    NAMES.map((first, index) => {
      const email = `${first}@example.com`;
      const name = `${first[0].toUpperCase()}${first.slice(1)} Example`;
      const password = `${first} password`;
      return [
        first,
        Object.freeze({
          sub: first,
          githubId: 1001 + index,
          email,
          name,
          verified: first !== "mallory",
          picture: `https://images.example.com/${first}.png`,
          oidc: { email, password },
          github: { login: first, password },
        }),
      ];
    }),
  ),
);

const oidcAccounts = () =>
  Object.values(PEOPLE).map((person) => ({
    sub: person.sub,
    email: person.email,
    emailVerified: person.verified,
    name: person.name,
    picture: person.picture,
    password: person.oidc.password,
  }));

const githubUsers = () =>
  Object.values(PEOPLE).map((person) => ({
    id: person.githubId,
    login: person.github.login,
    name: person.name,
    email: person.email,
    password: person.github.password,
    emails: [{ email: person.email, primary: true, verified: person.verified }],
  }));

/**
 * Starts the OpenID Connect provider and the GitHub stand-in for a Warden (or a Better Auth) whose public URL is
 * `url`, its callback URLs `<url>/api/auth/callback/<provider>` registered for every client; each is stopped by
 * `cleanup`. Resolves to `{ issuer, githubBaseUrl }`. `oidcOptions` goes to startOidcProvider
 * (e.g. `{ ttl: { AccessToken: 5 } }`).
 */
export async function startProviders(cleanup, url, oidcOptions = {}) {
  const callback = (provider) => `${url}/api/auth/callback/${provider}`;
  const oidc = await startOidcProvider({
    accounts: oidcAccounts(),
    ...oidcOptions,
    clients: [
      { ...CLIENTS.google, redirectUris: [callback("google")] },
      { ...CLIENTS.oidc, redirectUris: [callback("oidc")] },
    ],
  });
  cleanup.add(() => oidc.stop());
  const github = await startGithub({
    clients: [{ ...CLIENTS.github, redirectUris: [callback("github")] }],
    users: githubUsers(),
  });
  cleanup.add(() => github.stop());
  return { issuer: oidc.issuer, githubBaseUrl: github.baseUrl };
}

/** Warden's settings for the providers of startProviders: Google, GitHub and the generic `oidc`. */
export function socialSettings({ issuer, githubBaseUrl }) {
  return {
    GOOGLE_CLIENT_ID: CLIENTS.google.clientId,
    GOOGLE_CLIENT_SECRET: CLIENTS.google.clientSecret,
    GOOGLE_ISSUER: issuer,
    GITHUB_CLIENT_ID: CLIENTS.github.clientId,
    GITHUB_CLIENT_SECRET: CLIENTS.github.clientSecret,
    GITHUB_BASE_URL: githubBaseUrl,
    OAUTH_PROVIDERS: "oidc",
    OAUTH_OIDC_DISCOVERY_URL: `${issuer}/.well-known/openid-configuration`,
    OAUTH_OIDC_CLIENT_ID: CLIENTS.oidc.clientId,
    OAUTH_OIDC_CLIENT_SECRET: CLIENTS.oidc.clientSecret,
  };
}

/**
 * Starts the providers and a Warden configured with all three of them, on free loopback ports, with a database and
 * Redis prefix of its own. Resolves to `{ url, authAddr, issuer, githubBaseUrl, secret, databaseUrl, services,
 * stop() }`; `stop()` takes everything down again (and prints the services' logs first when `failed`). `settings`
 * adds to or overrides Warden's.
 */
export async function startSocialWarden({ label = "social", settings = {}, oidcOptions = {} } = {}) {
  const cleanup = new Cleanup();
  const services = [];
  try {
    const gatewayPort = await freePort();
    const url = `http://127.0.0.1:${gatewayPort}`;
    const providers = await startProviders(cleanup, url, oidcOptions);
    const secret = settings.AUTH_SECRET ?? randomBytes(32).toString("base64");
    const databaseUrl = await scratchDatabase(cleanup, label.replace(/\W/g, "_"));
    const env = await wardenEnv({
      databaseUrl,
      redisPrefix: scratchRedisPrefix(cleanup, label),
      gatewayPort,
      settings: { AUTH_SECRET: secret, BASE_URL: url, ...socialSettings(providers), ...settings },
    });
    await startWarden(env, services, cleanup);
    return {
      url,
      authAddr: env.AUTH_ADDR,
      ...providers,
      secret,
      databaseUrl,
      services,
      async stop({ failed = false } = {}) {
        if (failed) showLogs(services);
        await cleanup.run();
      },
    };
  } catch (error) {
    showLogs(services);
    await cleanup.run();
    throw error;
  }
}

/** A browser: a cookie jar and a fetch on Warden's origin that keeps it. */
export function browserFor(warden) {
  const jar = new CookieJar();
  return { jar, fetch: jar.fetch(warden.url) };
}

/**
 * Signs a person in at a provider's pages for `authorizationUrl` and resolves to the URL the provider sends the
 * browser back to (Warden's callback with `code` and `state`, or with `error`), not yet requested.
 * `provider`: `google` and `oidc` are the OpenID Connect provider, `github` the stand-in.
 */
export function signInAtProvider(provider, authorizationUrl, person, { approve = true } = {}) {
  if (provider === "github") return githubAuthorize(authorizationUrl, { ...person.github, approve });
  return oidcAuthorize(authorizationUrl, { ...person.oidc, approve });
}

/**
 * The whole browser round trip after Warden answered an authorization URL: the provider's pages, then the callback
 * requested with the browser's cookies (the signed state cookie). Resolves to `{ status, location, response }` of
 * the callback, whose cookies the jar has kept.
 */
export async function completeAtProvider(browser, provider, authorizationUrl, person, options) {
  const back = await signInAtProvider(provider, authorizationUrl, person, options);
  const response = await browser.fetch(back, { redirect: "manual" });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get("location"), response, back };
}

/**
 * An ID token the local provider minted for Warden's Google client (so its `aud` is Warden's Google client id), for
 * the native-app sign-in; `nonce` is put into the authorization request when given. Resolves to the token
 * endpoint's JSON (id_token, access_token, refresh_token, ...).
 */
export function mintTokens(warden, person, { client = "google", nonce } = {}) {
  return obtainTokens({
    issuer: warden.issuer,
    client: { ...CLIENTS[client], redirectUri: `${warden.url}/api/auth/callback/${client}` },
    ...person.oidc,
    nonce,
  });
}

/** A nonce as a native app makes one. */
export function nonce() {
  return randomBytes(16).toString("base64url");
}
