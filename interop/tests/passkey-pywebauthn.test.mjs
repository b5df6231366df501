// Warden's passkey verdicts, cross-checked by a WebAuthn implementation it did not write: py_webauthn (PyPI
// `webauthn`, Duo Labs; tests/pywebauthn_check.py in the venv). A Warden of its own with the passkey plugin hands out
// options, software authenticators (webauthn-authenticator.mjs) of each algorithm answer them, Warden judges the
// answer, and py_webauthn judges the very same JSON against the same challenge, origin and rp id, user verification
// required as Warden requires it at sign-in: a registration Warden accepted is one py_webauthn accepts, with the
// credential id and COSE public key Warden stored, byte for byte; an assertion Warden accepted verifies with the key
// Warden stored and the counter it held before, to the counter it holds after; and the assertions Warden refuses (a
// tampered signature, no user verification, a counter that does not go up) py_webauthn refuses too. Two registrations
// are judged by their flags: backed up without being backup eligible (both refuse it), and without user verification
// (Warden takes it, as Better Auth does; py_webauthn, asked to require it, does not).

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import { CookieJar, PASSWORD, run, uniqueEmail, venvPython } from "./helpers.mjs";
import { RP_ID, WARDEN, startTarget } from "./passkey-harness.mjs";
import { Cleanup, showLogs } from "./processes.mjs";
import { SoftAuthenticator } from "./webauthn-authenticator.mjs";

const check = fileURLToPath(new URL("./pywebauthn_check.py", import.meta.url));

/** py_webauthn's verdict on `job` (see pywebauthn_check.py): `{ valid, ... }`. */
async function pywebauthn(job) {
  const { code, stdout, stderr } = await run(venvPython, [check, JSON.stringify(job)]);
  assert.ok((code === 0 || code === 1) && stdout.trim(), `pywebauthn_check.py exited ${code}: ${stderr}`);
  const verdict = JSON.parse(stdout);
  assert.equal(verdict.valid, code === 0);
  return verdict;
}

/** The authenticators, one passkey each: every algorithm Warden offers, and a synced one that counts nothing. */
const CASES = [
  { label: "ES256", authenticator: { algorithm: "ES256" } },
  { label: "EdDSA", authenticator: { algorithm: "EdDSA" } },
  { label: "RS256", authenticator: { algorithm: "RS256" } },
  {
    label: "ES256, synced (backed up, no counter)",
    authenticator: { algorithm: "ES256", backupEligible: true, countsSignatures: false },
  },
];

/** What Warden answers an assertion it refuses. */
const REFUSED = { status: 400, code: "AUTHENTICATION_FAILED" };
const BAD_SIGNATURE = { status: 401, code: "AUTHENTICATION_FAILED" };

