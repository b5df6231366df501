// Better Auth's own npm client with its two-factor plugin (`twoFactorClient` from `better-auth/client/plugins`), as an
// app signs its users in with a second factor, against a Warden of its own that serves the `two-factor` plugin. The
// codes come from real authenticators (pyotp and oathtool, tests/authenticator.mjs) reading the URI the server gave,
// and from the mails the server sent.
//
// TWO_FACTOR_TARGET=better-auth runs the same tests against the real Better Auth 1.7 with its two-factor plugin
// (better-auth-peer.mjs), which is how the tests themselves are checked; unset, they run against Warden.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createAuthClient } from "better-auth/client";
import { twoFactorClient } from "better-auth/client/plugins";

import { Authenticator, parseTotpUri } from "./authenticator.mjs";
import { CookieJar, PASSWORD, uniqueEmail } from "./helpers.mjs";
import { Cleanup, showLogs } from "./processes.mjs";
import { BETTER_AUTH, WARDEN, otpMailed, startTarget, targetFrom } from "./two-factor-harness.mjs";

const TARGET = targetFrom("TWO_FACTOR_TARGET", WARDEN);
const SESSION_COOKIE = "better-auth.session_token";
const TWO_FACTOR_COOKIE = "better-auth.two_factor";
const TRUST_DEVICE_COOKIE = "better-auth.trust_device";
const BACKUP_CODE = /^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/;

const cleanup = new Cleanup();
const services = [];
let server;

/** A browser: a client with a cookie jar of its own, noting each `onTwoFactorRedirect` call. */
function browser() {
  const jar = new CookieJar();
  const redirects = [];
  const client = createAuthClient({
    baseURL: server.url,
    plugins: [twoFactorClient({ onTwoFactorRedirect: (context) => redirects.push(context) })],
    fetchOptions: { customFetchImpl: jar.fetch(server.origin) },
  });
  return { client, jar, redirects };
}

/** The error the client resolved to, as `{ status, code, message }`. */
function refusal(result) {
  assert.equal(result.data, null, `expected a refusal, got ${JSON.stringify(result.data)}`);
  const { status, code, message } = result.error;
  return { status, code, message };
}

function ok(result) {
  assert.equal(result.error, null, `expected success, got ${JSON.stringify(result.error)}`);
  return result.data;
}

/** A new user, signed up in a browser of their own. */
async function signedUp(label) {
  const home = browser();
  const email = uniqueEmail(label);
  const data = ok(await home.client.signUp.email({ name: "Ada Lovelace", email, password: PASSWORD }));
  return { ...home, email, id: data.user.id, signUp: data };
}

/** A new user with TOTP on, from the first code: `{ ...browser, email, id, authenticator, enabled }`. */
async function withTotp(label) {
  const user = await signedUp(label);
  const enabled = ok(await user.client.twoFactor.enable({ password: PASSWORD }));
  const authenticator = new Authenticator(enabled.totpURI);
  const enrolCode = await authenticator.fresh();
  ok(await user.client.twoFactor.verifyTotp({ code: enrolCode }));
  assert.equal((await user.client.getSession()).data.user.twoFactorEnabled, true);
  return { ...user, authenticator, enabled, enrolCode };
}

/** Signs in from `home` and checks that the second factor is asked for, with no session opened. */
async function challenged(home, email) {
  const data = ok(await home.client.signIn.email({ email, password: PASSWORD }));
  assert.deepEqual(data, { twoFactorRedirect: true, twoFactorMethods: ["totp", "otp"] });
  assert.ok(home.jar.get(TWO_FACTOR_COOKIE), "the two_factor cookie holds the challenge");
  assert.equal(home.jar.get(SESSION_COOKIE), undefined, "no session cookie yet");
  assert.equal((await home.client.getSession()).data, null, "no session yet");
  return data;
}

/** Checks that a verify call opened a session for `user` in `home`. */
async function openedSession(home, data, user) {
  assert.match(data.token, /^[A-Za-z0-9]{32}$/);
  assert.equal(data.user.id, user.id);
  assert.equal(data.user.email, user.email);
  assert.equal(data.user.twoFactorEnabled, true);
  assert.ok(home.jar.get(SESSION_COOKIE)?.startsWith(`${data.token}.`), "the session cookie holds the new token");
  assert.equal(home.jar.get(TWO_FACTOR_COOKIE), undefined, "the challenge cookie is cleared");
  const session = (await home.client.getSession()).data;
  assert.equal(session?.user.id, user.id);
  assert.equal(session.session.token, data.token);
}

