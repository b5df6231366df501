// Taking over a Better Auth deployment whose users sign in with an OpenID Connect provider: the real Better Auth 1.7
// (better-auth-peer.mjs, its genericOAuth plugin with the provider `oidc`) signs users in through the local provider
// (panva's oidc-provider) and links one to a password user, writing its own `account` rows, once with the provider
// tokens in plain text and once with `account.encryptOAuthTokens: true`. Then Warden's services start on that
// database with the same secret and public URL: the old sessions list the same accounts, the tokens Better Auth
// stored are read back (and refreshed) as Better Auth answered them, and the users sign in with the provider again
// and land in the same user.
//
// Each case brings up its own database, provider, Better Auth and Warden on free loopback ports, and takes them all
// down again, failed or not. It needs nothing from the Warden that interop/run starts.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";

import { startBetterAuth } from "../better-auth-peer.mjs";
import { CookieJar, PASSWORD } from "./helpers.mjs";
import {
  Cleanup,
  freePort,
  rows,
  scratchDatabase,
  scratchRedisPrefix,
  showLogs,
  startWarden,
  wardenEnv,
} from "./processes.mjs";
import { CLIENTS, PEOPLE, signInAtProvider, socialSettings, startProviders } from "./social-harness.mjs";

const SESSION_COOKIE = "better-auth.session_token";

for (const encryptOAuthTokens of [false, true]) {
  const tokens = encryptOAuthTokens ? "encrypted (account.encryptOAuthTokens)" : "in plain text";
  test(`Warden takes over the social accounts Better Auth wrote, provider tokens ${tokens}`, { timeout: 300_000 }, () =>
    takeOver({ encryptOAuthTokens }),
  );
}