describe("Warden's passkey ceremonies cross-checked by py_webauthn", { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  const services = [];
  let warden;
  let failed = false;

  /** Calls Warden's `/api/auth<path>` with `jar`'s cookies; `{ status, json, text }`. */
  const call = async (jar, path, body) => {
    const response = await jar.fetch(warden.origin)(`${warden.url}/api/auth${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
  };
  const ok = (answer, what) => {
    assert.equal(answer.status, 200, `${what}: ${answer.text}`);
    return answer.json;
  };
  /** The user's passkey row as Warden lists it. */
  const stored = async (jar, id) => {
    const row = ok(await call(jar, "/passkey/list-user-passkeys"), "list-user-passkeys").find((p) => p.id === id);
    assert.ok(row, `passkey ${id} is listed`);
    return row;
  };

  /** A test whose failure shows Warden's logs at the end. */
  const it = (name, body) =>
    test(name, async () => {
      try {
        await body();
      } catch (error) {
        failed = true;
        throw error;
      }
    });

  before(async () => {
    try {
      warden = await startTarget(WARDEN, cleanup, services);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
  after(async () => {
    if (failed) showLogs(services);
    await cleanup.run();
  });

  for (const { label, authenticator: model } of CASES) {
    describe(label, () => {
      const authenticator = new SoftAuthenticator(model);
      const jar = new CookieJar();
      let passkey;

      /** An assertion for fresh options in a fresh browser, sent to Warden; `{ options, response, answer }`. */
      const signIn = async (knobs = {}) => {
        const browser = new CookieJar();
        const options = ok(await call(browser, "/passkey/generate-authenticate-options"), "authenticate options");
        const response = authenticator.authenticate(options, warden.origin, knobs);
        const answer = await call(browser, "/passkey/verify-authentication", { response });
        return { options, response, answer };
      };
      /** py_webauthn's verdict on an assertion, against the key and counter Warden holds. */
      const pyAssertion = ({ options, response }, before) =>
        pywebauthn({
          ceremony: "authentication",
          credential: response,
          challenge: options.challenge,
          origin: warden.origin,
          rpId: RP_ID,
          publicKey: before.publicKey,
          signCount: before.counter,
        });

      it("a registration Warden accepts, py_webauthn accepts with the same credential id and key", async () => {
        ok(
          await call(jar, "/sign-up/email", { name: "Ada", email: uniqueEmail("pywebauthn"), password: PASSWORD }),
          "sign-up",
        );
        const options = ok(await call(jar, "/passkey/generate-register-options"), "register options");
        assert.equal(options.rp.id, RP_ID);
        const response = authenticator.register(options, warden.origin);
        const row = ok(
          await call(jar, "/passkey/verify-registration", { response, name: label }),
          "verify-registration",
        );
        passkey = await stored(jar, row.id);

        const verdict = await pywebauthn({
          ceremony: "registration",
          credential: response,
          challenge: options.challenge,
          origin: warden.origin,
          rpId: RP_ID,
        });
        assert.equal(verdict.valid, true, `py_webauthn refused what Warden accepted: ${verdict.message}`);
        assert.equal(verdict.credentialId, passkey.credentialID, "the credential id Warden stored");
        assert.deepEqual(
          Buffer.from(passkey.publicKey, "base64"),
          Buffer.from(verdict.publicKey, "base64"),
          "the COSE public key Warden stored, byte for byte",
        );
        assert.equal(passkey.counter, verdict.signCount);
        assert.equal(passkey.aaguid, verdict.aaguid);
        assert.equal(verdict.userVerified, true);
        assert.deepEqual(
          { deviceType: passkey.deviceType, backedUp: passkey.backedUp },
          {
            deviceType: verdict.deviceType === "multi_device" ? "multiDevice" : "singleDevice",
            backedUp: verdict.backedUp,
          },
        );
      });

      it("an assertion Warden accepts, py_webauthn accepts with the same new counter", async () => {
        for (let round = 0; round < 2; round += 1) {
          const before = await stored(jar, passkey.id);
          const signedIn = await signIn();
          assert.equal(ok(signedIn.answer, "verify-authentication").user.id, passkey.userId);
          const after = await stored(jar, passkey.id);
          const verdict = await pyAssertion(signedIn, before);
          assert.equal(verdict.valid, true, `py_webauthn refused what Warden accepted: ${verdict.message}`);
          assert.equal(verdict.credentialId, passkey.credentialID);
          assert.equal(verdict.userVerified, true);
          assert.equal(after.counter, verdict.newSignCount, "the counter Warden stored is py_webauthn's new one");
          assert.equal(after.counter, model.countsSignatures === false ? 0 : before.counter + 1);
          assert.equal(after.publicKey, before.publicKey);
        }
      });

      const refusals = [
        ["a tampered signature", { tamperSignature: true }, BAD_SIGNATURE, /signature/],
        ["no user verification", { userVerified: false }, REFUSED, /verif/],
      ];
      if (model.countsSignatures !== false) {
        refusals.push(
          ["a counter going backwards", { counter: 1 }, REFUSED, /sign count/],
          ["the counter Warden holds, not above it", (held) => ({ counter: held.counter }), REFUSED, /sign count/],
          ["a counter back at 0", { counter: 0 }, REFUSED, /sign count/],
        );
      }
      for (const [what, knobs, refusal, reason] of refusals) {
        it(`an assertion with ${what}: both refuse it`, async () => {
          const before = await stored(jar, passkey.id);
          const sent = await signIn(typeof knobs === "function" ? knobs(before) : knobs);
          assert.deepEqual({ status: sent.answer.status, code: sent.answer.json?.code }, refusal, sent.answer.text);
          assert.equal((await stored(jar, passkey.id)).counter, before.counter, "a refusal moves no counter");
          const verdict = await pyAssertion(sent, before);
          assert.equal(verdict.valid, false, "py_webauthn accepted what Warden refused");
          assert.equal(verdict.error, "InvalidAuthenticationResponse");
          assert.match(verdict.message, reason);
        });
      }

      it("the passkey still signs in after the refusals", async () => {
        const before = await stored(jar, passkey.id);
        // An authenticator that counts goes on from above the counter its refused assertions set.
        if (model.countsSignatures !== false) {
          authenticator.credential(passkey.credentialID).counter = before.counter + 5;
        }
        const signedIn = await signIn();
        ok(signedIn.answer, "verify-authentication");
        const verdict = await pyAssertion(signedIn, before);
        assert.equal(verdict.valid, true, verdict.message);
        assert.equal((await stored(jar, passkey.id)).counter, verdict.newSignCount);
      });
    });
  }

  describe("registrations judged by flags", () => {
    const jar = new CookieJar();
    /** A registration for fresh options; `{ options, response, answer, verdict }` with py_webauthn's verdict. */
    const registration = async (model) => {
      const options = ok(await call(jar, "/passkey/generate-register-options"), "register options");
      const response = new SoftAuthenticator(model).register(options, warden.origin);
      const answer = await call(jar, "/passkey/verify-registration", { response });
      const job = { ceremony: "registration", credential: response, challenge: options.challenge };
      const verdict = await pywebauthn({ ...job, origin: warden.origin, rpId: RP_ID });
      return { answer, verdict };
    };

    it("a credential backed up but not backup eligible: both refuse it", async () => {
      const user = { name: "Flags", email: uniqueEmail("pyflags"), password: PASSWORD };
      ok(await call(jar, "/sign-up/email", user), "sign-up");
      const { answer, verdict } = await registration({ algorithm: "ES256", backupEligible: false, backedUp: true });
      assert.deepEqual(
        { status: answer.status, code: answer.json?.code },
        { status: 500, code: "FAILED_TO_VERIFY_REGISTRATION" },
        answer.text,
      );
      assert.deepEqual({ valid: verdict.valid, error: verdict.error }, { valid: false, error: "InvalidBackupFlags" });
    });

    // Better Auth registers with `requireUserVerification: false`, and Warden as it does: user verification is
    // required at sign-in, not when a passkey is added. py_webauthn asked to require it at registration refuses.
    it("a registration without user verification: Warden takes it, as Better Auth does", async () => {
      const { answer, verdict } = await registration({ algorithm: "EdDSA", userVerification: false });
      ok(answer, "verify-registration without user verification");
      assert.equal(verdict.valid, false);
      assert.match(verdict.message, /User verification is required/);
    });
  });
});
