// A gRPC-web client (Connect's createGrpcWebTransport, with code generated from proto/ by buf and protoc-gen-es)
// calling auth-svc and task-svc directly, as a browser app would.

import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { AuthService } from "../gen/warden/auth/v1/auth_pb.js";
import { PasskeyService } from "../gen/warden/auth/v1/passkey_pb.js";
import { SocialService } from "../gen/warden/auth/v1/social_pb.js";
import { TwoFactorService } from "../gen/warden/auth/v1/two_factor_pb.js";
import { TaskService } from "../gen/warden/task/v1/task_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { PASSWORD, authAddr, taskAddr, totpCode, uniqueEmail, wardenUrl } from "./helpers.mjs";
import { SoftAuthenticator } from "./webauthn-authenticator.mjs";

const auth = createClient(AuthService, createGrpcWebTransport({ baseUrl: `http://${authAddr()}` }));
const social = createClient(SocialService, createGrpcWebTransport({ baseUrl: `http://${authAddr()}` }));
const twoFactor = createClient(TwoFactorService, createGrpcWebTransport({ baseUrl: `http://${authAddr()}` }));
const passkeys = createClient(PasskeyService, createGrpcWebTransport({ baseUrl: `http://${authAddr()}` }));
const tasks = createClient(TaskService, createGrpcWebTransport({ baseUrl: `http://${taskAddr()}` }));

const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

