// Taking over a Better Auth deployment whose users have passkeys: the real Better Auth 1.7 with @better-auth/passkey
// 1.7.6 (better-auth-peer.mjs, through passkey-harness.mjs) writes the rows, as software authenticators
// (webauthn-authenticator.mjs) of each algorithm register there: an ES256 laptop that counts its signatures, an EdDSA
// phone that counts nothing and is renamed, a synced passkey (backup eligible and backed up), an RS256 key that
// reports no transports. The laptop and the phone sign in once, so a counter moves. Then Better Auth stops and Warden
// starts on that database with the same secret and rp id, `localhost` (its port, and so the origin its ceremonies are
// made on, differs: passkeys are bound to the rp id, not the origin). Every passkey signs in with Warden without an
// email (the discoverable flow), the list shows the rows as Better Auth wrote them with the counters moved on, a
// counter that does not go up is refused, and renaming and deleting work. Last, the other way round: a passkey
// registered under Warden signs in with Better Auth, started again on the same database, which also holds the
// counters Warden moved.
//
// It brings up its own database, Better Auth and Warden on free loopback ports and takes them all down again, failed
// or not; it needs nothing from the Warden that interop/run starts. PASSKEY_TAKEOVER_BY=better-auth has a second
// Better Auth take the database over instead, which is how the test itself is checked.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { CookieJar, PASSWORD } from "./helpers.mjs";
import { AS_BETTER_AUTH, BETTER_AUTH, RP_ID, WARDEN, startTarget } from "./passkey-harness.mjs";
import { Cleanup, rows, scratchDatabase, showLogs } from "./processes.mjs";
import { SoftAuthenticator } from "./webauthn-authenticator.mjs";

const TAKER = process.env.PASSKEY_TAKEOVER_BY || WARDEN;
assert.ok([WARDEN, BETTER_AUTH].includes(TAKER), `PASSKEY_TAKEOVER_BY must be ${WARDEN} or ${BETTER_AUTH}`);
const TAKER_NAME = TAKER === WARDEN ? "Warden" : "a second Better Auth";

/** What both answer an assertion they refuse (its counter, here): @simplewebauthn/server's catch-all. */
const REFUSED = { status: 400, code: "AUTHENTICATION_FAILED" };
const UNKNOWN_CREDENTIAL = { status: 401, code: "PASSKEY_NOT_FOUND" };

/**
 * The passkeys Better Auth registers: whose, the name given at registration (none: the package stores none), the
 * authenticator, the transports reported (null: none, as when getTransports() is missing).
 */
const PASSKEYS = {
  laptop: {
    owner: "ada",
    name: "Ada's laptop",
    model: { algorithm: "ES256", aaguid: "08987058-cadc-4b81-b6e1-30de50dcbe96" },
  },
  phone: { owner: "ada", model: { algorithm: "EdDSA", countsSignatures: false } },
  synced: {
    owner: "ada",
    name: "iCloud Keychain",
    model: {
      algorithm: "ES256",
      backupEligible: true,
      countsSignatures: false,
      aaguid: "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
    },
  },
  bobsKey: { owner: "bob", name: "Bob's key", model: { algorithm: "RS256" }, transports: null },
};

/** A browser: `at(server)(path, body)` resolves to `{ status, json, text }`, keeping the jar's cookies. */
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

/** A list of passkey rows by id, for comparing lists whatever their order. */
const byId = (list) => Object.fromEntries(list.map((row) => [row.id, row]));

