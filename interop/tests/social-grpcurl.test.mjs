// grpcurl (the real binary, 1.8.6, from the venv) driving auth-svc's SocialService with nothing but server
// reflection: a sign-in started over gRPC, the provider's pages walked over HTTP as a native app's browser would,
// and the code and state handed back to CompleteSignIn. The providers are those of social-harness.mjs: a real
// OpenID Connect provider as Google and as the generic `oidc`, and the GitHub stand-in.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";

import { run, venvGrpcurl } from "./helpers.mjs";
import { PEOPLE, mintTokens, nonce, signInAtProvider, startSocialWarden } from "./social-harness.mjs";

const SERVICE = "warden.auth.v1.SocialService";
// The methods of social.proto (grpcurl lists them sorted by name).
const METHODS = [
  "ListProviders",
  "StartSignIn",
  "CompleteSignIn",
  "SignInWithIdToken",
  "LinkAccount",
  "GetAccessToken",
  "RefreshToken",
  "GetAccountInfo",
  "ListAccounts",
  "UnlinkAccount",
];

let warden;
let failed = false;

before(async () => {
  warden = await startSocialWarden({ label: "social-grpcurl" });
});

after(async () => {
  await warden?.stop({ failed });
});

function check(body) {
  return async (t) => {
    try {
      await body(t);
    } catch (error) {
      failed = true;
      throw error;
    }
  };
}

/** Runs `grpcurl -plaintext ARGS...` against auth-svc: `{ code, stdout, stderr }`. */
const grpcurl = (...args) => run(venvGrpcurl, ["-plaintext", ...args]);

/** Calls `SocialService/<method>` with `request` (and a bearer token), expects success, returns the JSON answer. */
async function call(method, request = {}, token) {
  const { code, stdout, stderr } = await grpcurl(...callArgs(method, request, token));
  assert.equal(code, 0, `${method} failed: ${stderr}`);
  return JSON.parse(stdout);
}

/** Calls a method that must fail: the gRPC code name and the ErrorInfo of the details. */
async function refused(method, request = {}, token) {
  const { code, stderr } = await grpcurl(...callArgs(method, request, token));
  assert.notEqual(code, 0, `${method} succeeded where it should have been refused`);
  const status = stderr.match(/Code: (\w+)/)?.[1];
  const details = stderr.match(/\{"@type":"type\.googleapis\.com\/google\.rpc\.ErrorInfo".*\}/)?.[0];
  assert.ok(details, `no ErrorInfo in ${stderr}`);
  return { status, info: JSON.parse(details), stderr };
}

function callArgs(method, request, token) {
  const method_ = method.includes("/") ? method : `${SERVICE}/${method}`;
  return [
    ...(token ? ["-H", `authorization: Bearer ${token}`] : []),
    "-d",
    JSON.stringify(request),
    warden.authAddr,
    method_,
  ];
}

/** StartSignIn (or LinkAccount), the provider's pages, then CompleteSignIn with the code and both states. */
async function signInOverGrpc(provider, person, { start = "StartSignIn", request = {}, token } = {}) {
  const started = await call(start, { provider, ...request }, token);
  assert.ok(started.url && started.state, JSON.stringify(started));
  const back = new URL(await signInAtProvider(provider, started.url, person));
  assert.equal(back.origin + back.pathname, `${warden.url}/api/auth/callback/${provider}`);
  const query = Object.fromEntries(back.searchParams);
  const completion = {
    providerId: provider,
    state: query.state,
    code: query.code,
    ...(query.iss ? { iss: query.iss } : {}),
    keptState: started.state,
  };
  return { started, completion, completed: await call("CompleteSignIn", completion) };
}

