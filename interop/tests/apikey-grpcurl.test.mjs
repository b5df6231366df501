// API keys with grpcurl (the venv's, 1.8.6) and nothing but server reflection, against interop/run's Warden, which
// serves every plugin (no PLUGINS set), api-key among them: ApiKeyService described, a key created with the user's
// session bearer, task-svc called with it as `x-api-key` and as `authorization: Bearer`, the key revoked.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { PASSWORD, authAddr, run, taskAddr, uniqueEmail, venvGrpcurl } from "./helpers.mjs";

/** Runs `grpcurl -plaintext ARGS...` and returns `{ code, stdout, stderr }`. */
const grpcurl = (...args) => run(venvGrpcurl, ["-plaintext", ...args]);

/** Runs grpcurl, expects success and returns its JSON output. */
async function call(...args) {
  const { code, stdout, stderr } = await grpcurl(...args);
  assert.equal(code, 0, `grpcurl ${args.join(" ")} failed: ${stderr}`);
  return JSON.parse(stdout);
}

/** Runs grpcurl, expects a refusal and returns its stderr. */
async function refusal(...args) {
  const { code, stdout, stderr } = await grpcurl(...args);
  assert.notEqual(code, 0, `grpcurl ${args.join(" ")} succeeded: ${stdout}`);
  assert.equal(stdout.trim(), "");
  return stderr;
}

const TASKS = "warden.task.v1.TaskService";
const KEYS = "warden.auth.v1.ApiKeyService";