/** Runs a test, printing the started services' logs when it fails. */
function scenario(name, body) {
  test(name, async () => {
    try {
      await body();
    } catch (error) {
      showLogs(services);
      throw error;
    }
  });
}

describe(`the official Better Auth client with twoFactorClient, against ${TARGET}`, { timeout: 600_000 }, () => {
  before(async () => {
    server = await startTarget(TARGET, cleanup, services);
  });
  after(() => cleanup.run());

  scenario("enabling gives an otpauth URI and ten backup codes; the authenticator's code turns it on", async () => {
    const ada = await signedUp("enable");
    assert.equal(ada.signUp.user.twoFactorEnabled, false);

    const enabled = ok(await ada.client.twoFactor.enable({ password: PASSWORD }));
    assert.deepEqual(Object.keys(enabled).sort(), ["backupCodes", "method", "totpURI"]);
    assert.equal(enabled.method, "totp");
    assert.equal(enabled.backupCodes.length, 10);
    for (const code of enabled.backupCodes) assert.match(code, BACKUP_CODE);
    assert.equal(new Set(enabled.backupCodes).size, 10);
    const uri = parseTotpUri(enabled.totpURI);
    assert.equal(uri.account, ada.email);
    assert.ok(uri.issuer, "the URI names an issuer");
    assert.equal(uri.labelIssuer, uri.issuer);
    assert.match(uri.secret, /^[A-Z2-7]{52}$/, "a 32-byte secret in unpadded base32");
    assert.equal(uri.digits, 6);
    assert.equal(uri.period, 30);
    // Enabled but not yet verified: not on.
    assert.equal((await ada.client.getSession()).data.user.twoFactorEnabled, false);

    const authenticator = new Authenticator(enabled.totpURI);
    const wrong = refusal(await ada.client.twoFactor.verifyTotp({ code: await authenticator.wrong() }));
    assert.deepEqual(wrong, { status: 401, code: "INVALID_CODE", message: "Invalid code" });
    assert.equal((await ada.client.getSession()).data.user.twoFactorEnabled, false);

    const before = ada.jar.get(SESSION_COOKIE);
    const verified = ok(await ada.client.twoFactor.verifyTotp({ code: await authenticator.fresh() }));
    assert.equal(typeof verified.token, "string");
    assert.equal(verified.user.id, ada.id);
    const session = (await ada.client.getSession()).data;
    assert.equal(session.user.twoFactorEnabled, true);
    assert.notEqual(ada.jar.get(SESSION_COOKIE), before, "turning it on replaces the session");

    const again = refusal(await ada.client.twoFactor.enable({ password: PASSWORD }));
    assert.deepEqual(again, { status: 400, code: "TOTP_ALREADY_ENABLED", message: "TOTP is already enabled" });
    const uriAgain = ok(await ada.client.twoFactor.getTotpUri({ password: PASSWORD }));
    assert.deepEqual(uriAgain, { totpURI: enabled.totpURI });
  });

  scenario("enabling, and reading the URI, need the right password", async () => {
    const ada = await signedUp("enable-password");
    const wrongPassword = { status: 400, code: "INVALID_PASSWORD", message: "Invalid password" };
    assert.deepEqual(refusal(await ada.client.twoFactor.enable({ password: "not the password" })), wrongPassword);
    const enabled = ok(await ada.client.twoFactor.enable({ password: PASSWORD }));
    assert.deepEqual(refusal(await ada.client.twoFactor.getTotpUri({ password: "not the password" })), wrongPassword);
    assert.deepEqual(ok(await ada.client.twoFactor.getTotpUri({ password: PASSWORD })), { totpURI: enabled.totpURI });
  });

  scenario("signing in asks for the second factor; a TOTP code with trustDevice opens the session", async () => {
    const ada = await withTotp("sign-in");
    ok(await ada.client.signOut());

    const asked = await challenged(ada, ada.email);
    assert.deepEqual(ada.redirects, [{ twoFactorMethods: asked.twoFactorMethods }], "onTwoFactorRedirect is called");

    const wrong = refusal(await ada.client.twoFactor.verifyTotp({ code: await ada.authenticator.wrong() }));
    assert.deepEqual(wrong, { status: 401, code: "INVALID_CODE", message: "Invalid code" });
    assert.equal((await ada.client.getSession()).data, null);

    const verified = ok(
      await ada.client.twoFactor.verifyTotp({ code: await ada.authenticator.fresh(), trustDevice: true }),
    );
    await openedSession(ada, verified, ada);
    assert.ok(ada.jar.get(TRUST_DEVICE_COOKIE), "the device is trusted");

    // A trusted device is not asked again.
    ok(await ada.client.signOut());
    const trusted = ok(await ada.client.signIn.email({ email: ada.email, password: PASSWORD }));
    assert.equal(trusted.twoFactorRedirect, undefined);
    assert.match(trusted.token, /^[A-Za-z0-9]{32}$/);
    assert.equal(trusted.user.id, ada.id);
    assert.equal((await ada.client.getSession()).data?.user.id, ada.id);
    assert.ok(ada.jar.get(TRUST_DEVICE_COOKIE), "the trust cookie stays");
    assert.equal(ada.redirects.length, 1);

    // Another browser is.
    await challenged(browser(), ada.email);
  });

  scenario("a backup code signs in once, and only once", async () => {
    const ada = await withTotp("backup");
    const [first, second] = ada.enabled.backupCodes;

    const laptop = browser();
    await challenged(laptop, ada.email);
    await openedSession(laptop, ok(await laptop.client.twoFactor.verifyBackupCode({ code: first })), ada);
    assert.equal(laptop.jar.get(TRUST_DEVICE_COOKIE), undefined, "not trusted unless asked");

    const phone = browser();
    await challenged(phone, ada.email);
    const spent = refusal(await phone.client.twoFactor.verifyBackupCode({ code: first }));
    assert.deepEqual(spent, { status: 401, code: "INVALID_BACKUP_CODE", message: "Invalid backup code" });
    assert.equal((await phone.client.getSession()).data, null);
    await openedSession(phone, ok(await phone.client.twoFactor.verifyBackupCode({ code: second })), ada);
  });

  scenario("a one-time code sent by mail signs in", async () => {
    const ada = await withTotp("otp");
    const tablet = browser();
    await challenged(tablet, ada.email);

    const { code, result } = await otpMailed(server, ada.email, () => tablet.client.twoFactor.sendOtp());
    assert.deepEqual(ok(result), { status: true });
    assert.match(code, /^\d{6}$/);
    const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    const wrong = refusal(await tablet.client.twoFactor.verifyOtp({ code: wrongCode }));
    assert.deepEqual(wrong, { status: 401, code: "INVALID_CODE", message: "Invalid code" });
    await openedSession(tablet, ok(await tablet.client.twoFactor.verifyOtp({ code })), ada);
  });

  scenario("without a challenge, the verify routes refuse the two_factor cookie", async () => {
    const stranger = browser();
    const expected = { status: 401, code: "INVALID_TWO_FACTOR_COOKIE", message: "Invalid two factor cookie" };
    assert.deepEqual(refusal(await stranger.client.twoFactor.verifyTotp({ code: "123456" })), expected);
    assert.deepEqual(refusal(await stranger.client.twoFactor.verifyBackupCode({ code: "abcde-fghij" })), expected);
    assert.deepEqual(refusal(await stranger.client.twoFactor.verifyOtp({ code: "123456" })), expected);
    assert.deepEqual(refusal(await stranger.client.twoFactor.sendOtp()), expected);
  });

  scenario("new backup codes replace the old ones", async () => {
    const ada = await withTotp("regenerate");
    const wrongPassword = refusal(await ada.client.twoFactor.generateBackupCodes({ password: "not the password" }));
    assert.deepEqual(wrongPassword, { status: 400, code: "INVALID_PASSWORD", message: "Invalid password" });

    const renewed = ok(await ada.client.twoFactor.generateBackupCodes({ password: PASSWORD }));
    assert.equal(renewed.status, true);
    assert.equal(renewed.backupCodes.length, 10);
    for (const code of renewed.backupCodes) assert.match(code, BACKUP_CODE);
    assert.deepEqual(
      renewed.backupCodes.filter((code) => ada.enabled.backupCodes.includes(code)),
      [],
      "all new",
    );

    const other = browser();
    await challenged(other, ada.email);
    const old = refusal(await other.client.twoFactor.verifyBackupCode({ code: ada.enabled.backupCodes[0] }));
    assert.equal(old.code, "INVALID_BACKUP_CODE");
    await openedSession(
      other,
      ok(await other.client.twoFactor.verifyBackupCode({ code: renewed.backupCodes[0] })),
      ada,
    );
  });

  scenario("disabling turns the second factor off", async () => {
    const ada = await withTotp("disable");
    const wrongPassword = refusal(await ada.client.twoFactor.disable({ password: "not the password" }));
    assert.deepEqual(wrongPassword, { status: 400, code: "INVALID_PASSWORD", message: "Invalid password" });
    assert.equal((await ada.client.getSession()).data.user.twoFactorEnabled, true);

    assert.deepEqual(ok(await ada.client.twoFactor.disable({ password: PASSWORD })), { status: true });
    assert.equal((await ada.client.getSession()).data.user.twoFactorEnabled, false);

    const other = browser();
    const signedIn = ok(await other.client.signIn.email({ email: ada.email, password: PASSWORD }));
    assert.equal(signedIn.twoFactorRedirect, undefined, "no second factor asked");
    assert.equal(signedIn.user.twoFactorEnabled, false);
    assert.equal((await other.client.getSession()).data?.user.id, ada.id);

    const notEnabled = refusal(await ada.client.twoFactor.generateBackupCodes({ password: PASSWORD }));
    assert.deepEqual(notEnabled, { status: 400, code: "TWO_FACTOR_NOT_ENABLED", message: "Two factor isn't enabled" });
    const noTotp = refusal(await ada.client.twoFactor.getTotpUri({ password: PASSWORD }));
    assert.deepEqual(noTotp, { status: 400, code: "TOTP_NOT_ENABLED", message: "TOTP not enabled" });
  });

  scenario("a user who never enabled two-factor has nothing to verify or regenerate", async () => {
    const ada = await signedUp("never");
    const noTotp = { status: 400, code: "TOTP_NOT_ENABLED", message: "TOTP not enabled" };
    assert.deepEqual(refusal(await ada.client.twoFactor.verifyTotp({ code: "123456" })), noTotp);
    assert.deepEqual(refusal(await ada.client.twoFactor.getTotpUri({ password: PASSWORD })), noTotp);
    const notEnabled = refusal(await ada.client.twoFactor.generateBackupCodes({ password: PASSWORD }));
    assert.deepEqual(notEnabled, { status: 400, code: "TWO_FACTOR_NOT_ENABLED", message: "Two factor isn't enabled" });
    const noBackup = refusal(await ada.client.twoFactor.verifyBackupCode({ code: "abcde-fghij" }));
    assert.deepEqual(noBackup, {
      status: 400,
      code: "BACKUP_CODES_NOT_ENABLED",
      message: "Backup codes aren't enabled",
    });
  });

  scenario("a TOTP code is accepted once: Warden refuses it again within its window", async () => {
    const ada = await withTotp("replay");
    const first = browser();
    await challenged(first, ada.email);
    // The code that turned two-factor on, presented again at sign-in.
    const enrolAgain = await first.client.twoFactor.verifyTotp({ code: ada.enrolCode });
    const second = browser();
    if (TARGET === WARDEN) {
      assert.deepEqual(refusal(enrolAgain), { status: 401, code: "INVALID_CODE", message: "Invalid code" });
      assert.equal((await first.client.getSession()).data, null);
      const code = await ada.authenticator.fresh();
      await openedSession(first, ok(await first.client.twoFactor.verifyTotp({ code })), ada);
      // A sign-in code, presented again from another browser.
      await challenged(second, ada.email);
      const replayed = refusal(await second.client.twoFactor.verifyTotp({ code }));
      assert.deepEqual(replayed, { status: 401, code: "INVALID_CODE", message: "Invalid code" });
      assert.equal((await second.client.getSession()).data, null);
    } else {
      // A deliberate difference: Better Auth 1.7 accepts the same code as often as it likes within its ±1 step
      // window. This branch only records that, so that the test run against Better Auth shows the rest is right.
      assert.equal(TARGET, BETTER_AUTH);
      await openedSession(first, ok(enrolAgain), ada);
      await challenged(second, ada.email);
      await openedSession(second, ok(await second.client.twoFactor.verifyTotp({ code: ada.enrolCode })), ada);
    }
  });
});