describe("SocialService through grpcurl, with server reflection only", () => {
  test(
    "lists SocialService's methods, exactly those of social.proto",
    check(async () => {
      const { code, stdout, stderr } = await grpcurl(warden.authAddr, "list", SERVICE);
      assert.equal(code, 0, stderr);
      const proto = readFileSync(new URL("../../proto/warden/auth/v1/social.proto", import.meta.url), "utf8");
      assert.deepEqual([...proto.matchAll(/^\s*rpc (\w+)\(/gm)].map((match) => match[1]), METHODS);
      assert.deepEqual(
        stdout.trim().split("\n"),
        METHODS.map((method) => `${SERVICE}.${method}`).sort(),
      );
      const described = await grpcurl(warden.authAddr, "describe", `${SERVICE}.StartSignIn`);
      assert.equal(described.code, 0, described.stderr);
      assert.match(described.stdout, /post:"\/api\/auth\/sign-in\/social" body:"\*"/);
    }),
  );

  test(
    "lists the configured providers in order",
    check(async () => {
      assert.deepEqual(await call("ListProviders"), {
        providers: [
          { id: "google", name: "Google" },
          { id: "github", name: "GitHub" },
          { id: "oidc", name: "Oidc" },
        ],
      });
    }),
  );

  for (const [provider, person] of [
    ["oidc", PEOPLE.grace],
    ["github", PEOPLE.ada],
  ]) {
    test(
      `StartSignIn, the ${provider} provider's pages, CompleteSignIn: a session whose token lists the account`,
      check(async () => {
        const { started, completion, completed } = await signInOverGrpc(provider, person, {
          request: { callbackUrl: "/home", newUserCallbackUrl: "/welcome" },
        });
        assert.equal(new URL(started.url).searchParams.get("state"), started.state);
        assert.equal(completed.redirectUrl, "/welcome");
        assert.equal(completed.newUser, true);
        assert.match(completed.token, /^[A-Za-z0-9]{32}$/);
        assert.equal(completed.user.email, person.email);
        assert.equal(completed.user.emailVerified, true);
        assert.equal(completed.session.userId, completed.user.id);

        const session = await call("warden.auth.v1.AuthService/GetSession", {}, completed.token);
        assert.equal(session.user.id, completed.user.id);
        const { accounts } = await call("ListAccounts", {}, completed.token);
        assert.equal(accounts.length, 1);
        assert.equal(accounts[0].providerId, provider);
        assert.equal(accounts[0].accountId, provider === "github" ? String(person.githubId) : person.sub);
        assert.equal(accounts[0].userId, completed.user.id);

        // The state is single use: the same completion again is refused with Better Auth's ?error= value.
        const again = await refused("CompleteSignIn", completion);
        assert.equal(again.info.reason, "state_mismatch");
        assert.equal(again.info.domain, "warden.auth.v1");
      }),
    );
  }

  test(
    "CompleteSignIn refuses a state the client did not keep, with Better Auth's state_mismatch",
    check(async () => {
      const started = await call("StartSignIn", { provider: "oidc", errorCallbackUrl: "/oops" });
      const other = await call("StartSignIn", { provider: "oidc" });
      const back = new URL(await signInAtProvider("oidc", started.url, PEOPLE.barbara));
      const { status, info } = await refused("CompleteSignIn", {
        providerId: "oidc",
        state: back.searchParams.get("state"),
        code: back.searchParams.get("code"),
        keptState: other.state,
      });
      assert.equal(info.reason, "state_mismatch");
      assert.equal(status, "FailedPrecondition");
      // Where Better Auth would send the browser (the state's errorCallbackURL), and the state is still there
      // for the client that kept it.
      assert.deepEqual(info.metadata, { error_url: "/oops", state_consumed: "false" });
    }),
  );

  test(
    "LinkAccount with a bearer token, then CompleteSignIn links without a session; UnlinkAccount and the last one",
    check(async () => {
      const person = PEOPLE.alan;
      const { completed: first } = await signInOverGrpc("oidc", person);
      const token = first.token;
      const { completed } = await signInOverGrpc("github", person, { start: "LinkAccount", token });
      assert.equal(completed.linked, true);
      assert.equal(completed.token, undefined, "no session is opened by a link");

      const { accounts } = await call("ListAccounts", {}, token);
      assert.deepEqual(accounts.map((account) => account.providerId).sort(), ["github", "oidc"]);
      const github = accounts.find((account) => account.providerId === "github");
      const oidc = accounts.find((account) => account.providerId === "oidc");

      const access = await call("GetAccessToken", { accountId: oidc.id }, token);
      assert.equal(typeof access.accessToken, "string");
      assert.ok(access.accessTokenExpiresAt);
      const info = await call("GetAccountInfo", { accountId: github.id }, token);
      assert.equal(info.email, person.email);
      assert.equal(info.providerAccountId, String(person.githubId));
      assert.equal(JSON.parse(info.dataJson).login, person.github.login);

      assert.deepEqual(await call("UnlinkAccount", { accountId: github.id }, token), { status: true });
      const last = await refused("UnlinkAccount", { accountId: oidc.id }, token);
      assert.equal(last.info.reason, "FAILED_TO_UNLINK_LAST_ACCOUNT");
      assert.equal(last.status, "InvalidArgument");
    }),
  );

  test(
    "SignInWithIdToken with an ID token the provider minted, its nonce checked",
    check(async () => {
      const person = PEOPLE.barbara;
      const n = nonce();
      const tokens = await mintTokens(warden, person, { nonce: n });
      const wrong = await refused("SignInWithIdToken", { provider: "google", idToken: tokens.id_token, nonce: "other" });
      assert.equal(wrong.status, "InvalidArgument");
      assert.equal(wrong.info.reason, "INVALID_TOKEN");

      const signedIn = await call("SignInWithIdToken", { provider: "google", idToken: tokens.id_token, nonce: n });
      assert.match(signedIn.token, /^[A-Za-z0-9]{32}$/);
      assert.equal(signedIn.user.email, person.email);
      const { accounts } = await call("ListAccounts", {}, signedIn.token);
      assert.deepEqual(
        accounts.map((account) => [account.providerId, account.accountId]),
        [["google", person.sub]],
      );

      const github = await refused("SignInWithIdToken", { provider: "github", idToken: tokens.id_token });
      assert.equal(github.info.reason, "ID_TOKEN_NOT_SUPPORTED");
    }),
  );

  test(
    "errors carry Better Auth's codes as ErrorInfo reasons",
    check(async () => {
      const unknown = await refused("StartSignIn", { provider: "nosuch" });
      assert.equal(unknown.status, "NotFound");
      assert.equal(unknown.info.reason, "PROVIDER_NOT_FOUND");
      const evil = await refused("StartSignIn", { provider: "google", callbackUrl: "https://evil.example/" });
      assert.equal(evil.info.reason, "INVALID_CALLBACK_URL");
      const anonymous = await refused("ListAccounts");
      assert.equal(anonymous.status, "Unauthenticated");
      assert.equal(anonymous.info.reason, "UNAUTHORIZED");
      const { completed } = await signInOverGrpc("google", PEOPLE.edsger);
      const missing = await refused("GetAccessToken", { accountId: "no-such-account" }, completed.token);
      assert.equal(missing.info.reason, "ACCOUNT_NOT_FOUND");
    }),
  );
});