describe("grpcurl with API keys, reflection only", () => {
  let user;
  let session;
  let key;
  let keyId;

  before(async () => {
    const signedUp = await call(
      "-d",
      JSON.stringify({ name: "Grace Hopper", email: uniqueEmail("apikey-grpcurl"), password: PASSWORD }),
      authAddr(),
      "warden.auth.v1.AuthService/SignUpEmail",
    );
    user = signedUp.user;
    session = signedUp.token;
    assert.match(session, /^[A-Za-z0-9]{32}$/);
  });

  test("lists ApiKeyService among auth-svc's services", async () => {
    const { code, stdout, stderr } = await grpcurl(authAddr(), "list");
    assert.equal(code, 0, stderr);
    assert.ok(stdout.trim().split("\n").includes(KEYS), stdout);

    const methods = await grpcurl(authAddr(), "list", KEYS);
    assert.equal(methods.code, 0, methods.stderr);
    assert.deepEqual(
      methods.stdout.trim().split("\n").sort(),
      [
        "AuthenticateApiKey",
        "CreateApiKey",
        "DeleteApiKey",
        "DeleteExpiredApiKeys",
        "GetApiKey",
        "ListApiKeys",
        "UpdateApiKey",
        "VerifyApiKey",
      ].map((method) => `${KEYS}.${method}`),
    );
  });

  test("describes ApiKeyService with its comments and google.api.http options", async () => {
    const { code, stdout, stderr } = await grpcurl(authAddr(), "describe", KEYS);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /warden\.auth\.v1\.ApiKeyService is a service:/);
    assert.match(stdout, /rpc CreateApiKey \( \.warden\.auth\.v1\.CreateApiKeyRequest \) returns \( \.warden\.auth\.v1\.CreatedApiKey \)/);
    assert.match(stdout, /rpc DeleteApiKey \( \.warden\.auth\.v1\.DeleteApiKeyRequest \) returns \( \.warden\.auth\.v1\.DeleteApiKeyResponse \)/);
    assert.match(stdout, /option \(\.google\.api\.http\) = \{ post:"\/api\/auth\/api-key\/create" body:"\*"\s*\}/);
    assert.match(stdout, /option \(\.google\.api\.http\) = \{ get:"\/api\/auth\/api-key\/list"\s*\}/);
    assert.match(stdout, /\/\/ API keys, wire-compatible with Better Auth's api-key plugin/);

    const request = await grpcurl(authAddr(), "describe", "warden.auth.v1.CreateApiKeyRequest");
    assert.equal(request.code, 0, request.stderr);
    for (const field of [
      /optional string name = 1;/,
      /optional string user_id = 5;/,
      /optional int32 remaining = 6;/,
      /optional int32 rate_limit_max = 10;/,
      /optional \.warden\.auth\.v1\.Permissions permissions = 12;/,
    ]) {
      assert.match(request.stdout, field);
    }
  });

  test("creates a key with the session bearer: the user's, shown once, 10 requests a day", async () => {
    const created = await call(
      "-H",
      `authorization: Bearer ${session}`,
      "-d",
      '{"name":"grpcurl"}',
      authAddr(),
      `${KEYS}/CreateApiKey`,
    );
    key = created.key;
    keyId = created.apiKey.id;
    assert.match(key, /^[A-Za-z]{64}$/);
    assert.equal(created.apiKey.name, "grpcurl");
    assert.equal(created.apiKey.referenceId, user.id);
    assert.ok(key.startsWith(created.apiKey.start), `start ${created.apiKey.start} is not the key's beginning`);
    assert.equal(created.apiKey.enabled, true);
    assert.equal(created.apiKey.rateLimitEnabled, true);
    assert.equal(created.apiKey.rateLimitMax, 10);
    assert.equal(created.apiKey.rateLimitTimeWindow, 86_400_000);

    const listed = await call("-H", `authorization: Bearer ${session}`, authAddr(), `${KEYS}/ListApiKeys`);
    assert.equal(listed.total, 1);
    assert.deepEqual(
      listed.apiKeys.map((k) => [k.id, k.name]),
      [[keyId, "grpcurl"]],
    );
    assert.equal(listed.apiKeys[0].key, undefined, "a listing never shows the key");
  });

  test("refuses server-only properties to a user who is not an administrator", async () => {
    const stderr = await refusal(
      "-H",
      `authorization: Bearer ${session}`,
      "-d",
      '{"name":"mine","permissions":{"grants":[{"resource":"task","actions":["read"]}]}}',
      authAddr(),
      `${KEYS}/CreateApiKey`,
    );
    assert.match(stderr, /Code: InvalidArgument/);
    assert.match(stderr, /"reason":"SERVER_ONLY_PROPERTY"/);
  });

  test("creates and lists tasks on task-svc as the user with -H 'x-api-key: …'", async () => {
    const created = await call(
      "-H",
      `x-api-key: ${key}`,
      "-d",
      '{"task":{"title":"Compile the report"}}',
      taskAddr(),
      `${TASKS}/CreateTask`,
    );
    assert.equal(created.title, "Compile the report");
    assert.equal(created.ownerId, user.id);

    const listed = await call("-H", `x-api-key: ${key}`, "-d", '{"page_size":20}', taskAddr(), `${TASKS}/ListTasks`);
    assert.deepEqual(
      listed.tasks.map((task) => [task.id, task.title, task.ownerId]),
      [[created.id, "Compile the report", user.id]],
    );

    // The user's session sees the task the key made.
    const mine = await call("-H", `authorization: Bearer ${session}`, taskAddr(), `${TASKS}/ListTasks`);
    assert.deepEqual(
      mine.tasks.map((task) => task.id),
      [created.id],
    );
  });

  test("works as -H 'authorization: Bearer <key>' too", async () => {
    const auth = `authorization: Bearer ${key}`;
    const created = await call("-H", auth, "-d", '{"task":{"title":"Ship it"}}', taskAddr(), `${TASKS}/CreateTask`);
    assert.equal(created.ownerId, user.id);
    const got = await call("-H", auth, "-d", JSON.stringify({ id: created.id }), taskAddr(), `${TASKS}/GetTask`);
    assert.equal(got.title, "Ship it");
    const listed = await call("-H", auth, taskAddr(), `${TASKS}/ListTasks`);
    assert.deepEqual(
      listed.tasks.map((task) => task.title),
      ["Ship it", "Compile the report"],
    );
  });

  test("counts the key's requests", async () => {
    const got = await call(
      "-H",
      `authorization: Bearer ${session}`,
      "-d",
      JSON.stringify({ id: keyId }),
      authAddr(),
      `${KEYS}/GetApiKey`,
    );
    // CreateTask and ListTasks as x-api-key, CreateTask, GetTask and ListTasks as a bearer.
    assert.equal(got.requestCount, 5);
    assert.ok(got.lastRequest, "lastRequest is set");
  });

  test("refuses a key that names nobody with Unauthenticated", async () => {
    const stderr = await refusal("-H", `x-api-key: ${"Z".repeat(64)}`, taskAddr(), `${TASKS}/ListTasks`);
    assert.match(stderr, /Code: Unauthenticated/);
  });

  test("DeleteApiKey revokes the key: the next call is Unauthenticated", async () => {
    const deleted = await call(
      "-H",
      `authorization: Bearer ${session}`,
      "-d",
      JSON.stringify({ key_id: keyId }),
      authAddr(),
      `${KEYS}/DeleteApiKey`,
    );
    assert.deepEqual(deleted, { success: true });

    for (const header of [`x-api-key: ${key}`, `authorization: Bearer ${key}`]) {
      const stderr = await refusal("-H", header, taskAddr(), `${TASKS}/ListTasks`);
      assert.match(stderr, /Code: Unauthenticated/, `${header.split(":")[0]}: ${stderr}`);
    }

    // The session still works, and the key is gone from its owner's list.
    const mine = await call("-H", `authorization: Bearer ${session}`, taskAddr(), `${TASKS}/ListTasks`);
    assert.equal(mine.tasks.length, 2);
    const listed = await call("-H", `authorization: Bearer ${session}`, authAddr(), `${KEYS}/ListApiKeys`);
    assert.equal(listed.total ?? 0, 0);
    assert.deepEqual(listed.apiKeys ?? [], []);
  });
});