async function takeOver({ encryptOAuthTokens }) {
  const cleanup = new Cleanup();
  const services = [];
  try {
    const databaseUrl = await scratchDatabase(cleanup, "social_takeover");
    const secret = randomBytes(32).toString("base64");
    // The public URL, and so the callback URL registered at the provider, stays the same across the cut-over.
    const gatewayPort = await freePort();
    const publicUrl = `http://127.0.0.1:${gatewayPort}`;
    const providers = await startProviders(cleanup, publicUrl);

    // --- Before: Better Auth ----------------------------------------------------------------------------------------
    const betterAuth = await startBetterAuth({
      databaseUrl,
      secret,
      baseURL: publicUrl,
      social: { providerId: "oidc", issuer: providers.issuer, ...CLIENTS.oidc, encryptOAuthTokens },
    });
    cleanup.add(betterAuth.stop);
    // A browser on the public URL; until the cut-over, what is sent there goes to where Better Auth listens.
    const at = (base) => (jar) => (path, init = {}) => jar.fetch(publicUrl)(`${base}${path}`, { redirect: "manual", ...init });
    const beforeCutOver = at(betterAuth.url);
    const afterCutOver = at(publicUrl);

    // Ada signs up with the provider; Grace has a password and links her provider account.
    const ada = { person: PEOPLE.ada, jar: new CookieJar() };
    const signedIn = await socialSignIn(beforeCutOver(ada.jar), ada.person, "/dashboard");
    assert.equal(signedIn.location, "/dashboard");
    const adaSession = await json(beforeCutOver(ada.jar)("/api/auth/get-session"));
    ada.id = adaSession.user.id;
    assert.equal(adaSession.user.email, ada.person.email);

    const grace = { person: PEOPLE.grace, jar: new CookieJar() };
    const signUp = await beforeCutOver(grace.jar)("/api/auth/sign-up/email", post({
      name: grace.person.name,
      email: grace.person.email,
      password: PASSWORD,
    }));
    assert.equal(signUp.status, 200);
    grace.id = (await signUp.json()).user.id;
    const link = await json(beforeCutOver(grace.jar)("/api/auth/link-social", post({ provider: "oidc", callbackURL: "/settings" })));
    const linked = await comeBack(beforeCutOver(grace.jar), await signInAtProvider("oidc", link.url, grace.person));
    assert.equal(linked.location, "/settings");

    // What Better Auth answers about those accounts, to hold Warden's answers against.
    const answersOf = async (side, user) => {
      const accounts = await text(side(user.jar)("/api/auth/list-accounts"));
      const account = JSON.parse(accounts).find((row) => row.providerId === "oidc");
      return {
        accounts,
        account,
        accessToken: await text(side(user.jar)("/api/auth/get-access-token", post({ accountId: account.id }))),
        accountInfo: await text(side(user.jar)(`/api/auth/account-info?accountId=${account.id}`)),
      };
    };
    const betterAuths = { ada: await answersOf(beforeCutOver, ada), grace: await answersOf(beforeCutOver, grace) };
    const betterAuthRefresh = await text(
      beforeCutOver(grace.jar)("/api/auth/refresh-token", post({ accountId: betterAuths.grace.account.id })),
    );
    // The refresh rewrote Grace's row (tokens, updatedAt): her answers again.
    betterAuths.grace = await answersOf(beforeCutOver, grace);
    await betterAuth.stop();

    // The rows Better Auth wrote: the tokens as configured, the ID token always in plain text.
    for (const user of [ada, grace]) {
      const [row] = await rows(
        databaseUrl,
        `SELECT "accountId", "accessToken", "refreshToken", "idToken", scope FROM account
         WHERE "userId" = $1 AND "providerId" = 'oidc'`,
        [user.id],
      );
      const { accessToken } = JSON.parse(betterAuths[user === ada ? "ada" : "grace"].accessToken);
      assert.equal(row.accountId, user.person.sub);
      assert.equal(row.scope, "openid,email,profile");
      assert.equal(row.idToken.split(".").length, 3);
      assert.ok(row.refreshToken, "Better Auth stored a refresh token");
      if (encryptOAuthTokens) {
        assert.match(row.accessToken, /^[0-9a-f]+$/, "Better Auth's hex ciphertext");
        assert.ok(row.accessToken !== accessToken, "not the token itself");
        assert.match(row.refreshToken, /^[0-9a-f]+$/);
      } else {
        assert.ok(row.accessToken === accessToken, "the token itself");
      }
    }

    // --- The cut-over: Warden on the same database, with the same secret, public URL and provider client ----------
    const env = await wardenEnv({
      databaseUrl,
      redisPrefix: scratchRedisPrefix(cleanup, "social-takeover"),
      gatewayPort,
      settings: { AUTH_SECRET: secret, BASE_URL: publicUrl, ...socialSettings(providers) },
    });
    await startWarden(env, services, cleanup);

    // The old sessions see the same accounts, the stored tokens and the provider's user as Better Auth answered.
    for (const [label, user] of [
      ["ada", ada],
      ["grace", grace],
    ]) {
      const wardens = await answersOf(afterCutOver, user);
      sameAnswer(wardens.accounts, betterAuths[label].accounts, `${label}: list-accounts`);
      sameAnswer(wardens.accessToken, betterAuths[label].accessToken, `${label}: get-access-token`);
      // The provider's raw profile (`data`) has the same members and values, but Warden sorts its keys where Better
      // Auth keeps the order it built it in.
      sameAnswer(wardens.accountInfo, betterAuths[label].accountInfo, `${label}: account-info`, { unordered: ["data"] });
    }

    // Warden refreshes with the refresh token Better Auth stored, and answers as Better Auth did.
    const wardenRefresh = await text(
      afterCutOver(grace.jar)("/api/auth/refresh-token", post({ accountId: betterAuths.grace.account.id })),
    );
    const [theirs, ours] = [JSON.parse(betterAuthRefresh), JSON.parse(wardenRefresh)];
    assert.deepEqual(Object.keys(ours), Object.keys(theirs), "refresh-token: the same keys in the same order");
    const stable = ({ refreshToken, refreshTokenExpiresAt, scope, providerId, accountId }) =>
      redacted({ refreshToken, refreshTokenExpiresAt, scope, providerId, accountId });
    assert.deepEqual(stable(ours), stable(theirs), "refresh-token: the same refresh token, expiry, scope and account");
    assert.ok(ours.accessToken !== theirs.accessToken, "a new access token");
    assert.equal(await userinfoSub(providers.issuer, ours.accessToken), grace.person.sub);

    // The users sign in with the provider again, through Warden, and land in the users Better Auth created.
    for (const user of [ada, grace]) {
      const jar = new CookieJar();
      const back = await socialSignIn(afterCutOver(jar), user.person, "/dashboard");
      assert.equal(back.location, "/dashboard", "a returning user, not a new one");
      assert.ok(jar.get(SESSION_COOKIE));
      const session = await json(afterCutOver(jar)("/api/auth/get-session"));
      assert.equal(session.user.id, user.id, `${user.person.sub} lands in the same user`);
      const accounts = await json(afterCutOver(jar)("/api/auth/list-accounts"));
      assert.equal(accounts.filter((account) => account.providerId === "oidc").length, 1, "no second oidc account");
      const account = accounts.find((row) => row.providerId === "oidc");
      const { accessToken } = await json(afterCutOver(jar)("/api/auth/get-access-token", post({ accountId: account.id })));
      assert.equal(await userinfoSub(providers.issuer, accessToken), user.person.sub);
      // Warden wrote the new tokens encrypted, in Better Auth's format, whatever Better Auth was configured with.
      const [row] = await rows(databaseUrl, `SELECT "accessToken" FROM account WHERE id = $1`, [account.id]);
      assert.match(row.accessToken, /^[0-9a-f]+$/);
      assert.ok(row.accessToken !== accessToken, "not the token itself");
    }
  } catch (error) {
    showLogs(services);
    throw error;
  } finally {
    await cleanup.run();
  }
}

