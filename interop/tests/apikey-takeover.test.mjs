// Taking over a Better Auth deployment whose users have API keys: the real Better Auth 1.7 with @better-auth/api-key
// 1.7.5 and its defaults (better-auth-peer.mjs with jwt, bearer, admin and apiKey(), through apikey-harness.mjs) issues
// the keys on a scratch database: over HTTP, a user's own key with the defaults (10 requests a day) and one with a
// prefix and an expiry; on the server (`auth.api.createApiKey`, the package's server-only properties), a read-only key
// (`permissions: {task: ["read"]}`), a key with three uses (`remaining: 3`) and one that is then disabled
// (`auth.api.updateApiKey`). Better Auth uses some of them (`auth.api.verifyApiKey`), so that their request counts,
// uses left and last requests are set. Then Better Auth stops and Warden starts on that database with the same secret.
//
// Warden lists and reads the keys exactly as Better Auth answered, on the session Better Auth opened. On the task API
// (`/api/v1/tasks`) the default and the prefixed key act as their user (as `x-api-key` and as a bearer), the default
// key's daily limit goes on from Better Auth's count to the package's 429 RATE_LIMITED, the read-only key lists but may
// not create (403 INSUFFICIENT_API_KEY_PERMISSIONS), the three-use key goes on from the uses Better Auth left it to 429
// USAGE_EXCEEDED (and is then gone, as the package deletes it), the disabled key is refused (401 KEY_DISABLED), and a
// key whose expiry is put in the past with SQL is refused (401 KEY_EXPIRED, and deleted). Last, the other way round:
// a key Warden issued is accepted by Better Auth's `verifyApiKey`, once Better Auth runs on the database again, which
// also holds the counts Warden moved.
//
// It brings up its own database, Better Auth and Warden on free loopback ports and takes them all down again, failed
// or not; it needs nothing from the Warden that interop/run starts.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { BETTER_AUTH, WARDEN, startTarget } from "./apikey-harness.mjs";
import { CookieJar, PASSWORD } from "./helpers.mjs";
import { Cleanup, rows, scratchDatabase, showLogs, sql } from "./processes.mjs";

const DAY_MS = 86_400_000;
const READ_ONLY = { task: ["read"] };

/** The stored form of a key, as the package stores it: SHA-256, base64url without padding. */
const hashed = (key) => createHash("sha256").update(key).digest("base64url");

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

