// Better Auth's own npm client with the api-key plugin's client (`createAuthClient` from `better-auth/client` with
// `apiKeyClient()` from `@better-auth/api-key/client` 1.7.5), in Node, as an app's settings page manages its users'
// keys, against a Warden of its own that serves the `api-key` plugin (apikey-harness.mjs). A user signs up, creates
// keys (a name, an expiry, a prefix; the defaults), lists them (sorted and paged), reads, renames, disables and deletes
// one, each answer checked in the shape the client types it (dates revived into `Date`s, the package's key order);
// refusals arrive as the client reports them (`error.status`, `error.code`, `error.message`, the package's
// API_KEY_ERROR_CODES). Then a machine uses the key on the task API (`/api/v1/tasks`, plain fetch) as `x-api-key`
// and as a bearer and acts as the user; disabled, it is refused, enabled again it works, deleted it no longer does.
//
// APIKEY_CLIENT_TARGET=better-auth runs the same client steps against the real Better Auth 1.7 with
// @better-auth/api-key (better-auth-peer.mjs), which is how the tests themselves are checked; the task API is Warden's,
// so its steps are skipped there. Unset, they run against Warden.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { API_KEY_ERROR_CODES, apiKeyClient } from "@better-auth/api-key/client";
import { createAuthClient } from "better-auth/client";

import { BETTER_AUTH, WARDEN, startTarget } from "./apikey-harness.mjs";
import { CookieJar, PASSWORD, uniqueEmail } from "./helpers.mjs";
import { Cleanup, showLogs, sleep } from "./processes.mjs";

const TARGET = process.env.APIKEY_CLIENT_TARGET || WARDEN;
assert.ok([WARDEN, BETTER_AUTH].includes(TARGET), `APIKEY_CLIENT_TARGET must be ${WARDEN} or ${BETTER_AUTH}`);
const NO_TASK_API = TARGET === WARDEN ? false : "Better Auth serves no task API";

const DAY = 86_400;
const DAY_MS = DAY * 1000;

/** The keys of a key object in the package's order (create's answer; get, update and list items have no `key`). */
const CREATED_KEYS = [
  "configId",
  "name",
  "start",
  "referenceId",
  "prefix",
  "key",
  "refillInterval",
  "refillAmount",
  "lastRefillAt",
  "enabled",
  "rateLimitEnabled",
  "rateLimitTimeWindow",
  "rateLimitMax",
  "requestCount",
  "remaining",
  "lastRequest",
  "expiresAt",
  "createdAt",
  "updatedAt",
  "permissions",
  "metadata",
  "id",
];
const KEY_FIELDS = CREATED_KEYS.filter((field) => field !== "key");

const cleanup = new Cleanup();
const services = [];
let server;

/** A browser: a client with the api-key plugin and a cookie jar of its own. */
function browser() {
  const jar = new CookieJar();
  const client = createAuthClient({
    baseURL: server.url,
    plugins: [apiKeyClient()],
    fetchOptions: { customFetchImpl: jar.fetch(server.origin) },
  });
  return { client, jar };
}

function ok(result) {
  assert.equal(result.error, null, `expected success, got ${JSON.stringify(result.error)}`);
  return result.data;
}

/** The error the client resolved to, as `{ status, code, message }`. */
function refusal(result) {
  assert.equal(result.data, null, `expected a refusal, got ${JSON.stringify(result.data)}`);
  const { status, code, message } = result.error;
  return { status, code, message };
}

/** The package's refusal `name` with `status`, as the client reports it. */
const packageRefusal = (status, name) => ({
  status,
  code: API_KEY_ERROR_CODES[name].code,
  message: API_KEY_ERROR_CODES[name].message,
});

/** A key object as the client types it: the package's fields in its order, dates as `Date`s. */
function assertKeyShape(key, { created = false } = {}) {
  assert.deepEqual(Object.keys(key), created ? CREATED_KEYS : KEY_FIELDS);
  for (const field of ["createdAt", "updatedAt"]) {
    assert.ok(key[field] instanceof Date, `${field} is a Date: ${key[field]}`);
  }
  for (const field of ["expiresAt", "lastRequest", "lastRefillAt"]) {
    assert.ok(key[field] === null || key[field] instanceof Date, `${field} is null or a Date: ${key[field]}`);
  }
  assert.equal(typeof key.id, "string");
  assert.equal(key.configId, "default");
  assert.equal(typeof key.enabled, "boolean");
  assert.equal(typeof key.requestCount, "number");
}

