// A Python service with API keys: apikey_service.py, on PyPI's grpcio with stubs that grpc_tools.protoc generates here
// from ../proto, against interop/run's Warden (which serves every plugin, api-key among them). It signs up an
// administrator-to-be and a user through AuthService; this test makes the first an administrator in the database, as
// an operator would; then the program creates keys through ApiKeyService (the user's own, and the administrator's for
// the user with server-only properties), calls TaskService with them as `x-api-key` metadata, reads the refusals'
// google.rpc details with grpc_status, and prints a JSON summary that the tests below assert on.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { authAddr, run, taskAddr, venvPython } from "./helpers.mjs";
import { sql } from "./processes.mjs";

const interop = fileURLToPath(new URL("..", import.meta.url));
const protoRoot = fileURLToPath(new URL("../../proto", import.meta.url));
const program = path.join(interop, "apikey_service.py");
/** The protos the program needs (auth.proto for AuthService and the User that api_key.proto imports). */
const PROTOS = ["warden/auth/v1/auth.proto", "warden/auth/v1/api_key.proto", "warden/task/v1/task.proto"];

const ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";
const RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";

/** Runs apikey_service.py with `env` added and returns its JSON output, failing with its stderr otherwise. */
async function service(stubs, step, env = {}) {
  const { code, stdout, stderr } = await run(venvPython, [program, "--stubs", stubs, step], {
    env: { ...process.env, WARDEN_AUTH_ADDR: authAddr(), WARDEN_TASK_ADDR: taskAddr(), ...env },
    timeout: 60_000,
  });
  assert.equal(code, 0, `apikey_service.py ${step} exited ${code}:\n${stderr}\n${stdout}`);
  return JSON.parse(stdout);
}

