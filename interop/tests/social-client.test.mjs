// Social sign-in with Better Auth's own npm client (`createAuthClient` from `better-auth/client`) against a Warden
// whose Google is a real OpenID Connect provider (panva's oidc-provider, through GOOGLE_ISSUER), whose GitHub is the
// harness's GitHub stand-in (GitHub is not OpenID Connect, so there is no certified server to run in its place) and
// which has one generic provider `oidc` (OAUTH_PROVIDERS). The provider's pages are walked over HTTP as a browser
// would; the client keeps its cookies in a jar, as a browser keeps them.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createAuthClient } from "better-auth/client";

import { PASSWORD } from "./helpers.mjs";
import {
  CLIENTS,
  PEOPLE,
  browserFor,
  completeAtProvider,
  mintTokens,
  nonce,
  signInAtProvider,
  startSocialWarden,
} from "./social-harness.mjs";

const SESSION_COOKIE = "better-auth.session_token";
const STATE_COOKIE = "better-auth.state";

let warden;
let failed = false;

before(async () => {
  warden = await startSocialWarden({ label: "social-client" });
});

after(async () => {
  await warden?.stop({ failed });
});

/** A browser with Better Auth's client in it: its cookie jar, a fetch sharing it, and the client. */
function browser() {
  const own = browserFor(warden);
  const client = createAuthClient({ baseURL: warden.url, fetchOptions: { customFetchImpl: own.fetch } });
  return { ...own, client };
}

/** Runs a test body, remembering a failure so that the services' logs are shown at the end. */
function check(body) {
  return async (t) => {
    try {
      await body(t);
    } catch (error) {
      failed = true;
      throw error;
    }
  };
}

/** `signIn.social` through the client, then the provider's pages and Warden's callback; the callback's answer. */
async function signInSocial(b, provider, person, body = {}) {
  const { data, error } = await b.client.signIn.social({ provider, ...body });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.redirect, true);
  assert.ok(b.jar.get(STATE_COOKIE), "the signed state cookie is set");
  return completeAtProvider(b, provider, data.url, person);
}

/** The provider's authorization endpoint each provider's URL must start with. */
function authorizationEndpoint(provider) {
  return provider === "github" ? `${warden.githubBaseUrl}/login/oauth/authorize?` : `${warden.issuer}/auth?`;
}

/** The accountId a provider gives its user: the OpenID subject, or GitHub's numeric id as text. */
function providerAccountId(provider, person) {
  return provider === "github" ? String(person.githubId) : person.sub;
}

/** The signed-in user's accounts through the client, without error. */
async function accounts(b) {
  const { data, error } = await b.client.listAccounts();
  assert.equal(error, null, JSON.stringify(error));
  return data;
}

/** Asserts a client error: the HTTP status and Better Auth's code. */
function assertError(error, status, code) {
  assert.ok(error, `expected ${status} ${code}, got success`);
  assert.equal(error.status, status, JSON.stringify(error));
  if (code !== undefined) assert.equal(error.code, code, JSON.stringify(error));
}

