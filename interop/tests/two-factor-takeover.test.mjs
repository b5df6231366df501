// Taking over a Better Auth deployment whose users have two-factor on: the real Better Auth 1.7 with its twoFactor
// plugin (better-auth-peer.mjs) writes the rows (an encrypted TOTP secret, encrypted backup codes, `twoFactorEnabled`,
// a trusted device), then Warden's services start on that database with the same secret and public URL. The users'
// authenticators, set up from the URI Better Auth gave, go on working: Warden asks for the second factor at sign-in,
// accepts their codes, spends each Better Auth backup code once, reads the same secret back, and keeps trusting the
// device Better Auth trusted.
//
// It brings up its own database, Better Auth and Warden on free loopback ports and takes them all down again, failed
// or not; it needs nothing from the Warden that interop/run starts. TWO_FACTOR_TAKEOVER_BY=better-auth has a second
// Better Auth take the database over instead, which is how the test itself is checked.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";

import { Authenticator, parseTotpUri } from "./authenticator.mjs";
import { CookieJar, PASSWORD } from "./helpers.mjs";
import { Cleanup, freePort, rows, showLogs } from "./processes.mjs";
import { AS_BETTER_AUTH, BETTER_AUTH, WARDEN, otpMailed, startTarget, targetFrom } from "./two-factor-harness.mjs";

const TAKER = targetFrom("TWO_FACTOR_TAKEOVER_BY", WARDEN);
const TWO_FACTOR_COOKIE = "better-auth.two_factor";
const TRUST_DEVICE_COOKIE = "better-auth.trust_device";