/** Asserts a refusal's code and ErrorInfo reason and returns it. */
function refused(outcome, code, reason) {
  assert.equal(outcome.ok, false, `expected ${code}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.code, code, JSON.stringify(outcome));
  assert.equal(outcome.detailsError, undefined, `grpc_status could not read the details: ${outcome.detailsError}`);
  assert.ok(outcome.detailTypes.includes(ERROR_INFO), JSON.stringify(outcome));
  assert.equal(outcome.errorInfo.reason, reason, JSON.stringify(outcome));
  assert.match(outcome.errorInfo.domain, /^warden\.(auth|task)\.v1$/, JSON.stringify(outcome));
  return outcome;
}

function succeeded(outcome) {
  assert.equal(outcome.ok, true, `expected success, got ${JSON.stringify(outcome)}`);
  return outcome.response;
}

describe("a Python gRPC service with API keys (grpcio, grpc_status)", () => {
  let stubs;
  let admin;
  let user;
  let summary;

  before(async () => {
    stubs = await mkdtemp(path.join(tmpdir(), "warden-py-stubs-"));
    const protoc = await run(
      venvPython,
      ["-m", "grpc_tools.protoc", "-I", protoRoot, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, ...PROTOS],
      { cwd: interop },
    );
    assert.equal(protoc.code, 0, `grpc_tools.protoc failed:\n${protoc.stderr}`);

    ({ admin, user } = await service(stubs, "sign-up"));
    const url = process.env.DATABASE_URL;
    assert.ok(url, "DATABASE_URL is not set: run the tests through interop/run, which exports its Warden's");
    const promoted = await sql(url, `UPDATE "user" SET role = 'admin' WHERE id = $1`, [admin.id]);
    assert.equal(promoted.rowCount, 1, `no user ${admin.id} to make an administrator`);

    summary = await service(stubs, "run", {
      WARDEN_ADMIN_TOKEN: admin.token,
      WARDEN_USER_TOKEN: user.token,
      WARDEN_USER_ID: user.id,
    });
    if (process.env.APIKEY_PYTHON_SHOW) console.log(JSON.stringify(summary, null, 2));
  });

  after(async () => {
    if (stubs) await rm(stubs, { recursive: true, force: true });
  });

  test("signs up two users through AuthService with the generated stubs", () => {
    for (const who of [admin, user]) {
      assert.match(who.id, /^\S+$/);
      assert.match(who.token, /^[A-Za-z0-9]{32}$/);
    }
    assert.notEqual(admin.id, user.id);
  });

  test("creates keys for the user: their own with the defaults, the administrator's with server-only properties", () => {
    const { full, daily, readOnly, limited, metered } = summary.keys;
    for (const key of [full, daily, readOnly, limited, metered]) {
      assert.equal(key.referenceId, user.id, "every key is the user's, also those the administrator made");
      assert.equal(key.enabled, true);
      assert.equal(key.keyLength, 64);
      assert.equal(key.keyIsLetters, true);
      assert.equal(key.startIsKeyStart, true);
    }
    // The package's default: 10 requests a day, and the owner's rights.
    for (const key of [full, daily]) {
      assert.equal(key.rateLimitEnabled, true);
      assert.equal(key.rateLimitMax, 10);
      assert.equal(key.rateLimitTimeWindow, 86_400_000);
      assert.equal(key.permissions, undefined);
      assert.equal(key.remaining, undefined);
    }
    assert.deepEqual(readOnly.permissions, { grants: [{ resource: "task", actions: ["read"] }] });
    assert.equal(limited.rateLimitMax, 2);
    assert.equal(limited.rateLimitTimeWindow, 60_000);
    assert.equal(limited.rateLimitEnabled, true);
    assert.equal(metered.remaining, 1);
  });

  test("refuses server-only properties to a user who is not an administrator", () => {
    refused(summary.userSetsPermissions, "INVALID_ARGUMENT", "SERVER_ONLY_PROPERTY");
  });

  test("a full key creates, lists and reads tasks as the user, as x-api-key and as a bearer", () => {
    const created = summary.full.created.map(succeeded);
    assert.deepEqual(
      created.map((task) => [task.title, task.ownerId]),
      [
        ["Nightly export", user.id],
        ["Weekly report", user.id],
      ],
    );
    assert.equal(created[0].description, "from the Python service");
    const ids = created.map((task) => task.id).reverse(); // newest first
    for (const listing of [summary.full.listed, summary.full.listedWithBearer, summary.full.listedWithSession]) {
      assert.deepEqual(
        succeeded(listing).tasks.map((task) => task.id),
        ids,
      );
    }
    const got = succeeded(summary.full.got);
    assert.equal(got.id, created[0].id);
    assert.equal(got.ownerId, user.id);
  });

  test("a read-only key reads the user's tasks and is PERMISSION_DENIED writing them", () => {
    const listed = succeeded(summary.readOnly.listed);
    assert.deepEqual(
      listed.tasks.map((task) => task.title),
      ["Weekly report", "Nightly export"],
    );
    assert.equal(succeeded(summary.readOnly.got).title, "Nightly export");
    refused(summary.readOnly.create, "PERMISSION_DENIED", "INSUFFICIENT_API_KEY_PERMISSIONS");
    refused(summary.readOnly.delete, "PERMISSION_DENIED", "INSUFFICIENT_API_KEY_PERMISSIONS");
  });

  test("a key limited to 2 requests a minute is RESOURCE_EXHAUSTED on the third, with RetryInfo and RATE_LIMITED", () => {
    const [first, second, third] = summary.limited;
    succeeded(first);
    succeeded(second);
    const limited = refused(third, "RESOURCE_EXHAUSTED", "RATE_LIMITED");
    assert.ok(limited.detailTypes.includes(RETRY_INFO), JSON.stringify(limited));
    const delay = limited.retryInfo.retryDelayMs;
    assert.ok(delay > 0 && delay <= 60_000, `RetryInfo's delay ${delay} ms is not within the 60 s window`);
    const tryAgainIn = Number(limited.errorInfo.metadata.tryAgainIn);
    assert.ok(Number.isInteger(tryAgainIn), JSON.stringify(limited.errorInfo));
    assert.ok(Math.abs(tryAgainIn - delay) <= 1, `tryAgainIn ${tryAgainIn} ms and RetryInfo ${delay} ms differ`);
  });

  test("a key with one use left is RESOURCE_EXHAUSTED with USAGE_EXCEEDED on the second call", () => {
    const [first, second] = summary.metered;
    succeeded(first);
    refused(second, "RESOURCE_EXHAUSTED", "USAGE_EXCEEDED");
  });

  test("a key with the default limit makes 10 calls and is RATE_LIMITED for about a day on the 11th", () => {
    const calls = summary.daily;
    assert.equal(calls.length, 11);
    calls.slice(0, 10).forEach((call, i) => assert.equal(call.ok, true, `call ${i + 1}: ${JSON.stringify(call)}`));
    const limited = refused(calls[10], "RESOURCE_EXHAUSTED", "RATE_LIMITED");
    const delay = limited.retryInfo.retryDelayMs;
    assert.ok(delay > 86_400_000 - 60_000 && delay <= 86_400_000, `RetryInfo's delay ${delay} ms is not about a day`);
  });

  test("a deleted key is UNAUTHENTICATED at once, as x-api-key and as a bearer; the other keys still work", () => {
    const { delete: deleted, xApiKey, bearer, readOnlyAfter, remainingKeys } = summary.revoked;
    assert.deepEqual(succeeded(deleted), { success: true });
    for (const outcome of [xApiKey, bearer]) {
      assert.equal(outcome.ok, false, JSON.stringify(outcome));
      assert.equal(outcome.code, "UNAUTHENTICATED", JSON.stringify(outcome));
    }
    assert.equal(succeeded(readOnlyAfter).tasks.length, 2);
    const names = (succeeded(remainingKeys).apiKeys ?? []).map((key) => key.name).sort();
    // The one-use key was deleted when its use was exhausted, as the package deletes it.
    assert.deepEqual(names, ["python daily", "python limited", "python read-only"]);
  });
});