describe(`${TAKER_NAME} takes over the passkeys Better Auth registered`, { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  const services = [];
  let failed = false;
  const secret = randomBytes(32).toString("base64");
  const suffix = randomBytes(4).toString("hex");
  const users = {
    ada: { email: `ada-${suffix}@example.com`, home: browser() },
    bob: { email: `bob-${suffix}@example.com`, home: browser() },
  };
  const authenticators = Object.fromEntries(
    Object.entries(PASSKEYS).map(([label, { model }]) => [label, new SoftAuthenticator(model)]),
  );
  /** Passkey row ids by label. */
  const ids = {};
  let databaseUrl;
  /** What Better Auth listed for each user before it stopped, and the rows it left in the table. */
  let listedBefore;
  let tableBefore;
  let taker;

  /** Starts `kind` on the shared database; `stop()` takes it down again (once). */
  async function start(kind) {
    const stage = new Cleanup();
    let stopping;
    const stop = () => (stopping ??= stage.run());
    cleanup.add(stop);
    const target = await startTarget(kind, stage, services, { databaseUrl, secret, settings: AS_BETTER_AUTH });
    return { ...target, stop };
  }

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

  /** Registers a passkey in `who`'s browser on `server` with `authenticator`; its row. */
  async function register(server, who, authenticator, { name, transports } = {}) {
    const at = users[who].home.at(server);
    const options = expectOk(await at("/passkey/generate-register-options"), `${who}'s register options`);
    assert.equal(options.rp.id, RP_ID);
    const response = authenticator.register(options, server.origin, { transports });
    return expectOk(await at("/passkey/verify-registration", { response, name }), `${who} registers ${name}`);
  }

  /**
   * Signs in on `server` with `authenticator`'s passkey in a new browser, without an email: generate-authenticate-
   * options without a session, the assertion, verify-authentication. `{ answer, browser }`.
   */
  async function passkeySignIn(server, authenticator, knobs = {}) {
    const fresh = browser();
    const at = fresh.at(server);
    const options = expectOk(await at("/passkey/generate-authenticate-options"), "authenticate options");
    assert.equal(options.rpId, RP_ID);
    assert.deepEqual(options.allowCredentials ?? [], [], "no session: any passkey of the site");
    const response = authenticator.authenticate(options, server.origin, knobs);
    return { answer: await at("/passkey/verify-authentication", { response }), browser: fresh };
  }

  /** Signs `label`'s passkey in on `server` and checks whose session it opened. */
  async function signsIn(server, label, authenticator = authenticators[label], owner = PASSKEYS[label].owner) {
    const { answer, browser: signedIn } = await passkeySignIn(server, authenticator);
    const { user } = expectOk(answer, `${label} signs in`);
    assert.equal(user.email, users[owner].email, `${label} signs ${owner} in`);
    const session = expectOk(await signedIn.at(server)("/get-session"), "the new session");
    assert.equal(session.user.id, user.id);
    return signedIn;
  }

  const list = async (server, who, at = users[who].home.at(server)) =>
    byId(expectOk(await at("/passkey/list-user-passkeys"), `${who}'s passkeys`));

  before(async () => {
    try {
      databaseUrl = await scratchDatabase(cleanup, "passkey_takeover");
      const betterAuth = await start(BETTER_AUTH);
      for (const [name, who] of Object.entries(users)) {
        const signedUp = expectOk(
          await who.home.at(betterAuth)("/sign-up/email", { name, email: who.email, password: PASSWORD }),
          `${name} signs up`,
        );
        who.id = signedUp.user.id;
      }
      for (const [label, passkey] of Object.entries(PASSKEYS)) {
        ids[label] = (await register(betterAuth, passkey.owner, authenticators[label], passkey)).id;
      }
      expectOk(
        await users.ada.home.at(betterAuth)("/passkey/update-passkey", { id: ids.phone, name: "Ada's phone" }),
        "ada renames her phone",
      );
      await signsIn(betterAuth, "laptop");
      await signsIn(betterAuth, "phone");
      listedBefore = { ada: await list(betterAuth, "ada"), bob: await list(betterAuth, "bob") };
      tableBefore = byId(await rows(databaseUrl, `SELECT * FROM passkey`));
      await betterAuth.stop();
      taker = await start(TAKER);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
  after(async () => {
    if (failed) showLogs(services);
    await cleanup.run();
  });

  it("Better Auth wrote the rows: names, transports, counters, synced flags", () => {
    const ada = listedBefore.ada;
    const bob = listedBefore.bob;
    const summary = (row) => ({
      name: row.name,
      counter: row.counter,
      transports: row.transports,
      deviceType: row.deviceType,
      backedUp: row.backedUp,
    });
    assert.deepEqual(summary(ada[ids.laptop]), {
      name: "Ada's laptop",
      counter: 1,
      transports: "internal",
      deviceType: "singleDevice",
      backedUp: false,
    });
    assert.deepEqual(summary(ada[ids.phone]), {
      name: "Ada's phone",
      counter: 0,
      transports: "internal",
      deviceType: "singleDevice",
      backedUp: false,
    });
    assert.deepEqual(summary(ada[ids.synced]), {
      name: "iCloud Keychain",
      counter: 0,
      transports: "internal",
      deviceType: "multiDevice",
      backedUp: true,
    });
    assert.deepEqual(summary(bob[ids.bobsKey]), {
      name: "Bob's key",
      counter: 0,
      transports: "",
      deviceType: "singleDevice",
      backedUp: false,
    });
    assert.equal(ada[ids.laptop].aaguid, "08987058-cadc-4b81-b6e1-30de50dcbe96");
    assert.equal(Object.keys(tableBefore).length, 4);
    for (const row of Object.values(tableBefore)) {
      assert.match(row.publicKey, /^[A-Za-z0-9+/]+={0,2}$/, "the COSE key in standard base64");
      assert.match(row.credentialID, /^[\w-]+$/, "the credential id in base64url");
    }
  });

  it(`${TAKER_NAME} lists the rows as Better Auth wrote them, on the sessions Better Auth opened`, async () => {
    assert.deepEqual(await list(taker, "ada"), listedBefore.ada);
    assert.deepEqual(await list(taker, "bob"), listedBefore.bob);
  });

  it(`every passkey signs in with ${TAKER_NAME}, without an email`, async () => {
    for (const label of Object.keys(PASSKEYS)) await signsIn(taker, label);
    const [ada, bob] = [await list(taker, "ada"), await list(taker, "bob")];
    // The counting keys moved on from where Better Auth left them; the others stay at 0. Nothing else changed.
    const expected = (who, label, counter) => ({ ...listedBefore[who][ids[label]], counter });
    assert.deepEqual(ada[ids.laptop], expected("ada", "laptop", 2));
    assert.deepEqual(ada[ids.phone], expected("ada", "phone", 0));
    assert.deepEqual(ada[ids.synced], expected("ada", "synced", 0));
    assert.deepEqual(bob[ids.bobsKey], expected("bob", "bobsKey", 1));
  });

  it("a counter that does not go up is refused; the passkey goes on from above it", async () => {
    const counter = async () => (await list(taker, "ada"))[ids.laptop].counter;
    assert.equal(await counter(), 2);
    for (const [what, value] of [
      ["a counter going backwards", 1],
      ["the counter held, again", 2],
      ["a counter back at 0", 0],
    ]) {
      const { answer } = await passkeySignIn(taker, authenticators.laptop, { counter: value });
      assert.deepEqual({ status: answer.status, code: answer.json?.code }, REFUSED, `${what}: ${answer.text}`);
      assert.equal(await counter(), 2, `${what} moves no counter`);
    }
    authenticators.laptop.credentials[0].counter = 10;
    await signsIn(taker, "laptop");
    assert.equal(await counter(), 11);
    // The phone counts nothing: 0 again and again is no replay.
    await signsIn(taker, "phone");
    await signsIn(taker, "phone");
    assert.equal((await list(taker, "ada"))[ids.phone].counter, 0);
  });

  it(`renaming and deleting Better Auth's passkeys work with ${TAKER_NAME}`, async () => {
    const at = users.ada.home.at(taker);
    expectOk(await at("/passkey/update-passkey", { id: ids.synced, name: "Synced key" }), "rename the synced key");
    expectOk(await at("/passkey/update-passkey", { id: ids.phone, name: "Old phone" }), "rename the phone");
    let ada = await list(taker, "ada");
    assert.equal(ada[ids.synced].name, "Synced key");
    assert.deepEqual(ada[ids.phone], { ...listedBefore.ada[ids.phone], name: "Old phone" });
    expectOk(await at("/passkey/delete-passkey", { id: ids.synced }), "delete the synced key");
    ada = await list(taker, "ada");
    assert.deepEqual(Object.keys(ada).sort(), [ids.laptop, ids.phone].sort());
    const { answer } = await passkeySignIn(taker, authenticators.synced);
    assert.deepEqual({ status: answer.status, code: answer.json?.code }, UNKNOWN_CREDENTIAL, answer.text);
    // The rows left are Better Auth's, as it wrote them but for what was changed through the API.
    const table = byId(await rows(databaseUrl, `SELECT * FROM passkey`));
    assert.deepEqual(Object.keys(table).sort(), [ids.laptop, ids.phone, ids.bobsKey].sort());
    assert.deepEqual(table[ids.laptop], { ...tableBefore[ids.laptop], counter: 11 });
    assert.deepEqual(table[ids.phone], { ...tableBefore[ids.phone], name: "Old phone" });
    assert.deepEqual(table[ids.bobsKey], { ...tableBefore[ids.bobsKey], counter: 1 });
  });

  it(`a passkey registered under ${TAKER_NAME} signs in with Better Auth on the same database`, async () => {
    const tablet = new SoftAuthenticator({ algorithm: "ES256" });
    const registered = await register(taker, "ada", tablet, { name: `Registered under ${TAKER_NAME}` });
    // The row is of the package's form, as Better Auth writes one for such an authenticator.
    const [row] = await rows(databaseUrl, `SELECT * FROM passkey WHERE id = $1`, [registered.id]);
    assert.deepEqual(Object.keys(row).sort(), Object.keys(tableBefore[ids.laptop]).sort());
    const { id, publicKey, createdAt, ...rest } = row;
    assert.deepEqual(rest, {
      name: `Registered under ${TAKER_NAME}`,
      userId: users.ada.id,
      credentialID: tablet.credentials[0].id,
      counter: 0,
      deviceType: "singleDevice",
      backedUp: false,
      transports: "internal",
      aaguid: "00000000-0000-0000-0000-000000000000",
    });
    assert.match(publicKey, /^[A-Za-z0-9+/]+={0,2}$/, "the COSE key in standard base64");
    await signsIn(taker, "tablet", tablet, "ada");
    const written = (await list(taker, "ada"))[registered.id];
    assert.equal(written.counter, 1);
    await taker.stop();

    const betterAuth = await start(BETTER_AUTH);
    const signedIn = await signsIn(betterAuth, "tablet", tablet, "ada");
    const ada = await list(betterAuth, "ada", signedIn.at(betterAuth));
    assert.deepEqual(ada[registered.id], { ...written, counter: 2 }, "Better Auth reads the row as it was written");
    assert.deepEqual(ada[registered.id].transports, "internal");
    // Better Auth holds the counters the taker moved: the laptop's 11 is where it goes on from.
    const { answer } = await passkeySignIn(betterAuth, authenticators.laptop, { counter: 5 });
    assert.deepEqual({ status: answer.status, code: answer.json?.code }, REFUSED, answer.text);
    authenticators.laptop.credentials[0].counter = 20;
    await signsIn(betterAuth, "laptop");
    assert.equal((await list(betterAuth, "ada", signedIn.at(betterAuth)))[ids.laptop].counter, 21);
    await signsIn(betterAuth, "bobsKey");
  });
});