/** Runs `call`, which must fail, and returns its ConnectError with the ErrorInfo reason it carries. */
async function failure(call) {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${error}`);
    const [info] = error.findDetails(ErrorInfoSchema);
    return { code: error.code, message: error.rawMessage, reason: info?.reason };
  }
  assert.fail("the call succeeded");
}

/** Signs a new user up over gRPC-web, then signs in; returns the sign-in response. */
async function signedIn(label) {
  const email = uniqueEmail(label);
  const signedUp = await auth.signUpEmail({ name: "Grace Hopper", email, password: PASSWORD });
  assert.match(signedUp.token ?? "", /^[A-Za-z0-9]{32}$/);
  const signIn = await auth.signInEmail({ email, password: PASSWORD });
  return { email, signUp: signedUp, signIn };
}

describe("a gRPC-web client", () => {
  let grace;
  before(async () => {
    grace = await signedIn("grpc-web");
  });

  test("signs in and gets a session token, its user and session", async () => {
    const { email, signUp, signIn } = grace;
    assert.match(signIn.token, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(signIn.token, signUp.token);
    assert.equal(signIn.redirect, false);
    assert.equal(signIn.user.email, email);
    assert.equal(signIn.user.name, "Grace Hopper");
    assert.equal(signIn.user.id, signUp.user.id);
    assert.ok(timestampDate(signIn.user.createdAt) <= new Date());

    const session = await auth.getSession({}, bearer(signIn.token));
    assert.equal(session.user.id, signIn.user.id);
    assert.equal(session.session.userId, signIn.user.id);
    assert.ok(timestampDate(session.session.expiresAt) > new Date());
    assert.match(session.jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test("creates, lists, updates and deletes a task", async () => {
    const token = grace.signIn.token;
    const created = await tasks.createTask(
      { task: { title: "Write the report", description: "for Tuesday" } },
      bearer(token),
    );
    assert.ok(created.id);
    assert.equal(created.ownerId, grace.signIn.user.id);
    assert.equal(created.title, "Write the report");
    assert.equal(created.description, "for Tuesday");
    assert.equal(created.completed, false);
    assert.ok(created.etag);
    assert.ok(created.createdAt && created.updatedAt);

    const listed = await tasks.listTasks({ pageSize: 10 }, bearer(token));
    assert.deepEqual(
      listed.tasks.map((task) => task.id),
      [created.id],
    );
    assert.equal(listed.nextPageToken, "");

    // Only the masked field changes: the title sent along is ignored.
    const updated = await tasks.updateTask(
      {
        task: { id: created.id, etag: created.etag, completed: true, title: "ignored" },
        updateMask: { paths: ["completed"] },
      },
      bearer(token),
    );
    assert.equal(updated.id, created.id);
    assert.equal(updated.completed, true);
    assert.equal(updated.title, "Write the report");
    assert.notEqual(updated.etag, created.etag);

    const completed = await tasks.listTasks({ pageSize: 10, completed: true }, bearer(token));
    assert.deepEqual(
      completed.tasks.map((task) => [task.id, task.completed]),
      [[created.id, true]],
    );
    const open = await tasks.listTasks({ pageSize: 10, completed: false }, bearer(token));
    assert.deepEqual(open.tasks, []);

    const stale = await failure(() =>
      tasks.updateTask(
        { task: { id: created.id, etag: created.etag, title: "Stale" }, updateMask: { paths: ["title"] } },
        bearer(token),
      ),
    );
    assert.equal(stale.code, Code.FailedPrecondition);
    assert.equal(stale.reason, "ETAG_MISMATCH");

    await tasks.deleteTask({ id: created.id, etag: updated.etag }, bearer(token));
    assert.deepEqual((await tasks.listTasks({}, bearer(token))).tasks, []);
    const gone = await failure(() => tasks.getTask({ id: created.id }, bearer(token)));
    assert.equal(gone.code, Code.NotFound);
    assert.equal(gone.reason, "TASK_NOT_FOUND");
  });

  test("pages through tasks with next_page_token", async () => {
    const { signIn } = await signedIn("grpc-web-pages");
    const titles = ["one", "two", "three"];
    for (const title of titles) await tasks.createTask({ task: { title } }, bearer(signIn.token));

    const first = await tasks.listTasks({ pageSize: 2 }, bearer(signIn.token));
    assert.equal(first.tasks.length, 2);
    assert.notEqual(first.nextPageToken, "");
    const second = await tasks.listTasks({ pageSize: 2, pageToken: first.nextPageToken }, bearer(signIn.token));
    assert.equal(second.tasks.length, 1);
    assert.equal(second.nextPageToken, "");
    assert.deepEqual([...first.tasks, ...second.tasks].map((task) => task.title).sort(), [...titles].sort());
  });

  test("calls task-svc with the JWT that auth-svc issues", async () => {
    const { jwt } = await auth.getSession({}, bearer(grace.signIn.token));
    const created = await tasks.createTask({ task: { title: "With a JWT" } }, bearer(jwt));
    assert.equal(created.ownerId, grace.signIn.user.id);
    await tasks.deleteTask({ id: created.id }, bearer(jwt));
  });

  test("is refused another user's task, as if it did not exist", async () => {
    const { signIn: mallory } = await signedIn("grpc-web-other");
    const created = await tasks.createTask({ task: { title: "Mine" } }, bearer(grace.signIn.token));
    const denied = await failure(() => tasks.getTask({ id: created.id }, bearer(mallory.token)));
    assert.equal(denied.code, Code.NotFound);
    const notDeleted = await failure(() => tasks.deleteTask({ id: created.id }, bearer(mallory.token)));
    assert.equal(notDeleted.code, Code.NotFound);
    await tasks.deleteTask({ id: created.id }, bearer(grace.signIn.token));
  });

  test("gets Unauthenticated with Better Auth's error code for a wrong password or no credentials", async () => {
    const wrong = await failure(() => auth.signInEmail({ email: grace.email, password: "not the password" }));
    assert.equal(wrong.code, Code.Unauthenticated);
    assert.equal(wrong.reason, "INVALID_EMAIL_OR_PASSWORD");
    assert.equal(wrong.message, "Invalid email or password");

    const anonymous = await failure(() => tasks.listTasks({}));
    assert.equal(anonymous.code, Code.Unauthenticated);
    const forged = await failure(() => tasks.listTasks({}, bearer("not-a-session-token")));
    assert.equal(forged.code, Code.Unauthenticated);
  });

  test("answers a browser's CORS preflight for Warden's own origin only, on both services", async () => {
    const preflight = (addr, path, origin) =>
      fetch(`http://${addr}${path}`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,x-grpc-web,x-user-agent,authorization",
        },
      });
    for (const [addr, path] of [
      [authAddr(), "/warden.auth.v1.AuthService/SignInEmail"],
      [taskAddr(), "/warden.task.v1.TaskService/ListTasks"],
    ]) {
      const allowed = await preflight(addr, path, wardenUrl());
      assert.ok(allowed.ok, `${addr}: preflight answered ${allowed.status}`);
      assert.equal(allowed.headers.get("access-control-allow-origin"), wardenUrl());
      const allowedHeaders = allowed.headers.get("access-control-allow-headers")?.toLowerCase() ?? "";
      for (const header of ["content-type", "x-grpc-web", "authorization"]) {
        assert.ok(allowedHeaders.includes(header), `${addr}: ${header} not in ${allowedHeaders}`);
      }
      const foreign = await preflight(addr, path, "http://elsewhere.example");
      assert.equal(foreign.headers.get("access-control-allow-origin"), null);
    }

    // A browser reads an error's status from headers only when they are exposed to it.
    const answer = await fetch(`http://${authAddr()}/warden.auth.v1.AuthService/SignInEmail`, {
      method: "POST",
      headers: { origin: wardenUrl(), "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: new Uint8Array(5),
    });
    assert.equal(answer.headers.get("access-control-allow-origin"), wardenUrl());
    const exposed = answer.headers.get("access-control-expose-headers")?.toLowerCase() ?? "";
    for (const header of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) {
      assert.ok(exposed.includes(header), `${header} not in ${exposed}`);
    }
  });

  test("loses access once the session is signed out", async () => {
    const { signIn } = await signedIn("grpc-web-sign-out");
    await tasks.listTasks({}, bearer(signIn.token));
    const out = await auth.signOut({}, bearer(signIn.token));
    assert.equal(out.success, true);
    const after = await failure(() => tasks.listTasks({}, bearer(signIn.token)));
    assert.equal(after.code, Code.Unauthenticated);
  });

  test("reaches SocialService: the providers, the caller's accounts and Better Auth's refusals", async () => {
    // This Warden has no provider configured.
    const { providers } = await social.listProviders({});
    assert.deepEqual(providers, []);
    const unknown = await failure(() => social.startSignIn({ provider: "google" }));
    assert.equal(unknown.code, Code.NotFound);
    assert.equal(unknown.reason, "PROVIDER_NOT_FOUND");

    const { signIn } = await signedIn("grpc-web-social");
    const { accounts } = await social.listAccounts({}, bearer(signIn.token));
    assert.deepEqual(
      accounts.map((account) => [account.providerId, account.accountId, account.userId]),
      [["credential", signIn.user.id, signIn.user.id]],
    );
    const last = await failure(() =>
      social.unlinkAccount({ accountId: accounts[0].accountId }, bearer(signIn.token)),
    );
    assert.equal(last.reason, "FAILED_TO_UNLINK_LAST_ACCOUNT");
    const anonymous = await failure(() => social.listAccounts({}));
    assert.equal(anonymous.code, Code.Unauthenticated);
  });

  test("reaches TwoFactorService: enrols, then completes a sign-in's challenge without cookies", async () => {
    const { email, signIn } = await signedIn("grpc-web-two-factor");
    const enabled = await twoFactor.enable({ password: PASSWORD }, bearer(signIn.token));
    assert.equal(enabled.method, "totp");
    assert.equal(enabled.backupCodes.length, 10);
    const enrolled = await twoFactor.verifyTotp({ code: totpCode(enabled.totpUri) }, bearer(signIn.token));
    assert.equal(enrolled.sessionOpened, true);
    assert.equal(enrolled.user.twoFactorEnabled, true);

    const challenged = await auth.signInEmail({ email, password: PASSWORD });
    assert.equal(challenged.token, "");
    assert.deepEqual(challenged.twoFactor.methods, ["totp", "otp"]);
    const wrong = await failure(() =>
      twoFactor.verifyTotp({ code: "000000", challenge: challenged.twoFactor.challenge }),
    );
    assert.equal(wrong.code, Code.Unauthenticated);
    assert.equal(wrong.reason, "INVALID_CODE");
    const done = await twoFactor.verifyTotp({
      code: totpCode(enabled.totpUri, 1),
      challenge: challenged.twoFactor.challenge,
    });
    assert.equal(done.challengeCompleted, true);
    const session = await auth.getSession({}, bearer(done.token));
    assert.equal(session.user.email, email);
  });

  test("reaches PasskeyService: registers a passkey, then signs in with it, ceremonies as tokens", async () => {
    const { email, signIn } = await signedIn("grpc-web-passkey");
    const authenticator = new SoftAuthenticator({ algorithm: "ES256" });
    const registration = await passkeys.generateRegisterOptions({ name: "Laptop" }, bearer(signIn.token));
    const created = authenticator.register(JSON.parse(registration.optionsJson), wardenUrl());
    const registered = await passkeys.verifyRegistration(
      { responseJson: JSON.stringify(created), name: "Laptop", challenge: registration.challenge },
      bearer(signIn.token),
    );
    assert.equal(registered.passkey.name, "Laptop");
    assert.equal(registered.passkey.credentialId, created.id);
    assert.equal(registered.session, undefined);

    const ceremony = await passkeys.generateAuthenticateOptions({});
    const options = JSON.parse(ceremony.optionsJson);
    assert.equal(options.allowCredentials, undefined, "no session: any passkey of the site");
    const assertion = authenticator.authenticate(options, wardenUrl());
    const signedInWithPasskey = await passkeys.verifyAuthentication({
      responseJson: JSON.stringify(assertion),
      challenge: ceremony.challenge,
    });
    assert.equal(signedInWithPasskey.user.email, email);
    const session = await auth.getSession({}, bearer(signedInWithPasskey.session.token));
    assert.equal(session.user.email, email);
    // The ceremony is used up.
    const again = await failure(() =>
      passkeys.verifyAuthentication({ responseJson: JSON.stringify(assertion), challenge: ceremony.challenge }),
    );
    assert.equal(again.reason, "CHALLENGE_NOT_FOUND");
    const listed = await passkeys.listUserPasskeys({}, bearer(signedInWithPasskey.session.token));
    assert.deepEqual(listed.passkeys.map((p) => [p.name, p.counter]), [["Laptop", 1]]);
  });
});