/** A machine's call on Warden's task API with `key`: `{ status, json, text, headers }`. */
async function taskApi(server, path, { key, as = "x-api-key", method = "GET", body } = {}) {
  const headers = as === "x-api-key" ? { "x-api-key": key } : { authorization: `Bearer ${key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, text, headers: response.headers };
}

/** The status and body of a refused call. */
const refusedAs = (answer) => ({ status: answer.status, body: answer.json });

/** A list of keys by id. */
const byId = (list) => Object.fromEntries(list.map((key) => [key.id, key]));

describe("Warden takes over the API keys Better Auth issued", { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  const services = [];
  let failed = false;
  const secret = randomBytes(32).toString("base64");
  const suffix = randomBytes(4).toString("hex");
  const ada = { email: `ada-${suffix}@example.com`, home: browser() };
  /** `{ id, key }` of each key, by label. */
  const keys = {};
  let databaseUrl;
  /** What Better Auth answered before it stopped: ada's list (sorted by name) and each key's get, by label. */
  let listedBefore;
  const gotBefore = {};
  /** What Better Auth's verifyApiKey answered, by label. */
  const verified = {};
  let warden;

  /** Starts `kind` on the shared database; `stop()` takes it down again (once). */
  async function start(kind) {
    const stage = new Cleanup();
    let stopping;
    const stop = () => (stopping ??= stage.run());
    cleanup.add(stop);
    const target = await startTarget(kind, stage, services, { databaseUrl, secret });
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

  const at = (server, who = ada.home) => who.at(server);
  const getKey = async (server, label, who) =>
    expectOk(await at(server, who)(`/api-key/get?id=${keys[label].id}`), `get ${label} from ${server.kind}`);
  const listKeys = async (server, who) =>
    expectOk(await at(server, who)("/api-key/list?sortBy=name"), `ada's keys on ${server.kind}`);

  /** Better Auth's server-only verify of `label`'s key: `{ valid, error, key }`. */
  const verify = (betterAuth, label, permissions) =>
    betterAuth.auth.api.verifyApiKey({ body: { key: keys[label].key, ...(permissions ? { permissions } : {}) } });

  before(async () => {
    try {
      databaseUrl = await scratchDatabase(cleanup, "api_key_takeover");
      const betterAuth = await start(BETTER_AUTH);
      const { auth } = betterAuth;
      ada.id = expectOk(
        await at(betterAuth)("/sign-up/email", { name: "Ada", email: ada.email, password: PASSWORD }),
        "ada signs up",
      ).user.id;

      // Over HTTP, with ada's session: her own default key, and one with a prefix that expires in 30 days.
      const created = async (label, body) => {
        const answer = expectOk(await at(betterAuth)("/api-key/create", body), `ada creates ${label}`);
        keys[label] = { id: answer.id, key: answer.key };
      };
      await created("plain", {});
      await created("deploy", { name: "deploy", prefix: "wd_", expiresIn: 30 * 86_400 });
      await created("doomed", { name: "doomed" });

      // On the server, with what only the server may set.
      const serverSide = async (label, body) => {
        const answer = await auth.api.createApiKey({ body: { userId: ada.id, ...body } });
        keys[label] = { id: answer.id, key: answer.key };
      };
      await serverSide("reader", {
        name: "reader",
        permissions: READ_ONLY,
        rateLimitMax: 100,
        rateLimitTimeWindow: 60_000,
      });
      await serverSide("metered", {
        name: "metered",
        permissions: READ_ONLY,
        remaining: 3,
        rateLimitMax: 100,
        rateLimitTimeWindow: 60_000,
      });
      await serverSide("disabled", { name: "disabled" });
      await auth.api.updateApiKey({ body: { keyId: keys.disabled.id, userId: ada.id, enabled: false } });

      // Better Auth uses some: the default key twice, the others once.
      for (const [label, permissions] of [
        ["plain"],
        ["plain"],
        ["deploy"],
        ["doomed"],
        ["reader", READ_ONLY],
        ["metered", READ_ONLY],
      ]) {
        verified[label] = await verify(betterAuth, label, permissions);
      }
      verified.disabled = await verify(betterAuth, "disabled");

      listedBefore = await listKeys(betterAuth);
      for (const label of Object.keys(keys)) gotBefore[label] = await getKey(betterAuth, label);
      await betterAuth.stop();
      warden = await start(WARDEN);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
  after(async () => {
    if (failed) showLogs(services);
    await cleanup.run();
  });

  it("Better Auth issued and used the keys: counts, uses left, permissions, stored as SHA-256", async () => {
    for (const label of ["plain", "deploy", "doomed", "reader", "metered"]) {
      assert.equal(verified[label].valid, true, `${label}: ${JSON.stringify(verified[label])}`);
    }
    assert.deepEqual(verified.disabled, {
      valid: false,
      error: { message: "API Key is disabled", code: "KEY_DISABLED" },
      key: null,
    });
    const summary = (key) => ({
      name: key.name,
      prefix: key.prefix,
      enabled: key.enabled,
      requestCount: key.requestCount,
      remaining: key.remaining,
      rateLimitMax: key.rateLimitMax,
      rateLimitTimeWindow: key.rateLimitTimeWindow,
      permissions: key.permissions,
      used: key.lastRequest !== null,
      expires: key.expiresAt !== null,
    });
    const defaults = { prefix: null, enabled: true, remaining: null, permissions: null, expires: false };
    const daily = { rateLimitMax: 10, rateLimitTimeWindow: DAY_MS };
    const perMinute = { rateLimitMax: 100, rateLimitTimeWindow: 60_000 };
    assert.deepEqual(
      Object.fromEntries(Object.entries(gotBefore).map(([label, key]) => [label, summary(key)])),
      {
        plain: { ...defaults, ...daily, name: null, requestCount: 2, used: true },
        deploy: { ...defaults, ...daily, name: "deploy", prefix: "wd_", requestCount: 1, used: true, expires: true },
        doomed: { ...defaults, ...daily, name: "doomed", requestCount: 1, used: true },
        reader: { ...defaults, ...perMinute, name: "reader", requestCount: 1, used: true, permissions: READ_ONLY },
        metered: {
          ...defaults,
          ...perMinute,
          name: "metered",
          requestCount: 1,
          remaining: 2,
          used: true,
          permissions: READ_ONLY,
        },
        disabled: { ...defaults, ...daily, name: "disabled", enabled: false, requestCount: 0, used: false },
      },
    );
    assert.equal(listedBefore.total, 6);
    const stored = byId(await rows(databaseUrl, `SELECT id, key, "referenceId", permissions FROM apikey`));
    for (const [label, { id, key }] of Object.entries(keys)) {
      assert.equal(stored[id].key, hashed(key), `${label} is stored as its SHA-256, base64url without padding`);
      assert.equal(stored[id].referenceId, ada.id);
    }
    assert.equal(stored[keys.reader.id].permissions, JSON.stringify(READ_ONLY));
  });

  it("Warden lists and reads the keys exactly as Better Auth answered, on the session Better Auth opened", async () => {
    const listed = await listKeys(warden);
    assert.deepEqual(listed, listedBefore);
    assert.equal(JSON.stringify(listed), JSON.stringify(listedBefore), "the same JSON, key order included");
    for (const label of Object.keys(keys)) {
      const got = await getKey(warden, label);
      assert.deepEqual(got, gotBefore[label], label);
      assert.equal(JSON.stringify(got), JSON.stringify(gotBefore[label]), `${label}: the same JSON`);
    }
  });

  it("the default key and the prefixed key act as ada on the task API, as x-api-key and as a bearer", async () => {
    const created = await taskApi(warden, "/tasks", {
      key: keys.plain.key,
      method: "POST",
      body: { title: "made with Better Auth's key" },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.ownerId, ada.id);
    keys.task = created.json.id;
    for (const [label, as] of [
      ["plain", "bearer"],
      ["deploy", "x-api-key"],
      ["deploy", "bearer"],
    ]) {
      const listed = await taskApi(warden, "/tasks", { key: keys[label].key, as });
      assert.equal(listed.status, 200, `${label} as ${as}: ${listed.text}`);
      assert.deepEqual(
        listed.json.tasks.map((task) => [task.id, task.ownerId]),
        [[created.json.id, ada.id]],
        `${label} as ${as} sees ada's task`,
      );
    }
    const one = await taskApi(warden, `/tasks/${created.json.id}`, { key: keys.deploy.key, as: "bearer" });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.title, "made with Better Auth's key");

    // The uses are counted on from Better Auth's counts; nothing else about the keys changed.
    const plain = await getKey(warden, "plain");
    const deploy = await getKey(warden, "deploy");
    assert.equal(plain.requestCount, 4, "Better Auth's 2 and Warden's 2");
    assert.equal(deploy.requestCount, 4, "Better Auth's 1 and Warden's 3");
    for (const [label, now] of [
      ["plain", plain],
      ["deploy", deploy],
    ]) {
      assert.ok(Date.parse(now.lastRequest) > Date.parse(gotBefore[label].lastRequest), `${label}'s lastRequest moved`);
      const { requestCount, lastRequest, updatedAt, ...rest } = now;
      const { requestCount: a, lastRequest: b, updatedAt: c, ...restBefore } = gotBefore[label];
      assert.deepEqual(rest, restBefore, `${label}: only the counts and times moved`);
    }
  });

  it("the default key's limit of 10 a day goes on from Better Auth's count to the package's 429", async () => {
    // Better Auth counted 2, Warden 2 so far: six more are allowed today.
    for (let call = 5; call <= 10; call += 1) {
      const listed = await taskApi(warden, "/tasks", { key: keys.plain.key });
      assert.equal(listed.status, 200, `request ${call}: ${listed.text}`);
    }
    const limited = await taskApi(warden, "/tasks", { key: keys.plain.key });
    assert.equal(limited.status, 429, limited.text);
    const { details, ...rest } = limited.json;
    assert.deepEqual(rest, { message: "Rate limit exceeded.", code: "RATE_LIMITED" });
    assert.deepEqual(Object.keys(details), ["tryAgainIn"]);
    assert.ok(
      details.tryAgainIn > DAY_MS - 60_000 && details.tryAgainIn <= DAY_MS,
      `tryAgainIn about a day, in ms: ${details.tryAgainIn}`,
    );
    const retryAfter = Number(limited.headers.get("x-retry-after"));
    assert.ok(retryAfter > 86_000 && retryAfter <= 86_400, `x-retry-after in seconds: ${retryAfter}`);
    assert.equal((await getKey(warden, "plain")).requestCount, 10, "a refused request is not counted");
  });

  it("the read-only key lists ada's tasks but may not create one: 403 INSUFFICIENT_API_KEY_PERMISSIONS", async () => {
    const listed = await taskApi(warden, "/tasks", { key: keys.reader.key });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json.tasks.map((task) => task.id), [keys.task]);
    const one = await taskApi(warden, `/tasks/${keys.task}`, { key: keys.reader.key, as: "bearer" });
    assert.equal(one.status, 200, one.text);
    for (const as of ["x-api-key", "bearer"]) {
      const refused = await taskApi(warden, "/tasks", {
        key: keys.reader.key,
        as,
        method: "POST",
        body: { title: "not allowed" },
      });
      assert.equal(refused.status, 403, `${as}: ${refused.text}`);
      assert.equal(refused.json.code, "INSUFFICIENT_API_KEY_PERMISSIONS");
      assert.equal(typeof refused.json.message, "string");
    }
    const stillOne = await taskApi(warden, "/tasks", { key: keys.reader.key });
    assert.deepEqual(stillOne.json.tasks.map((task) => task.id), [keys.task], "nothing was created");
    const reader = await getKey(warden, "reader");
    assert.deepEqual(reader.permissions, READ_ONLY);
  });

  it("the three-use key goes on from the uses Better Auth left it, then is USAGE_EXCEEDED and gone", async () => {
    assert.equal(gotBefore.metered.remaining, 2);
    const first = await taskApi(warden, "/tasks", { key: keys.metered.key });
    assert.equal(first.status, 200, first.text);
    const afterOne = await getKey(warden, "metered");
    assert.deepEqual(
      { remaining: afterOne.remaining, requestCount: afterOne.requestCount },
      { remaining: 1, requestCount: 2 },
    );
    const second = await taskApi(warden, "/tasks", { key: keys.metered.key, as: "bearer" });
    assert.equal(second.status, 200, second.text);
    assert.equal((await getKey(warden, "metered")).remaining, 0);

    const spent = await taskApi(warden, "/tasks", { key: keys.metered.key });
    assert.deepEqual(refusedAs(spent), {
      status: 429,
      body: { message: "API Key has reached its usage limit", code: "USAGE_EXCEEDED" },
    });
    // The package deletes a key with no uses left and no refill when it is refused; so does Warden.
    assert.deepEqual(await rows(databaseUrl, `SELECT id FROM apikey WHERE id = $1`, [keys.metered.id]), []);
    const gone = await taskApi(warden, "/tasks", { key: keys.metered.key });
    assert.deepEqual(refusedAs(gone), { status: 401, body: { message: "Unauthorized", code: "UNAUTHORIZED" } });
  });

  it("the key Better Auth disabled is refused: 401 KEY_DISABLED, and nothing counted", async () => {
    for (const as of ["x-api-key", "bearer"]) {
      const refused = await taskApi(warden, "/tasks", { key: keys.disabled.key, as });
      assert.deepEqual(
        refusedAs(refused),
        { status: 401, body: { message: "API Key is disabled", code: "KEY_DISABLED" } },
        as,
      );
    }
    assert.deepEqual(await getKey(warden, "disabled"), gotBefore.disabled);
  });

  it("a key whose expiry is put in the past is refused: 401 KEY_EXPIRED, and deleted", async () => {
    // A key Better Auth issued and used, which expires while Warden serves: its expiry is put in the past with SQL
    // before Warden is first shown the key (time passing, as far as the row says).
    assert.equal(gotBefore.doomed.requestCount, 1);
    assert.equal(gotBefore.doomed.expiresAt, null);
    await sql(databaseUrl, `UPDATE apikey SET "expiresAt" = now() - interval '1 minute' WHERE id = $1`, [
      keys.doomed.id,
    ]);
    const expired = await taskApi(warden, "/tasks", { key: keys.doomed.key, as: "bearer" });
    assert.deepEqual(refusedAs(expired), {
      status: 401,
      body: { message: "API Key has expired", code: "KEY_EXPIRED" },
    });
    assert.deepEqual(await rows(databaseUrl, `SELECT id FROM apikey WHERE id = $1`, [keys.doomed.id]), []);
    const gone = await taskApi(warden, "/tasks", { key: keys.doomed.key });
    assert.deepEqual(refusedAs(gone), { status: 401, body: { message: "Unauthorized", code: "UNAUTHORIZED" } });
  });

  it("a key Warden issued is accepted by Better Auth's verifyApiKey on the same database", async () => {
    const created = expectOk(
      await at(warden)("/api-key/create", { name: "made by warden", prefix: "wk_", expiresIn: 7 * 86_400 }),
      "ada creates a key on Warden",
    );
    keys.warden = { id: created.id, key: created.key };
    assert.match(created.key, /^wk_[A-Za-z]{64}$/);
    const [row] = await rows(databaseUrl, `SELECT key FROM apikey WHERE id = $1`, [created.id]);
    assert.equal(row.key, hashed(created.key), "stored as the package stores keys");
    const used = await taskApi(warden, "/tasks", { key: created.key, as: "bearer" });
    assert.equal(used.status, 200, used.text);
    const onWarden = await getKey(warden, "warden");
    assert.equal(onWarden.requestCount, 1);
    const listedOnWarden = await listKeys(warden);
    const readerOnWarden = await getKey(warden, "reader");
    await warden.stop();

    const betterAuth = await start(BETTER_AUTH);
    // Warden stores session tokens hashed, so Better Auth finds no session of Warden's days
    // (docs/migrating-from-better-auth.md): ada signs in again. Better Auth reads Warden's key, and the keys Warden
    // used, as Warden answered them.
    const laptop = browser();
    expectOk(await at(betterAuth, laptop)("/sign-in/email", { email: ada.email, password: PASSWORD }), "ada signs in");
    assert.deepEqual(await getKey(betterAuth, "warden", laptop), onWarden);
    assert.deepEqual(await listKeys(betterAuth, laptop), listedOnWarden);

    const accepted = await verify(betterAuth, "warden");
    assert.equal(accepted.valid, true, JSON.stringify(accepted));
    assert.equal(accepted.error, null);
    const { requestCount, lastRequest, updatedAt, ...rest } = accepted.key;
    const { requestCount: a, lastRequest: b, updatedAt: c, ...restOnWarden } = onWarden;
    assert.deepEqual(
      JSON.parse(JSON.stringify(rest)),
      restOnWarden,
      "verify answers the key Warden made (dates aside: Better Auth's are Dates here)",
    );
    assert.equal(requestCount, 2, "Warden's use and this one");
    assert.equal(accepted.key.referenceId, ada.id);

    // The read-only key goes on from the uses Warden counted; the default key is still over its daily limit.
    const reader = await verify(betterAuth, "reader", READ_ONLY);
    assert.equal(reader.valid, true, JSON.stringify(reader));
    assert.equal(reader.key.requestCount, readerOnWarden.requestCount + 1);
    const plain = await verify(betterAuth, "plain");
    assert.equal(plain.valid, false);
    assert.equal(plain.error.code, "RATE_LIMITED");
    assert.ok(plain.error.details.tryAgainIn > DAY_MS - 120_000, JSON.stringify(plain.error));
    // Keys Warden refused for good are gone for Better Auth too.
    assert.equal((await verify(betterAuth, "metered")).error.code, "INVALID_API_KEY");
    assert.equal((await verify(betterAuth, "doomed")).error.code, "INVALID_API_KEY");
    assert.equal((await verify(betterAuth, "disabled")).error.code, "KEY_DISABLED");
  });
});