describe("social sign-in with the official Better Auth client", () => {
  for (const [provider, person] of [
    ["google", PEOPLE.ada],
    ["github", PEOPLE.grace],
    ["oidc", PEOPLE.alan],
  ]) {
    test(
      `signIn.social with ${provider} creates the user, and signing in again lands in the same user`,
      check(async () => {
        const first = browser();
        const { data } = await first.client.signIn.social({
          provider,
          callbackURL: "/dashboard",
          newUserCallbackURL: "/welcome",
        });
        assert.ok(data.url.startsWith(authorizationEndpoint(provider)), data.url);
        const url = new URL(data.url);
        assert.equal(url.searchParams.get("redirect_uri"), `${warden.url}/api/auth/callback/${provider}`);
        assert.equal(url.searchParams.get("client_id"), CLIENTS[provider].clientId);
        assert.equal(url.searchParams.get("code_challenge_method"), "S256");
        assert.equal(first.jar.get(STATE_COOKIE)?.split(".")[0], url.searchParams.get("state"));

        const back = await completeAtProvider(first, provider, data.url, person);
        assert.equal(back.status, 302);
        assert.equal(back.location, "/welcome", "a new user goes to newUserCallbackURL");
        assert.ok(first.jar.get(SESSION_COOKIE), "the callback sets the session cookie");
        assert.equal(first.jar.get(STATE_COOKIE), undefined, "the state cookie is spent");

        const session = await first.client.getSession();
        assert.equal(session.error, null);
        assert.equal(session.data.user.email, person.email);
        assert.equal(session.data.user.name, person.name);
        assert.equal(session.data.user.emailVerified, true);
        const [account] = await accounts(first);
        assert.equal(account.providerId, provider);
        assert.equal(account.accountId, providerAccountId(provider, person));
        assert.equal(account.userId, session.data.user.id);

        // A returning user from another browser: the callback URL, the same user.
        const second = browser();
        const again = await signInSocial(second, provider, person, {
          callbackURL: "/dashboard",
          newUserCallbackURL: "/welcome",
        });
        assert.equal(again.status, 302);
        assert.equal(again.location, "/dashboard");
        const later = await second.client.getSession();
        assert.equal(later.data.user.id, session.data.user.id);
        assert.notEqual(later.data.session.token, session.data.session.token);
        assert.equal((await accounts(second)).length, 1, "no second account row");
      }),
    );
  }

  test(
    "the state is bound to the browser that started the flow and used once",
    check(async () => {
      const started = browser();
      const { data } = await started.client.signIn.social({ provider: "oidc", errorCallbackURL: "/oops" });
      const back = await signInAtProvider("oidc", data.url, PEOPLE.barbara);

      // Another browser (no state cookie) brought to the same callback URL.
      const other = browser();
      const stolen = await other.fetch(back, { redirect: "manual" });
      assert.equal(stolen.status, 302);
      assert.equal(stolen.headers.get("location"), "/oops?error=state_mismatch");
      assert.equal(other.jar.get(SESSION_COOKIE), undefined);

      // The browser that started it completes it; its signed state cookie, sent again, finds nothing any more.
      const kept = started.jar.get(STATE_COOKIE);
      const own = await started.fetch(back, { redirect: "manual" });
      assert.equal(own.status, 302);
      assert.ok(started.jar.get(SESSION_COOKIE));
      const replay = await fetch(back, { redirect: "manual", headers: { cookie: `${STATE_COOKIE}=${kept}` } });
      assert.equal(replay.status, 302);
      assert.equal(replay.headers.get("location"), `${warden.url}/api/auth/error?error=state_mismatch`);
    }),
  );

  test(
    "a refusal at the provider's consent page comes back as Better Auth's ?error= redirect",
    check(async () => {
      const b = browser();
      const { data } = await b.client.signIn.social({ provider: "google", errorCallbackURL: "/oops" });
      const back = await completeAtProvider(b, "google", data.url, PEOPLE.edsger, { approve: false });
      assert.equal(back.status, 302);
      const location = new URL(back.location, warden.url);
      assert.equal(location.pathname, "/oops");
      assert.equal(location.searchParams.get("error"), "access_denied");
      assert.equal(location.searchParams.get("error_description"), "End-User aborted interaction");
      assert.equal(b.jar.get(SESSION_COOKIE), undefined);
    }),
  );

  test(
    "an address the provider does not vouch for never signs in to the existing user of that address",
    check(async () => {
      // Someone registered mallory@example.com with a password; the provider has the address unverified.
      const owner = browser();
      const signUp = await owner.client.signUp.email({
        name: "Address Owner",
        email: PEOPLE.mallory.email,
        password: PASSWORD,
      });
      assert.equal(signUp.error, null);
      for (const provider of ["oidc", "github"]) {
        const b = browser();
        const { data } = await b.client.signIn.social({ provider, errorCallbackURL: "/oops" });
        const back = await completeAtProvider(b, provider, data.url, PEOPLE.mallory);
        assert.equal(back.status, 302);
        assert.equal(back.location, "/oops?error=account_not_linked", provider);
        assert.equal(b.jar.get(SESSION_COOKIE), undefined);
      }
      // Nor by the provider's ID token: Better Auth's OAUTH_LINK_ERROR with its internal text.
      const minted = await mintTokens(warden, PEOPLE.mallory);
      const byIdToken = await browser().client.signIn.social({ provider: "google", idToken: { token: minted.id_token } });
      assertError(byIdToken.error, 401, "OAUTH_LINK_ERROR");
      assert.equal(byIdToken.error.message, "account not linked");

      // Nor does the owner link it: the provider does not vouch for the address, by redirect or by ID token.
      const { data } = await owner.client.linkSocial({ provider: "oidc", errorCallbackURL: "/link-error" });
      const back = await completeAtProvider(owner, "oidc", data.url, PEOPLE.mallory);
      assert.equal(back.location, "/link-error?error=unable_to_link_account");
      // (With a nonce: the same person's nonce-less tokens minted within one second are the same token, used above.)
      const n = nonce();
      const tokens = await mintTokens(warden, PEOPLE.mallory, { nonce: n });
      const unvouched = await owner.client.linkSocial({ provider: "google", idToken: { token: tokens.id_token, nonce: n } });
      assertError(unvouched.error, 401, "LINKING_NOT_ALLOWED");
      assert.equal((await accounts(owner)).length, 1, "still only the password account");
    }),
  );

  test(
    "linkSocial links providers to a password user, listAccounts shows them, unlinkAccount removes them but not the last",
    check(async () => {
      const b = browser();
      const person = PEOPLE.frances;
      const signUp = await b.client.signUp.email({ name: person.name, email: person.email, password: PASSWORD });
      assert.equal(signUp.error, null);
      const sessionToken = b.jar.get(SESSION_COOKIE);
      const [credential] = await accounts(b);
      assert.equal(credential.providerId, "credential");
      assert.deepEqual(credential.scopes, []);

      for (const provider of ["oidc", "github"]) {
        const { data, error } = await b.client.linkSocial({ provider, callbackURL: "/settings" });
        assert.equal(error, null, JSON.stringify(error));
        assert.equal(data.redirect, true);
        assert.ok(data.url.startsWith(authorizationEndpoint(provider)), data.url);
        const back = await completeAtProvider(b, provider, data.url, person);
        assert.equal(back.status, 302);
        assert.equal(back.location, "/settings");
        assert.equal(b.jar.get(SESSION_COOKIE), sessionToken, "linking opens no new session");
      }

      const listed = await accounts(b);
      assert.deepEqual(
        listed.map((account) => account.providerId),
        ["credential", "oidc", "github"],
      );
      const byProvider = Object.fromEntries(listed.map((account) => [account.providerId, account]));
      assert.equal(byProvider.oidc.accountId, person.sub);
      assert.deepEqual(byProvider.oidc.scopes, ["openid", "email", "profile"]);
      assert.equal(byProvider.github.accountId, String(person.githubId));
      assert.deepEqual(byProvider.github.scopes, ["read:user", "user:email"]);
      for (const account of listed) {
        assert.deepEqual(Object.keys(account).sort(), [
          "accountId",
          "createdAt",
          "id",
          "providerId",
          "scopes",
          "updatedAt",
          "userId",
        ]);
        assert.ok(account.createdAt instanceof Date, "dates revive");
      }

      // The linked provider signs the same user in.
      const elsewhere = browser();
      await signInSocial(elsewhere, "github", person);
      assert.equal((await elsewhere.client.getSession()).data.user.id, signUp.data.user.id);

      const unknown = await b.client.unlinkAccount({ accountId: "no-such-account" });
      assertError(unknown.error, 400, "ACCOUNT_NOT_FOUND");
      for (const account of [byProvider.github, byProvider.credential]) {
        const { data, error } = await b.client.unlinkAccount({ accountId: account.id });
        assert.equal(error, null, JSON.stringify(error));
        assert.deepEqual(data, { status: true });
      }
      assert.deepEqual(
        (await accounts(b)).map((account) => account.id),
        [byProvider.oidc.id],
      );
      const last = await b.client.unlinkAccount({ accountId: byProvider.oidc.id });
      assertError(last.error, 400, "FAILED_TO_UNLINK_LAST_ACCOUNT");
      assert.equal(last.error.message, "You can't unlink your last account");
      assert.equal((await accounts(b)).length, 1);
    }),
  );

  test(
    "linkSocial refuses a provider account with another address, through the provider and by ID token",
    check(async () => {
      const b = browser();
      const person = PEOPLE.hedy;
      assert.equal((await b.client.signUp.email({ name: person.name, email: person.email, password: PASSWORD })).error, null);

      // Through the provider: another person's account at the provider.
      const { data } = await b.client.linkSocial({ provider: "oidc", errorCallbackURL: "/link-error" });
      const back = await completeAtProvider(b, "oidc", data.url, PEOPLE.john);
      assert.equal(back.status, 302);
      assert.equal(back.location, "/link-error?error=email_does_not_match");

      // With an ID token: another address, then an address the provider does not vouch for.
      const johns = await mintTokens(warden, PEOPLE.john);
      const different = await b.client.linkSocial({ provider: "google", idToken: { token: johns.id_token } });
      assertError(different.error, 401, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED");
      assert.equal((await accounts(b)).length, 1);
    }),
  );

  test(
    "linkSocial with an ID token links at once, and a second time is refused for another user",
    check(async () => {
      const b = browser();
      const person = PEOPLE.katherine;
      const signUp = await b.client.signUp.email({ name: person.name, email: person.email, password: PASSWORD });
      assert.equal(signUp.error, null);
      const n = nonce();
      const tokens = await mintTokens(warden, person, { nonce: n });
      const { data, error } = await b.client.linkSocial({
        provider: "google",
        idToken: { token: tokens.id_token, nonce: n, accessToken: tokens.access_token },
      });
      assert.equal(error, null, JSON.stringify(error));
      assert.deepEqual(data, { url: "", status: true, redirect: false });
      const google = (await accounts(b)).find((account) => account.providerId === "google");
      assert.equal(google.accountId, person.sub);
      const token = await b.client.getAccessToken({ accountId: google.id });
      assert.equal(token.error, null, JSON.stringify(token.error));
      assert.equal(token.data.accessToken, tokens.access_token, "the access token the app sent is stored");

      const other = browser();
      const otherUp = await other.client.signUp.email({
        name: person.name,
        email: `katherine-${Date.now()}@example.com`,
        password: PASSWORD,
      });
      assert.equal(otherUp.error, null);
      const taken = await other.client.linkSocial({ provider: "google", idToken: { token: tokens.id_token, nonce: n } });
      assertError(taken.error, 409, "SOCIAL_ACCOUNT_ALREADY_LINKED");
      assert.equal(taken.error.message, "Social account already linked");
    }),
  );

  test(
    "signIn.social with an ID token the provider minted signs in, checks the nonce, and refuses GitHub",
    check(async () => {
      const person = PEOPLE.linus;
      const n = nonce();
      const tokens = await mintTokens(warden, person, { nonce: n });

      const wrong = browser();
      const refused = await wrong.client.signIn.social({ provider: "google", idToken: { token: tokens.id_token, nonce: "other" } });
      assertError(refused.error, 401, "INVALID_TOKEN");
      assert.equal(refused.error.message, "Invalid token");
      assert.equal(wrong.jar.get(SESSION_COOKIE), undefined);

      const b = browser();
      const { data, error } = await b.client.signIn.social({
        provider: "google",
        idToken: { token: tokens.id_token, nonce: n, accessToken: tokens.access_token },
      });
      assert.equal(error, null, JSON.stringify(error));
      assert.equal(data.redirect, false);
      assert.match(data.token, /^[A-Za-z0-9]{32}$/);
      assert.equal(data.url, undefined);
      assert.equal(data.user.email, person.email);
      assert.equal(data.user.emailVerified, true);
      assert.ok(b.jar.get(SESSION_COOKIE)?.startsWith(`${data.token}.`));
      const session = await b.client.getSession();
      assert.equal(session.data.user.id, data.user.id);

      // The generic provider takes an ID token minted for its own client.
      const generic = await mintTokens(warden, person, { client: "oidc", nonce: n });
      const viaGeneric = await browser().client.signIn.social({ provider: "oidc", idToken: { token: generic.id_token, nonce: n } });
      assert.equal(viaGeneric.error, null, JSON.stringify(viaGeneric.error));
      assert.equal(viaGeneric.data.user.id, data.user.id, "the same address, verified by the provider: the same user");
      // ...but not one minted for Google's client (another audience).
      const foreign = await browser().client.signIn.social({ provider: "oidc", idToken: { token: tokens.id_token, nonce: n } });
      assertError(foreign.error, 401, "INVALID_TOKEN");

      const github = await browser().client.signIn.social({ provider: "github", idToken: { token: tokens.id_token } });
      assertError(github.error, 404, "ID_TOKEN_NOT_SUPPORTED");
      assert.equal(github.error.message, "id_token not supported");
    }),
  );

  test(
    "an ID token without a nonce signs in once only (Warden is stricter than Better Auth here)",
    check(async () => {
      const tokens = await mintTokens(warden, PEOPLE.barbara);
      const first = await browser().client.signIn.social({ provider: "google", idToken: { token: tokens.id_token } });
      assert.equal(first.error, null, JSON.stringify(first.error));
      const replay = await browser().client.signIn.social({ provider: "google", idToken: { token: tokens.id_token } });
      assertError(replay.error, 401, "INVALID_TOKEN");
    }),
  );

  test(
    "getAccessToken, refreshToken and accountInfo answer for the generic provider's account",
    check(async () => {
      const b = browser();
      const person = PEOPLE.john;
      await signInSocial(b, "oidc", person);
      const [account] = await accounts(b);

      const { data: token, error } = await b.client.getAccessToken({ accountId: account.id });
      assert.equal(error, null, JSON.stringify(error));
      assert.equal(typeof token.accessToken, "string");
      assert.deepEqual(token.scopes, ["openid", "email", "profile"]);
      assert.ok(token.accessTokenExpiresAt instanceof Date, `accessTokenExpiresAt is ${token.accessTokenExpiresAt}`);
      assert.ok(token.accessTokenExpiresAt.getTime() > Date.now());
      assert.equal(token.idToken.split(".").length, 3);
      assert.deepEqual(await userinfo(token.accessToken), { status: 200, sub: person.sub });

      const { data: fresh, error: refreshError } = await b.client.refreshToken({ accountId: account.id });
      assert.equal(refreshError, null, JSON.stringify(refreshError));
      assert.notEqual(fresh.accessToken, token.accessToken);
      assert.equal(typeof fresh.refreshToken, "string");
      assert.equal(fresh.providerId, "oidc");
      assert.equal(fresh.accountId, account.id);
      assert.equal(fresh.scope, "openid,email,profile");
      assert.equal(fresh.refreshTokenExpiresAt, null);
      assert.deepEqual(await userinfo(fresh.accessToken), { status: 200, sub: person.sub });
      const after = await b.client.getAccessToken({ accountId: account.id });
      assert.equal(after.data.accessToken, fresh.accessToken, "the refreshed token is the stored one");

      const { data: info, error: infoError } = await b.client.accountInfo({ query: { accountId: account.id } });
      assert.equal(infoError, null, JSON.stringify(infoError));
      assert.deepEqual(info.user, {
        email: person.email,
        emailVerified: true,
        image: person.picture,
        name: person.name,
      });
      assert.equal(info.data.sub, person.sub);
      assert.equal(info.data.email, person.email);
      assert.deepEqual(info.account, { id: account.id, providerId: "oidc", accountId: person.sub });
    }),
  );

  test(
    "getAccessToken and accountInfo for Google and GitHub accounts, and GitHub's missing refresh token",
    check(async () => {
      const b = browser();
      const person = PEOPLE.edsger;
      await signInSocial(b, "google", person);
      await signInSocial(b, "github", person);
      const byProvider = Object.fromEntries((await accounts(b)).map((account) => [account.providerId, account]));

      const google = await b.client.getAccessToken({ accountId: byProvider.google.id });
      assert.equal(google.error, null, JSON.stringify(google.error));
      assert.deepEqual([...google.data.scopes].sort(), ["email", "openid", "profile"]);
      assert.deepEqual(await userinfo(google.data.accessToken), { status: 200, sub: person.sub });
      const googleInfo = await b.client.accountInfo({ query: { accountId: byProvider.google.id } });
      assert.equal(googleInfo.error, null, JSON.stringify(googleInfo.error));
      assert.equal(googleInfo.data.user.email, person.email);
      assert.equal(googleInfo.data.data.sub, person.sub, "Google's data is the ID token's claims");
      assert.equal(googleInfo.data.data.aud, CLIENTS.google.clientId);

      const github = await b.client.getAccessToken({ accountId: byProvider.github.id });
      assert.equal(github.error, null, JSON.stringify(github.error));
      assert.deepEqual(github.data.scopes, ["read:user", "user:email"]);
      assert.equal(github.data.accessTokenExpiresAt, undefined, "GitHub's tokens do not expire");
      const user = await fetch(`${warden.githubBaseUrl}/user`, {
        headers: { authorization: `Bearer ${github.data.accessToken}`, "user-agent": "warden-interop" },
      });
      assert.equal((await user.json()).login, person.github.login);
      const githubInfo = await b.client.accountInfo({ query: { accountId: byProvider.github.id } });
      assert.equal(githubInfo.error, null, JSON.stringify(githubInfo.error));
      assert.deepEqual(githubInfo.data.user, {
        name: person.name,
        email: person.email,
        image: githubInfo.data.data.avatar_url,
        emailVerified: true,
      });
      assert.equal(githubInfo.data.data.login, person.github.login);
      assert.equal(githubInfo.data.account.accountId, String(person.githubId));
      const refresh = await b.client.refreshToken({ accountId: byProvider.github.id });
      assertError(refresh.error, 400, "REFRESH_TOKEN_NOT_FOUND");
    }),
  );

  test(
    "Better Auth's error codes come through the client",
    check(async () => {
      const anonymous = browser();
      const unknown = await anonymous.client.signIn.social({ provider: "nosuch" });
      assertError(unknown.error, 404, "PROVIDER_NOT_FOUND");
      const evil = await anonymous.client.signIn.social({ provider: "google", callbackURL: "https://evil.example/" });
      assertError(evil.error, 403, "INVALID_CALLBACK_URL");
      const evilError = await anonymous.client.signIn.social({
        provider: "google",
        errorCallbackURL: "https://evil.example/",
      });
      assertError(evilError.error, 403, "INVALID_ERROR_CALLBACK_URL");
      const reserved = await anonymous.client.signIn.social({
        provider: "google",
        additionalParams: { redirect_uri: "https://evil.example/" },
      });
      assertError(reserved.error, 400, "VALIDATION_ERROR");
      assertError((await anonymous.client.listAccounts()).error, 401, "UNAUTHORIZED");
      assertError((await anonymous.client.linkSocial({ provider: "google" })).error, 401, "UNAUTHORIZED");
      assertError((await anonymous.client.unlinkAccount({ accountId: "x" })).error, 401, "UNAUTHORIZED");
      // These three answer a bare 401, as Better Auth does.
      assertError((await anonymous.client.getAccessToken({ accountId: "x" })).error, 401);
      assertError((await anonymous.client.refreshToken({ accountId: "x" })).error, 401);
      assertError((await anonymous.client.accountInfo({ query: { accountId: "x" } })).error, 401);

      const b = browser();
      assert.equal(
        (await b.client.signUp.email({ name: "Someone", email: `codes-${Date.now()}@example.com`, password: PASSWORD }))
          .error,
        null,
      );
      assertError((await b.client.linkSocial({ provider: "nosuch" })).error, 404, "PROVIDER_NOT_FOUND");
      assertError((await b.client.getAccessToken({ accountId: "nope" })).error, 400, "ACCOUNT_NOT_FOUND");
      assertError((await b.client.refreshToken({ accountId: "nope" })).error, 400, "ACCOUNT_NOT_FOUND");
      assertError((await b.client.accountInfo({ query: { accountId: "nope" } })).error, 400, "ACCOUNT_NOT_FOUND");
      const [credential] = await accounts(b);
      assertError((await b.client.unlinkAccount({ accountId: credential.id })).error, 400, "FAILED_TO_UNLINK_LAST_ACCOUNT");
    }),
  );
});

/** The provider's userinfo answer for an access token: its status and subject. */
async function userinfo(accessToken) {
  const discovery = await (await fetch(`${warden.issuer}/.well-known/openid-configuration`)).json();
  const response = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  const body = await response.json();
  return { status: response.status, sub: body.sub };
}