/** sign-in/social for `oidc`, the provider's pages, and the callback: `{ status, location }` of the callback. */
async function socialSignIn(send, person, callbackURL) {
  const started = await json(send("/api/auth/sign-in/social", post({ provider: "oidc", callbackURL })));
  return comeBack(send, await signInAtProvider("oidc", started.url, person));
}

/** Requests the provider's redirect back (a URL on the public origin) through `send`. */
async function comeBack(send, back) {
  const url = new URL(back);
  const response = await send(`${url.pathname}${url.search}`);
  await response.arrayBuffer();
  assert.equal(response.status, 302);
  return { status: response.status, location: response.headers.get("location") };
}

function post(body) {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

async function text(responsePromise) {
  const response = await responsePromise;
  const body = await response.text();
  assert.equal(response.status, 200, `${response.url}: ${response.status}`);
  return body;
}

async function json(responsePromise) {
  return JSON.parse(await text(responsePromise));
}

/**
 * Two JSON answers alike: the same values and, at every level, the same keys in the same order. Tokens are compared
 * by their SHA-256, so that a failure does not print them.
 */
function sameAnswer(ours, theirs, what, { unordered = [] } = {}) {
  const [a, b] = [redacted(JSON.parse(ours)), redacted(JSON.parse(theirs))];
  assert.deepEqual(a, b, what);
  assert.deepEqual(keyOrder(a, unordered), keyOrder(b, unordered), `${what}: key order`);
}

function redacted(value, key = "") {
  if (Array.isArray(value)) return value.map((inner) => redacted(inner));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, redacted(inner, name)]));
  }
  if (typeof value === "string" && /token/i.test(key)) return `sha256:${createHash("sha256").update(value).digest("hex")}`;
  return value;
}

/** The keys of every object, in order, except inside the members named in `unordered`, whose keys are sorted. */
function keyOrder(value, unordered = [], sorted = false) {
  if (Array.isArray(value)) return value.map((inner) => keyOrder(inner, unordered, sorted));
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([key, inner]) => [
      key,
      keyOrder(inner, unordered, sorted || unordered.includes(key)),
    ]);
    return sorted ? entries.sort(([a], [b]) => a.localeCompare(b)) : entries;
  }
  return null;
}

/** The subject the provider's userinfo endpoint answers for an access token. */
async function userinfoSub(issuer, accessToken) {
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const response = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(response.status, 200, "the provider takes the access token");
  return (await response.json()).sub;
}