/** A call on the task API with the key, as a machine makes it: `{ status, json, text }`. */
async function taskApi(path, { key, as = "x-api-key", method = "GET", body } = {}) {
  const headers = as === "x-api-key" ? { "x-api-key": key } : { authorization: `Bearer ${key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
}

/** Runs a test, printing the started services' logs when it fails. */
function scenario(name, options, body) {
  test(name, options, async () => {
    try {
      await body();
    } catch (error) {
      showLogs(services);
      throw error;
    }
  });
}

describe(`the official Better Auth client with apiKeyClient, against ${TARGET}`, { timeout: 300_000 }, () => {
  const ada = { email: uniqueEmail("apikey-client") };
  /** The keys made, by label: the create answers. */
  const made = {};

  before(async () => {
    server = await startTarget(TARGET, cleanup, services);
    Object.assign(ada, browser());
    const signedUp = ok(await ada.client.signUp.email({ name: "Ada Lovelace", email: ada.email, password: PASSWORD }));
    ada.id = signedUp.user.id;
  });
  after(() => cleanup.run());

  scenario("apiKey.create makes a key with a name, an expiry and a prefix, shown this once", {}, async () => {
    const key = ok(await ada.client.apiKey.create({ name: "ci", expiresIn: 7 * DAY, prefix: "wd_" }));
    assertKeyShape(key, { created: true });
    assert.match(key.key, /^wd_[A-Za-z]{64}$/, "the prefix and 64 random letters");
    assert.equal(key.start, key.key.slice(0, 6), "start: the key's first six characters, prefix included");
    const { id, key: secret, start, createdAt, updatedAt, expiresAt, ...rest } = key;
    assert.deepEqual(rest, {
      configId: "default",
      name: "ci",
      referenceId: ada.id,
      prefix: "wd_",
      refillInterval: null,
      refillAmount: null,
      lastRefillAt: null,
      enabled: true,
      rateLimitEnabled: true,
      rateLimitTimeWindow: DAY_MS,
      rateLimitMax: 10,
      requestCount: 0,
      remaining: null,
      lastRequest: null,
      permissions: null,
      metadata: null,
    });
    assert.ok(Math.abs(createdAt.getTime() - Date.now()) < 60_000, `createdAt is now: ${createdAt.toISOString()}`);
    assert.equal(updatedAt.getTime(), createdAt.getTime());
    assert.equal(expiresAt.getTime() - createdAt.getTime(), 7 * DAY_MS, "expiresAt: createdAt + expiresIn seconds");
    made.ci = key;
  });

  scenario("apiKey.create with no options gives the package's defaults: no name, prefix or expiry", {}, async () => {
    const key = ok(await ada.client.apiKey.create({}));
    assertKeyShape(key, { created: true });
    assert.match(key.key, /^[A-Za-z]{64}$/);
    assert.equal(key.start, key.key.slice(0, 6));
    assert.deepEqual(
      { name: key.name, prefix: key.prefix, expiresAt: key.expiresAt, referenceId: key.referenceId },
      { name: null, prefix: null, expiresAt: null, referenceId: ada.id },
    );
    assert.notEqual(key.key, made.ci.key);
    made.plain = key;
    await sleep(5); // distinct creation times, for sorting by them
    made.alpha = ok(await ada.client.apiKey.create({ name: "alpha" }));
  });

  scenario("apiKey.list lists them, sorted and paged, without the keys themselves", {}, async () => {
    const all = ok(await ada.client.apiKey.list());
    assert.deepEqual(Object.keys(all), ["apiKeys", "total"]);
    assert.equal(all.total, 3);
    assert.deepEqual(all.apiKeys.map((key) => key.id).sort(), [made.ci.id, made.plain.id, made.alpha.id].sort());
    for (const key of all.apiKeys) {
      assertKeyShape(key);
      const { key: secret, ...stored } = Object.values(made).find((one) => one.id === key.id);
      assert.deepEqual(key, stored, "the list item is the create answer without the key");
    }

    // By name, ascending: PostgreSQL puts the key without a name last.
    const byName = ok(await ada.client.apiKey.list({ query: { sortBy: "name", sortDirection: "asc" } }));
    assert.deepEqual(byName.apiKeys.map((key) => key.name), ["alpha", "ci", null]);
    const page = ok(await ada.client.apiKey.list({ query: { sortBy: "name", limit: 1, offset: 1 } }));
    assert.deepEqual(Object.keys(page), ["apiKeys", "total", "limit", "offset"]);
    assert.deepEqual({ ...page, apiKeys: page.apiKeys.map((key) => key.id) }, {
      apiKeys: [made.ci.id],
      total: 3,
      limit: 1,
      offset: 1,
    });
    const newest = ok(
      await ada.client.apiKey.list({ query: { sortBy: "createdAt", sortDirection: "desc", limit: 2 } }),
    );
    assert.deepEqual(newest.apiKeys.map((key) => key.id), [made.alpha.id, made.plain.id]);
    assert.equal(newest.total, 3, "total counts all of the user's keys, not the page");
    assert.equal(newest.limit, 2);
    assert.equal(newest.offset, undefined, "offset is answered only when asked for");
  });

  scenario("apiKey.get reads one key, as the list has it", {}, async () => {
    const key = ok(await ada.client.apiKey.get({ query: { id: made.ci.id } }));
    assertKeyShape(key);
    const { key: secret, ...stored } = made.ci;
    assert.deepEqual(key, stored);
  });

  const onTaskApi = { skip: NO_TASK_API };

  scenario("the key acts as its user on the task API, as x-api-key and as a bearer", onTaskApi, async () => {
    const created = await taskApi("/tasks", { key: made.ci.key, method: "POST", body: { title: "nightly report" } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.ownerId, ada.id, "the task is the key's owner's");
    assert.equal(created.json.title, "nightly report");

    const listed = await taskApi("/tasks", { key: made.ci.key, as: "bearer" });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(
      listed.json.tasks.map((task) => [task.id, task.ownerId]),
      [[created.json.id, ada.id]],
    );
    const one = await taskApi(`/tasks/${created.json.id}`, { key: made.plain.key, as: "bearer" });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.title, "nightly report");

    // The user's own browser session sees the machine's task: one owner.
    const mine = await ada.jar.fetch(server.origin)(`${server.url}/api/v1/tasks`);
    assert.equal(mine.status, 200);
    assert.deepEqual((await mine.json()).tasks.map((task) => task.id), [created.json.id]);

    // Each use is counted on the key, which the client then reads back.
    const used = ok(await ada.client.apiKey.get({ query: { id: made.ci.id } }));
    assert.equal(used.requestCount, 2);
    assert.ok(used.lastRequest instanceof Date, `lastRequest is a Date: ${used.lastRequest}`);
    assert.ok(Math.abs(used.lastRequest.getTime() - Date.now()) < 60_000);
    assert.equal(ok(await ada.client.apiKey.get({ query: { id: made.plain.id } })).requestCount, 1);
  });

  scenario("apiKey.update renames and disables a key; the update answer is the key as get reads it", {}, async () => {
    const before = ok(await ada.client.apiKey.get({ query: { id: made.ci.id } }));
    const updated = ok(await ada.client.apiKey.update({ keyId: made.ci.id, name: "ci-renamed", enabled: false }));
    assertKeyShape(updated);
    assert.deepEqual(updated, { ...before, name: "ci-renamed", enabled: false }, "only the name and switch change");
    assert.deepEqual(ok(await ada.client.apiKey.get({ query: { id: made.ci.id } })), updated);
  });

  scenario("disabled, the key is refused on the task API; enabled again, it works", onTaskApi, async () => {
    for (const as of ["x-api-key", "bearer"]) {
      const refused = await taskApi("/tasks", { key: made.ci.key, as });
      assert.equal(refused.status, 401, refused.text);
      assert.deepEqual(refused.json, { message: "API Key is disabled", code: "KEY_DISABLED" });
    }
    const counted = ok(await ada.client.apiKey.get({ query: { id: made.ci.id } })).requestCount;
    assert.equal(counted, 2, "a refused use is not counted");

    ok(await ada.client.apiKey.update({ keyId: made.ci.id, enabled: true }));
    const listed = await taskApi("/tasks", { key: made.ci.key });
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.json.tasks.length, 1);
  });

  scenario("refusals arrive as the client reports them, with the package's codes and messages", {}, async () => {
    assert.deepEqual(
      refusal(await ada.client.apiKey.create({ name: "metered", remaining: 5 })),
      packageRefusal(400, "SERVER_ONLY_PROPERTY"),
      "remaining is the server's to set",
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.create({ permissions: { task: ["read"] } })),
      packageRefusal(400, "SERVER_ONLY_PROPERTY"),
      "so are permissions",
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.update({ keyId: made.ci.id, rateLimitMax: 1000 })),
      packageRefusal(400, "SERVER_ONLY_PROPERTY"),
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.get({ query: { id: "no-such-key" } })),
      packageRefusal(404, "KEY_NOT_FOUND"),
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.update({ keyId: "no-such-key", name: "x" })),
      packageRefusal(404, "KEY_NOT_FOUND"),
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.create({ expiresIn: 60 })),
      packageRefusal(400, "EXPIRES_IN_IS_TOO_SMALL"),
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.create({ name: "n".repeat(33) })),
      packageRefusal(400, "INVALID_NAME_LENGTH"),
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.update({ keyId: made.ci.id })),
      packageRefusal(400, "NO_VALUES_TO_UPDATE"),
    );
    assert.deepEqual(refusal(await ada.client.apiKey.create({ prefix: "not a prefix" })), {
      status: 400,
      code: "VALIDATION_ERROR",
      message:
        "[body.prefix] Invalid prefix format, must be alphanumeric and contain only underscores and hyphens.",
    });

    // Another user sees none of Ada's keys; a signed-out browser is told to sign in.
    const bob = browser();
    ok(await bob.client.signUp.email({ name: "Bob", email: uniqueEmail("apikey-client-bob"), password: PASSWORD }));
    assert.deepEqual(ok(await bob.client.apiKey.list()), { apiKeys: [], total: 0 });
    assert.deepEqual(
      refusal(await bob.client.apiKey.get({ query: { id: made.ci.id } })),
      packageRefusal(404, "KEY_NOT_FOUND"),
    );
    assert.deepEqual(
      refusal(await bob.client.apiKey.delete({ keyId: made.ci.id })),
      packageRefusal(404, "KEY_NOT_FOUND"),
    );
    const nobody = browser();
    assert.deepEqual(refusal(await nobody.client.apiKey.list()), {
      status: 401,
      code: "UNAUTHORIZED",
      message: "Unauthorized",
    });
    assert.deepEqual(
      refusal(await nobody.client.apiKey.create({ name: "x" })),
      packageRefusal(401, "UNAUTHORIZED_SESSION"),
    );
  });

  scenario("apiKey.delete revokes a key: gone from the list, and a second delete finds nothing", {}, async () => {
    assert.deepEqual(ok(await ada.client.apiKey.delete({ keyId: made.ci.id })), { success: true });
    const left = ok(await ada.client.apiKey.list({ query: { sortBy: "name" } }));
    assert.equal(left.total, 2);
    assert.deepEqual(left.apiKeys.map((key) => key.id), [made.alpha.id, made.plain.id]);
    assert.deepEqual(
      refusal(await ada.client.apiKey.get({ query: { id: made.ci.id } })),
      packageRefusal(404, "KEY_NOT_FOUND"),
    );
    assert.deepEqual(
      refusal(await ada.client.apiKey.delete({ keyId: made.ci.id })),
      packageRefusal(404, "KEY_NOT_FOUND"),
    );
  });

  scenario("deleted, the key no longer works on the task API; the user's other key still does", onTaskApi, async () => {
    for (const as of ["x-api-key", "bearer"]) {
      const refused = await taskApi("/tasks", { key: made.ci.key, as });
      assert.equal(refused.status, 401, refused.text);
      assert.deepEqual(refused.json, { message: "Unauthorized", code: "UNAUTHORIZED" });
    }
    const other = await taskApi("/tasks", { key: made.plain.key });
    assert.equal(other.status, 200, other.text);
    assert.deepEqual(other.json.tasks.map((task) => task.title), ["nightly report"]);
  });
});
