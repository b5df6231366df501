// The OpenAPI document at /api/openapi.json, judged by tools that did not write it: openapi-spec-validator checks it
// against the OpenAPI 3.1 schema, and schemathesis fuzzes the running Warden from it, property-based, once without
// credentials and once as a signed-up user, failing on any 5xx and on any answer the document does not describe
// (an undocumented status, content type or body shape).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { CookieJar, PASSWORD, run, uniqueEmail, wardenUrl } from "./helpers.mjs";

const venvBin = (name) => fileURLToPath(new URL(`../.venv/bin/${name}`, import.meta.url));

// Each run's wall-clock budget: schemathesis keeps fuzzing until it is spent, so the two runs take about 2 × this.
const FUZZ_SECONDS = 25;
const MAX_EXAMPLES = 25;

const CHECKS = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_schema_conformance",
].join(",");

/** Runs schemathesis against the document with `extra` arguments; resolves to its exit code and output. */
async function fuzz(directory, extra) {
  const started = Date.now();
  const result = await run(
    venvBin("schemathesis"),
    [
      "run",
      `${wardenUrl()}/api/openapi.json`,
      "--checks", CHECKS,
      "--max-examples", String(MAX_EXAMPLES),
      "--max-time", String(FUZZ_SECONDS),
      // Stateful testing needs OpenAPI links, which the document does not declare.
      "--phases", "examples,coverage,fuzzing",
      // A redirect is an answer to check, not one to follow (reset and verification links redirect anywhere).
      "--max-redirects", "0",
      "--request-timeout", "15",
      "--workers", "2",
      "--continue-on-failure",
      "--suppress-health-check", "too_slow,filter_too_much",
      "--generation-database", "none",
      // Generated session cookies would stop every write at the origin check (a fuzzer sends no Origin), and
      // generated bearer values would take the place of the real one.
      "--generation-with-security-parameters", "false",
      "--no-color",
      ...extra,
    ],
    // In a directory of its own, which goes with the test: schemathesis keeps the failures it found (for
    // `st replay`) in .schemathesis/ under the working directory.
    { cwd: directory, timeout: (FUZZ_SECONDS + 60) * 1000, env: { ...process.env, NO_COLOR: "1" } },
  );
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

function assertClean({ code, stdout, stderr, seconds }, what) {
  const output = `${stdout}\n${stderr}`;
  console.log(`schemathesis ${what}: ${seconds.toFixed(1)} s`);
  assert.equal(code, 0, `schemathesis ${what} exited ${code}:\n${output}`);
}

describe("the OpenAPI document", () => {
  let directory;
  let file;

  before(async () => {
    assert.match(wardenUrl(), /^http:\/\/127\.0\.0\.1:\d+$/, "the fuzzer only ever talks to a loopback Warden");
    const response = await fetch(`${wardenUrl()}/api/openapi.json`);
    assert.equal(response.status, 200);
    const text = await response.text();
    directory = await mkdtemp(path.join(tmpdir(), "warden-openapi-"));
    file = path.join(directory, "openapi.json");
    await writeFile(file, text);
  });

  after(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  test("is valid OpenAPI 3.1 (openapi-spec-validator)", async () => {
    const { code, stdout, stderr } = await run(venvBin("openapi-spec-validator"), [
      "--schema", "3.1",
      "--validation-errors", "all",
      file,
    ]);
    assert.equal(code, 0, `openapi-spec-validator:\n${stdout}${stderr}`);
  });

  test("leads schemathesis to no 5xx and no undescribed answer, without credentials", async () => {
    assertClean(await fuzz(directory, []), "without credentials");
  });

  test("leads schemathesis to no 5xx and no undescribed answer, as a signed-in user", async () => {
    const jar = new CookieJar();
    const signUp = await jar.fetch()(`${wardenUrl()}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Fuzz", email: uniqueEmail("fuzz"), password: PASSWORD }),
    });
    assert.equal(signUp.status, 200);
    const token = signUp.headers.get("set-auth-token");
    assert.ok(token, "sign-up answers set-auth-token");

    const excluded = [
      // These end the credential the run is made with, after which every other route would only see 401s:
      // schemathesis reuses values from earlier answers, so revoke-session is sent the session's own token (which
      // get-session shows).
      "/api/auth/sign-out",
      "/api/auth/revoke-sessions",
      "/api/auth/revoke-session",
      "/api/auth/delete-user",
    ].flatMap((page) => ["--exclude-path", page]);
    const result = await fuzz(directory, [
      // A bearer token, not the cookie: Warden, like Better Auth, checks the origin of cookie-carrying writes, and a
      // fuzzer sends no Origin, so with a cookie every write would stop at 403.
      "--header", `Authorization: Bearer ${token}`,
      ...excluded,
    ]);
    assertClean(result, "as a signed-in user");

    const session = await fetch(`${wardenUrl()}/api/auth/get-session`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(session.status, 200);
    assert.notEqual(await session.json(), null, "the run's session outlives it");
  });
});
