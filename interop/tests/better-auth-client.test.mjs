// Better Auth's own npm client (`better-auth/client`), pointed at Warden's gateway as an app would point it at a
// Better Auth server.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";

import { CookieJar, PASSWORD, uniqueEmail, wardenUrl } from "./helpers.mjs";

const SESSION_COOKIE = "better-auth.session_token";

/** A client with a cookie jar of its own, as one browser would be. */
function browser() {
  const jar = new CookieJar();
  const client = createAuthClient({ baseURL: wardenUrl(), fetchOptions: { customFetchImpl: jar.fetch() } });
  return { client, jar };
}

/** Signs a new user up in a fresh browser; returns the browser, the email and the sign-up data. */
async function signedUp(label) {
  const ada = browser();
  const email = uniqueEmail(label);
  const { data, error } = await ada.client.signUp.email({ name: "Ada Lovelace", email, password: PASSWORD });
  assert.equal(error, null);
  return { ...ada, email, data };
}

/** Signs the user in from a fresh browser. */
async function signedIn(email) {
  const other = browser();
  const { error } = await other.client.signIn.email({ email, password: PASSWORD });
  assert.equal(error, null);
  return other;
}

function assertUser(user, email) {
  assert.equal(typeof user.id, "string");
  assert.ok(user.id.length > 0);
  assert.equal(user.name, "Ada Lovelace");
  assert.equal(user.email, email);
  assert.equal(user.emailVerified, false);
  assert.equal(user.image, null);
  // The client revives ISO date strings into Dates; a malformed date would stay a string.
  assert.ok(user.createdAt instanceof Date, `createdAt is ${user.createdAt}`);
  assert.ok(user.updatedAt instanceof Date, `updatedAt is ${user.updatedAt}`);
}

function assertSession(session, userId) {
  assert.equal(typeof session.id, "string");
  assert.equal(typeof session.token, "string");
  assert.equal(session.userId, userId);
  assert.ok(session.expiresAt instanceof Date, `expiresAt is ${session.expiresAt}`);
  assert.ok(session.expiresAt.getTime() > Date.now() + 6 * 24 * 3600 * 1000, "a session lasts about 7 days");
  assert.ok(session.createdAt instanceof Date);
}