/** A browser of `server`'s: `call(path, body)` resolves to `{ status, json }`, keeping the jar's cookies. */
function browser(jar = new CookieJar()) {
  const at = (server) => async (path, body) => {
    const response = await jar.fetch(server.origin)(`${server.url}/api/auth${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
  };
  return { jar, at };
}

function expectOk(answer, what) {
  assert.equal(answer.status, 200, `${what}: ${answer.text}`);
  return answer.json;
}

test(
  `${TAKER === WARDEN ? "Warden" : "A second Better Auth"} takes over the two-factor rows Better Auth wrote`,
  { timeout: 300_000 },
  async () => {
    const cleanup = new Cleanup();
    const services = [];
    try {
      const secret = randomBytes(32).toString("base64");
      // The public URL stays the same across the cut-over: Better Auth's baseURL, then Warden's gateway.
      const publicPort = await freePort();
      const betterAuth = await startTarget(BETTER_AUTH, cleanup, services, { secret, publicPort });
      const { databaseUrl } = betterAuth;
      const suffix = randomBytes(4).toString("hex");
      const email = (name) => `${name}-${suffix}@example.com`;

      // --- Before: Better Auth --------------------------------------------------------------------------------------
      // Ada turns TOTP on with her authenticator, keeps her backup codes, and trusts her laptop.
      const ada = { email: email("ada"), home: browser(), laptop: browser() };
      const ba = (who) => who.at(betterAuth);
      const signUp = async (who, name) =>
        expectOk(await ba(who)("/sign-up/email", { name, email: email(name), password: PASSWORD }), `${name} signs up`);
      ada.id = (await signUp(ada.home, "ada")).user.id;
      const enabled = expectOk(await ba(ada.home)("/two-factor/enable", { password: PASSWORD }), "ada enables TOTP");
      ada.authenticator = new Authenticator(enabled.totpURI);
      ada.backupCodes = enabled.backupCodes;
      expectOk(
        await ba(ada.home)("/two-factor/verify-totp", { code: await ada.authenticator.fresh() }),
        "ada turns it on",
      );
      const challenge = expectOk(
        await ba(ada.laptop)("/sign-in/email", { email: ada.email, password: PASSWORD }),
        "ada signs in on her laptop",
      );
      assert.equal(challenge.twoFactorRedirect, true);
      // With a backup code (which is then spent), so that her authenticator's next code is still unused.
      expectOk(
        await ba(ada.laptop)("/two-factor/verify-backup-code", { code: ada.backupCodes[9], trustDevice: true }),
        "ada trusts her laptop",
      );
      assert.ok(ada.laptop.jar.get(TRUST_DEVICE_COOKIE));

      // Bob enabled TOTP but never verified a code: not on. Olga has codes by mail only.
      const bob = { email: email("bob"), home: browser() };
      await signUp(bob.home, "bob");
      const bobsUri = expectOk(await ba(bob.home)("/two-factor/enable", { password: PASSWORD }), "bob enables").totpURI;
      const olga = { email: email("olga"), home: browser() };
      await signUp(olga.home, "olga");
      expectOk(
        await ba(olga.home)("/two-factor/enable", { password: PASSWORD, method: "otp" }),
        "olga enables codes by mail",
      );
      await betterAuth.stop();

      // The rows Better Auth wrote: secrets and backup codes encrypted, the flag on the user.
      const stored = await rows(
        databaseUrl,
        `SELECT u.email, u."twoFactorEnabled", t.secret, t."backupCodes", t.verified
       FROM "user" u LEFT JOIN "twoFactor" t ON t."userId" = u.id ORDER BY u.email`,
      );
      assert.deepEqual(
        stored.map(({ email, twoFactorEnabled, verified }) => ({ email, twoFactorEnabled, verified })),
        [
          { email: ada.email, twoFactorEnabled: true, verified: true },
          { email: bob.email, twoFactorEnabled: false, verified: false },
          { email: olga.email, twoFactorEnabled: true, verified: null },
        ],
      );
      for (const row of stored.filter((row) => row.secret)) {
        assert.match(row.secret, /^[0-9a-f]+$/, "Better Auth's hex ciphertext");
        assert.ok(!row.secret.includes(parseTotpUri(enabled.totpURI).secret));
        assert.match(row.backupCodes, /^[0-9a-f]+$/);
      }

      // --- The cut-over: the new server on the same database, with the same secret and public URL -------------------
      // and, as docs/two-factor.md says to, Better Auth's appName as the issuer authenticator apps show.
      const settings = AS_BETTER_AUTH;
      const taker = await startTarget(TAKER, cleanup, services, { databaseUrl, secret, publicPort, settings });
      const at = (who) => who.at(taker);

      // Ada's session from before reports two-factor on.
      const session = expectOk(await at(ada.home)("/get-session"), "ada's old session");
      assert.equal(session.user.id, ada.id);
      assert.equal(session.user.twoFactorEnabled, true);

      // The URI read back holds the very secret Better Auth gave her authenticator.
      const uri = expectOk(
        await at(ada.home)("/two-factor/get-totp-uri", { password: PASSWORD }),
        "get-totp-uri",
      ).totpURI;
      const [theirs, ours] = [parseTotpUri(enabled.totpURI), parseTotpUri(uri)];
      assert.equal(ours.secret, theirs.secret, "the same secret");
      assert.deepEqual(
        { account: ours.account, digits: ours.digits, period: ours.period, algorithm: ours.algorithm },
        { account: ada.email, digits: 6, period: 30, algorithm: "SHA1" },
      );
      assert.equal(uri, enabled.totpURI, "the very URI, issuer and all");

      // Signing in asks for the second factor; her authenticator's next code opens the session.
      const phone = browser();
      const asked = expectOk(
        await at(phone)("/sign-in/email", { email: ada.email, password: PASSWORD }),
        "ada signs in",
      );
      assert.deepEqual(asked, { twoFactorRedirect: true, twoFactorMethods: ["totp", "otp"] });
      assert.ok(phone.jar.get(TWO_FACTOR_COOKIE));
      assert.equal((await at(phone)("/get-session")).json, null, "no session before the second factor");
      const verified = expectOk(
        await at(phone)("/two-factor/verify-totp", { code: await ada.authenticator.fresh() }),
        "ada's authenticator code",
      );
      assert.equal(verified.user.id, ada.id);
      assert.equal(verified.user.twoFactorEnabled, true);
      assert.equal(expectOk(await at(phone)("/get-session"), "the new session").user.id, ada.id);

      // A backup code Better Auth issued works once; the one spent before the cut-over stays spent.
      for (const [code, status, what] of [
        [ada.backupCodes[9], 401, "the code spent under Better Auth"],
        [ada.backupCodes[0], 200, "an unused code"],
        [ada.backupCodes[0], 401, "the same code again"],
      ]) {
        const tablet = browser();
        assert.equal(
          expectOk(await at(tablet)("/sign-in/email", { email: ada.email, password: PASSWORD }), "sign-in")
            .twoFactorRedirect,
          true,
        );
        const answer = await at(tablet)("/two-factor/verify-backup-code", { code });
        assert.equal(answer.status, status, `${what}: ${answer.text}`);
        if (status === 401) assert.equal(answer.json.code, "INVALID_BACKUP_CODE", what);
        else assert.equal(answer.json.user.id, ada.id, what);
      }

      // The laptop Better Auth trusted is not asked.
      const trusted = expectOk(
        await at(ada.laptop)("/sign-in/email", { email: ada.email, password: PASSWORD }),
        "ada on her trusted laptop",
      );
      assert.equal(trusted.twoFactorRedirect, undefined, "no second factor on the trusted device");
      assert.equal(trusted.user.id, ada.id);

      // Bob's unverified TOTP asks nothing; his URI still reads back the secret he was given.
      const bobIn = expectOk(await at(bob.home)("/sign-in/email", { email: bob.email, password: PASSWORD }), "bob");
      assert.equal(bobIn.twoFactorRedirect, undefined);
      assert.equal(bobIn.user.twoFactorEnabled, false);
      const bobsUriNow = expectOk(await at(bob.home)("/two-factor/get-totp-uri", { password: PASSWORD }), "bob's URI");
      assert.equal(parseTotpUri(bobsUriNow.totpURI).secret, parseTotpUri(bobsUri).secret);

      // Olga is asked for a code by mail, and only that.
      const olgaIn = expectOk(await at(olga.home)("/sign-in/email", { email: olga.email, password: PASSWORD }), "olga");
      assert.deepEqual(olgaIn, { twoFactorRedirect: true, twoFactorMethods: ["otp"] });
      const { code, result } = await otpMailed(taker, olga.email, () => at(olga.home)("/two-factor/send-otp", {}));
      expectOk(result, "send-otp");
      const olgaSession = expectOk(await at(olga.home)("/two-factor/verify-otp", { code }), "olga's mailed code");
      assert.equal(olgaSession.user.email, olga.email);
    } catch (error) {
      showLogs(services);
      throw error;
    } finally {
      await cleanup.run();
    }
  },
);