describe("the official Better Auth client", () => {
  test("signs up, and the session it is given is the one get-session then shows", async () => {
    const { client, jar, email, data } = await signedUp("sign-up");
    assertUser(data.user, email);
    assert.match(data.token, /^[A-Za-z0-9]{32}$/);
    assert.ok(jar.get(SESSION_COOKIE)?.startsWith(`${data.token}.`), "the session cookie holds the signed token");

    const session = await client.getSession();
    assert.equal(session.error, null);
    assertUser(session.data.user, email);
    assert.equal(session.data.user.id, data.user.id);
    assertSession(session.data.session, data.user.id);
    assert.equal(session.data.session.token, data.token);
  });

  test("signs in to a second session, and both sessions are listed", async () => {
    const ada = await signedUp("sign-in");
    const other = browser();
    const { data, error } = await other.client.signIn.email({ email: ada.email, password: PASSWORD });
    assert.equal(error, null);
    assert.equal(data.redirect, false);
    assert.match(data.token, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(data.token, ada.data.token);
    assertUser(data.user, ada.email);
    assert.equal(data.user.id, ada.data.user.id);

    const current = (await ada.client.getSession()).data.session;
    const theirs = (await other.client.getSession()).data.session;
    const listed = await ada.client.listSessions();
    assert.equal(listed.error, null);
    assert.ok(Array.isArray(listed.data));
    assert.deepEqual(listed.data.map((session) => session.id).sort(), [current.id, theirs.id].sort());
    for (const session of listed.data) assertSession(session, ada.data.user.id);
  });

  test("revokes one other session, which then no longer gets a session", async () => {
    const ada = await signedUp("revoke-one");
    const other = await signedIn(ada.email);
    const theirs = (await other.client.getSession()).data.session;

    const listed = (await ada.client.listSessions()).data;
    const target = listed.find((session) => session.id === theirs.id);
    assert.ok(target, "the other session is listed");
    const revoked = await ada.client.revokeSession({ token: target.token });
    assert.equal(revoked.error, null);
    assert.deepEqual(revoked.data, { status: true });

    const gone = await other.client.getSession();
    assert.equal(gone.error, null);
    assert.equal(gone.data, null);
    assert.notEqual((await ada.client.getSession()).data, null, "the revoking session stays");
    assert.deepEqual(
      (await ada.client.listSessions()).data.map((session) => session.id),
      listed.filter((session) => session.id !== theirs.id).map((session) => session.id),
    );
  });

  test("revokes every other session and keeps its own", async () => {
    const ada = await signedUp("revoke-others");
    const phone = await signedIn(ada.email);
    const laptop = await signedIn(ada.email);

    const revoked = await ada.client.revokeOtherSessions();
    assert.equal(revoked.error, null);
    assert.deepEqual(revoked.data, { status: true });

    assert.equal((await phone.client.getSession()).data, null);
    assert.equal((await laptop.client.getSession()).data, null);
    const own = (await ada.client.getSession()).data;
    assert.notEqual(own, null);
    assert.deepEqual(
      (await ada.client.listSessions()).data.map((session) => session.id),
      [own.session.id],
    );
  });

  test("revokes every session, its own included", async () => {
    const ada = await signedUp("revoke-all");
    const phone = await signedIn(ada.email);

    const revoked = await ada.client.revokeSessions();
    assert.equal(revoked.error, null);
    assert.deepEqual(revoked.data, { status: true });
    assert.equal((await phone.client.getSession()).data, null);
    assert.equal((await ada.client.getSession()).data, null);
  });

  test("signs out: the cookie is cleared and the old cookie no longer works", async () => {
    const ada = await signedUp("sign-out");
    const oldCookie = ada.jar.header();

    const signedOut = await ada.client.signOut();
    assert.equal(signedOut.error, null);
    assert.deepEqual(signedOut.data, { success: true });
    assert.equal(ada.jar.get(SESSION_COOKIE), undefined, "sign-out expires the session cookie");
    assert.equal((await ada.client.getSession()).data, null);

    const replay = await fetch(`${wardenUrl()}/api/auth/get-session`, { headers: { cookie: oldCookie } });
    assert.equal(replay.status, 200);
    assert.equal(await replay.json(), null, "the session was ended on the server, not just forgotten");
  });

  test("gets no session and no error without a cookie", async () => {
    const { client } = browser();
    const { data, error } = await client.getSession();
    assert.equal(error, null);
    assert.equal(data, null);
  });

  test("reports a duplicate email as 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", async () => {
    const ada = await signedUp("duplicate");
    const { client } = browser();
    const { data, error } = await client.signUp.email({ name: "Ada", email: ada.email, password: PASSWORD });
    assert.equal(data, null);
    assert.equal(error.status, 422);
    assert.equal(error.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
    assert.equal(error.message, "User already exists. Use another email.");
  });

  test("reports a short password as 400 PASSWORD_TOO_SHORT", async () => {
    const { client, jar } = browser();
    const { data, error } = await client.signUp.email({ name: "Ada", email: uniqueEmail("short"), password: "short" });
    assert.equal(data, null);
    assert.equal(error.status, 400);
    assert.equal(error.code, "PASSWORD_TOO_SHORT");
    assert.equal(error.message, "Password too short");
    assert.equal(jar.get(SESSION_COOKIE), undefined);
  });

  test("reports a wrong password, and an unknown email alike, as 401 INVALID_EMAIL_OR_PASSWORD", async () => {
    const ada = await signedUp("wrong-password");
    const { client, jar } = browser();
    for (const [email, password] of [
      [ada.email, "not the password"],
      [uniqueEmail("nobody"), PASSWORD],
    ]) {
      const { data, error } = await client.signIn.email({ email, password });
      assert.equal(data, null);
      assert.equal(error.status, 401);
      assert.equal(error.code, "INVALID_EMAIL_OR_PASSWORD");
      assert.equal(error.message, "Invalid email or password");
    }
    assert.equal(jar.get(SESSION_COOKIE), undefined);
  });
});
