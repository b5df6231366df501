// Better Auth's passkey plugin (@better-auth/passkey 1.7.6) on the wire: one conversation of plain `fetch` requests,
// played against the real Better Auth 1.7 (better-auth-peer.mjs with jwt, bearer and passkey) and against a Warden of
// its own serving the same plugins, each on a scratch database with rp id `localhost`, and compared step by step: the
// status, the names and attributes of Set-Cookie (not their values), the auth headers, and the JSON body's keys (in
// order, for the passkey routes' answers), types and scalar values except ids, tokens, challenges, keys and timestamps
// (compared by kind). Each side's users hold software authenticators (webauthn-authenticator.mjs) that answer the
// options that side handed out.
//
// It walks registration (with a name, without one and opening a session, excluded and foreign credentials, stale
// sessions, mismatched origins and rp ids, reused, missing and wrong challenges), listing, renaming and deleting
// (someone else's passkey, missing and unknown ids, empty names), and signing in with a passkey (discoverable and
// with allowCredentials; reused, missing and tampered challenge cookies; wrong origins both in the Origin header and in
// clientDataJSON; a wrong rp id, a tampered signature, an unknown credential, a counter going backwards, no user
// verification), and each route without a session.
//
// PASSKEY_WIRE=better-auth,better-auth plays it against two Better Auths, which is how the conversation and its
// expectations are checked; unset, it is better-auth,warden. PASSKEY_WIRE_SHOW=1 prints every answer.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { CookieJar, PASSWORD } from "./helpers.mjs";
import { KINDS, compareAnswers, kindAmong, sendStep } from "./wire-compare.mjs";
import { AS_BETTER_AUTH, BETTER_AUTH, OTHER_TRUSTED_ORIGIN, WARDEN, startTarget } from "./passkey-harness.mjs";
import { Cleanup, showLogs, sql } from "./processes.mjs";
import { SoftAuthenticator } from "./webauthn-authenticator.mjs";

const SIDES = (process.env.PASSKEY_WIRE || `${BETTER_AUTH},${WARDEN}`).split(",");
assert.ok(
  SIDES.length === 2 && SIDES.every((side) => side === BETTER_AUTH || side === WARDEN),
  `PASSKEY_WIRE must name two of ${BETTER_AUTH}, ${WARDEN}`,
);

/** The signed cookie naming a WebAuthn challenge (`<cookie prefix>.<webAuthnChallengeCookie>`). */
const CHALLENGE_COOKIE = "better-auth.better-auth-passkey";
const EVIL_ORIGIN = "https://evil.example";
const run = randomBytes(4).toString("hex");
/** The same addresses on both sides; each side has a database of its own. */
const email = (name) => `wire-passkey-${run}-${name}@example.com`;

/**
 * The users' authenticators, the same models on both sides. Ada's laptop takes the server's first algorithm (EdDSA
 * in Better Auth's list) and counts its signatures; her security key is ES256, backed up (a synced passkey) and
 * counts nothing; Bob's phone is RS256.
 */
const AUTHENTICATORS = {
  "ada-laptop": { aaguid: "08987058-cadc-4b81-b6e1-30de50dcbe96" },
  "ada-key": { algorithm: "ES256", backupEligible: true, countsSignatures: false },
  "bob-phone": { algorithm: "RS256" },
  // What the refused registrations are made with, so that the authenticators above hold only accepted credentials.
  spare: {},
};

// --- The comparison (wire-compare.mjs), plus what WebAuthn adds:
// --- base64url challenges, user handles and credential ids compared by their length in bytes, the stored COSE key
// --- (standard base64) likewise, and the order of keys in the passkey routes' JSON.

/** Where a body holds base64url (challenges, user handles, credential ids) or base64 (the COSE public key). */
const BASE64URL_AT = /^(\.challenge|(\[\d+\]|\.passkey)?\.credentialID|\.\w+Credentials\[\d+\]\.id)$/;
const OPTIONS_USER_ID = ".user.id";
const BASE64_AT = /(^|\.|\])publicKey$/;

function kindAt(value, path, step) {
  if (typeof value !== "string") return value;
  const bytes = (encoding) => {
    const ok = encoding === "base64url" ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9+/]*={0,2}$/;
    return ok.test(value) ? `<${encoding} of ${Buffer.from(value, encoding).length} bytes>` : value;
  };
  if (BASE64URL_AT.test(path) || (step.options && path === OPTIONS_USER_ID)) return bytes("base64url");
  if (BASE64_AT.test(path)) return bytes("base64");
  if (/\.aaguid$/.test(path)) return value;
  return kindAmong(KINDS, value);
}

/** Whether the order of keys counts at `path`: in the passkey routes' own JSON, not in the session and user. */
const orderCounts = (step, path, top) =>
  step.path.startsWith("/passkey/") && !(top?.session && /^\.(session|user)/.test(path));

function diffJson(a, b, path, out, step, top = a) {
  const ta = Array.isArray(a) ? "array" : a === null ? "null" : typeof a;
  const tb = Array.isArray(b) ? "array" : b === null ? "null" : typeof b;
  if (ta !== tb) {
    out.push(`${path || "body"}: ${ta} vs ${tb}`);
    return;
  }
  if (ta === "array") {
    if (a.length !== b.length) out.push(`${path}: ${a.length} vs ${b.length} items`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffJson(a[i], b[i], `${path}[${i}]`, out, step, top);
  } else if (ta === "object") {
    const [ka, kb] = [Object.keys(a), Object.keys(b)];
    for (const k of new Set([...ka, ...kb])) {
      if (!(k in a)) out.push(`${path}.${k}: only in B`);
      else if (!(k in b)) out.push(`${path}.${k}: only in A`);
      else diffJson(a[k], b[k], `${path}.${k}`, out, step, top);
    }
    const common = (keys, other) => keys.filter((k) => k in other).join(",");
    if (orderCounts(step, path, top) && common(ka, b) !== common(kb, a)) {
      out.push(`${path || "body"}: keys in the order ${ka.join(",")} vs ${kb.join(",")}`);
    }
  } else if (kindAt(a, path, step) !== kindAt(b, path, step)) {
    out.push(`${path || "body"}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
}

/** The differences between two sides' answers to one step, as lines (none: the same). */
const compare = (step, a, b) => compareAnswers(a, b, (ja, jb, out) => diffJson(ja, jb, "", out, step));

// --- One side: a server, its browsers (cookie jars), its users' authenticators, the options each browser was last
// --- handed, the passkeys' ids by label and the assertions sent.

class Side {
  constructor(target) {
    this.target = target;
    this.jars = new Map();
    this.authenticators = new Map();
    /** The options JSON each browser was last handed. */
    this.options = new Map();
    /** Passkey row ids by the label of the step that made them. */
    this.passkeys = new Map();
    /** The last assertion each browser sent, and the challenge cookie it went with. */
    this.sent = new Map();
  }

  jar(name) {
    if (!this.jars.has(name)) this.jars.set(name, new CookieJar());
    return this.jars.get(name);
  }

  authenticator(name) {
    if (!this.authenticators.has(name)) this.authenticators.set(name, new SoftAuthenticator(AUTHENTICATORS[name]));
    return this.authenticators.get(name);
  }

  optionsOf(jar) {
    const options = this.options.get(jar);
    assert.ok(options, `${jar} was handed no options on ${this.target.kind}`);
    return options;
  }

  passkey(label) {
    const id = this.passkeys.get(label);
    assert.ok(id, `no passkey ${label} on ${this.target.kind}`);
    return id;
  }

  send(step) {
    return sendStep(this, step);
  }
}

/** Replaces one cookie's value in a jar, as a browser's user could. */
function setCookie(jar, name, value) {
  jar.store(new Headers([["set-cookie", `${name}=${value}; Path=/`]]));
}

/** Removes one cookie from a jar. */
function dropCookie(jar, name) {
  jar.store(new Headers([["set-cookie", `${name}=; Path=/; Max-Age=0`]]));
}

/**
 * Makes the newest session of `user` older than a day (Better Auth's `session.freshAge`), before anything reads it:
 * such a session may no longer register passkeys.
 */
async function ageNewestSession(side, user) {
  const { rowCount } = await sql(
    side.target.databaseUrl,
    `UPDATE session SET "createdAt" = now() - interval '2 days'
      WHERE id = (SELECT s.id FROM session s JOIN "user" u ON u.id = s."userId"
                   WHERE u.email = $1 ORDER BY s."createdAt" DESC LIMIT 1)`,
    [email(user)],
  );
  assert.equal(rowCount, 1, "the user has a session row");
}

// --- The conversation. HTTP steps: { name, jar, path (under /api/auth), body (a value, or a function of the side),
// --- headers, expect: [status, code] (no code: any; null: none), warden: [status, code] (what Warden answers
// --- instead, on purpose), then(side, answer) }; `jar` names a browser, none is a fresh one. Steps with `act` do
// --- something on each side and are not compared.

const passkeyRoute = (route) => (route.startsWith("/") ? route : `/passkey/${route}`);
const get = (name, jar, route, expect, more = {}) => ({ name, jar, path: passkeyRoute(route), expect, ...more });
const post = (name, jar, route, body, expect, more = {}) => ({
  name,
  jar,
  path: passkeyRoute(route),
  body,
  expect,
  ...more,
});
const signUp = (user) =>
  post(`${user} signs up`, user, "/sign-up/email", { name: user, email: email(user), password: PASSWORD }, [200]);
const signIn = (user, jar) =>
  post(`${user} signs in (${jar})`, jar, "/sign-in/email", { email: email(user), password: PASSWORD }, [200]);
const getSession = (jar) => ({ name: `get-session (${jar})`, jar, path: "/get-session", expect: [200] });

/** generate-register-options, keeping what the browser was handed. */
const registerOptions = (name, jar, expect = [200], query = "") =>
  get(name, jar, `generate-register-options${query}`, expect, {
    options: true,
    then: (side, answer) => side.options.set(jar, answer.json),
  });

/** generate-authenticate-options, keeping what the browser was handed. */
const authenticateOptions = (name, jar, expect = [200]) =>
  get(name, jar, "generate-authenticate-options", expect, {
    options: true,
    then: (side, answer) => side.options.set(jar, answer.json),
  });

/**
 * verify-registration with `authenticator`'s answer to the options `jar` was last handed; `label` names the passkey
 * for later steps. `body`: more of the body (name, createSession); `knobs`: `{ origin, rpId }` written into the
 * credential instead of the right ones.
 */
const register = (name, jar, authenticator, expect, { label, body = {}, knobs = {}, ...more } = {}) =>
  post(
    name,
    jar,
    "verify-registration",
    (side) => ({
      response: side.authenticator(authenticator).register(side.optionsOf(jar), side.target.origin, knobs),
      ...body,
    }),
    expect,
    { ...more, then: label ? (side, answer) => side.passkeys.set(label, answer.json.id) : undefined },
  );

/**
 * verify-authentication with `authenticator`'s assertion for the options `jar` was last handed, made on the side's
 * own origin unless `knobs.origin` says otherwise (see SoftAuthenticator.authenticate for the knobs).
 */
const assertion = (name, jar, authenticator, expect, { knobs = {}, ...more } = {}) =>
  post(
    name,
    jar,
    "verify-authentication",
    (side) => {
      const response = side.authenticator(authenticator).authenticate(side.optionsOf(jar), side.target.origin, knobs);
      side.sent.set(jar, { response, cookie: side.jar(jar).get(CHALLENGE_COOKIE) });
      return { response };
    },
    expect,
    more,
  );

/** update-passkey of the passkey labelled `label`, to `name` (none: no name in the body). */
const rename = (step, jar, label, name, expect) =>
  post(step, jar, "update-passkey", (side) => ({ id: side.passkey(label), name }), expect);

/** delete-passkey of the passkey labelled `label`. */
const remove = (step, jar, label, expect) =>
  post(step, jar, "delete-passkey", (side) => ({ id: side.passkey(label) }), expect);

/** Signing in with a passkey in a browser of its own: options, then the assertion. */
const passkeySignIn = (name, jar, authenticator, expect, more = {}) => [
  authenticateOptions(`${name}: options`, jar),
  assertion(name, jar, authenticator, expect, more),
];

const UNAUTHORIZED = [401, "UNAUTHORIZED"];
const CHALLENGE_NOT_FOUND = [400, "CHALLENGE_NOT_FOUND"];
const NOT_FOUND = [404, "PASSKEY_NOT_FOUND"];
/** An assertion for a credential no passkey row has. */
const UNKNOWN_CREDENTIAL = [401, "PASSKEY_NOT_FOUND"];
const NOT_ALLOWED = [401, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY"];
const REGISTRATION_FAILED = [500, "FAILED_TO_VERIFY_REGISTRATION"];
/** An assertion @simplewebauthn/server refuses (origin, rp id, counter, challenge): Better Auth's catch-all. */
const ASSERTION_REFUSED = [400, "AUTHENTICATION_FAILED"];
/** An assertion whose signature does not verify. */
const BAD_SIGNATURE = [401, "AUTHENTICATION_FAILED"];
const INVALID_ORIGIN = [403, "INVALID_ORIGIN"];
const VALIDATION = [400, "VALIDATION_ERROR"];

const conversation = [
  // Nobody signed in.
  get("generate-register-options without a session", null, "generate-register-options", UNAUTHORIZED),
  post("verify-registration without a session", null, "verify-registration", { response: {} }, UNAUTHORIZED),
  get("list-user-passkeys without a session", null, "list-user-passkeys", UNAUTHORIZED),
  post("delete-passkey without a session", null, "delete-passkey", { id: "nope" }, UNAUTHORIZED),
  post("update-passkey without a session", null, "update-passkey", { id: "nope", name: "x" }, UNAUTHORIZED),
  post("verify-authentication without a challenge", null, "verify-authentication", { response: {} }, [
    ...CHALLENGE_NOT_FOUND,
  ]),
  authenticateOptions("generate-authenticate-options without a session", "nobody"),
  post("verify-authentication without a body", "nobody", "verify-authentication", {}, VALIDATION),
  post("verify-authentication with a response that is not an object", "nobody", "verify-authentication", {
    response: "x",
  }, VALIDATION),
  // The refusals above spent no challenge; this one does, before looking the credential up.
  post("verify-authentication, a credential no one has", "nobody", "verify-authentication", {
    response: { id: "AAAAAAAAAAAAAAAAAAAAAA", rawId: "AAAAAAAAAAAAAAAAAAAAAA", type: "public-key", response: {} },
  }, UNKNOWN_CREDENTIAL),
  post("verify-authentication, that challenge again", "nobody", "verify-authentication", { response: {} }, [
    ...CHALLENGE_NOT_FOUND,
  ]),

  // Ada, signed in, with no passkey yet.
  signUp("ada"),
  get("ada lists her passkeys: none", "ada", "list-user-passkeys", [200]),
  authenticateOptions("generate-authenticate-options signed in, no passkeys", "ada"),
  post("verify-registration after authentication options", "ada", "verify-registration", { response: {} }, [
    ...CHALLENGE_NOT_FOUND,
  ]),
  { name: "ada's browser forgets the challenge", act: (side) => dropCookie(side.jar("ada"), CHALLENGE_COOKIE) },
  post("verify-registration before any options", "ada", "verify-registration", { response: {} }, CHALLENGE_NOT_FOUND),
  registerOptions("generate-register-options, an unknown attachment", "ada", VALIDATION, "?authenticatorAttachment=x"),
  registerOptions(
    "generate-register-options with a name and cross-platform",
    "ada",
    [200],
    "?name=ada%20at%20work&authenticatorAttachment=cross-platform",
  ),
  registerOptions("generate-register-options", "ada"),
  register("verify-registration, the credential made for another origin", "ada", "spare", REGISTRATION_FAILED, {
    knobs: { origin: EVIL_ORIGIN },
  }),
  registerOptions("generate-register-options again", "ada"),
  register("verify-registration, the credential made for another rp id", "ada", "spare", REGISTRATION_FAILED, {
    knobs: { rpId: "evil.example" },
  }),
  registerOptions("generate-register-options once more", "ada"),
  post("verify-registration without a response", "ada", "verify-registration", { name: "nothing" }, VALIDATION),
  register("verify-registration on the challenge the invalid body left unspent", "ada", "spare", [
    ...REGISTRATION_FAILED,
  ], { knobs: { origin: EVIL_ORIGIN } }),
  registerOptions("generate-register-options for the laptop", "ada"),
  register("verify-registration with a name", "ada", "ada-laptop", [200], {
    label: "laptop",
    body: { name: "  Ada's laptop  " },
  }),
  register("verify-registration, the challenge again", "ada", "spare", CHALLENGE_NOT_FOUND),
  get("ada lists her passkeys: the laptop", "ada", "list-user-passkeys", [200]),
  registerOptions("generate-register-options, one passkey to exclude", "ada"),
  {
    name: "the laptop refuses: it holds an excluded credential",
    act: (side) =>
      assert.throws(
        () => side.authenticator("ada-laptop").register(side.optionsOf("ada"), side.target.origin),
        { name: "InvalidStateError" },
      ),
  },
  register("verify-registration with ada's session, no name, opening a session", "ada", "ada-key", [200], {
    label: "key",
    body: { createSession: true },
  }),
  getSession("ada"),
  get("ada lists her passkeys: the laptop and the key", "ada", "list-user-passkeys", [200]),

  // Bob, and what is not his.
  signUp("bob"),
  registerOptions("bob's generate-register-options", "bob"),
  register("bob's verify-registration, an empty name, no transports", "bob", "bob-phone", [200], {
    label: "phone",
    body: { name: "" },
    knobs: { transports: null },
  }),
  get("bob lists his passkeys", "bob", "list-user-passkeys", [200]),
  registerOptions("ada's generate-register-options, for bob to steal", "ada"),
  {
    name: "ada's challenge cookie in bob's browser",
    act: (side) => setCookie(side.jar("bob"), CHALLENGE_COOKIE, side.jar("ada").get(CHALLENGE_COOKIE)),
  },
  {
    ...register("bob's verify-registration on ada's challenge", "bob", "spare", NOT_ALLOWED),
    body: (side) => ({ response: side.authenticator("spare").register(side.optionsOf("ada"), side.target.origin) }),
  },
  rename("ada renames bob's phone", "ada", "phone", "mine", NOT_ALLOWED),
  // Better Auth answers 401 with an empty body here.
  remove("ada deletes bob's phone", "ada", "phone", [401, null]),

  // Renaming and deleting her own.
  rename("update-passkey", "ada", "laptop", "Work laptop", [200]),
  rename("update-passkey, a padded name", "ada", "key", "  Blue key  ", [200]),
  rename("update-passkey, an empty name", "ada", "laptop", "", VALIDATION),
  rename("update-passkey, a blank name", "ada", "laptop", "  ", VALIDATION),
  rename("update-passkey without a name", "ada", "laptop", undefined, VALIDATION),
  post("update-passkey without an id", "ada", "update-passkey", { name: "x" }, VALIDATION),
  post("update-passkey, an unknown id", "ada", "update-passkey", { id: "nope", name: "x" }, NOT_FOUND),
  post("delete-passkey without an id", "ada", "delete-passkey", {}, VALIDATION),
  post("delete-passkey, an id that is not a string", "ada", "delete-passkey", { id: 7 }, VALIDATION),
  post("delete-passkey, an unknown id", "ada", "delete-passkey", { id: "nope" }, NOT_FOUND),
  get("ada lists her passkeys, renamed", "ada", "list-user-passkeys", [200]),

  // Signing in with a passkey.
  ...passkeySignIn("the laptop signs ada in (discoverable)", "ada-browser", "ada-laptop", [200]),
  getSession("ada-browser"),
  {
    name: "put the spent challenge cookie back",
    act: (side) => setCookie(side.jar("ada-browser"), CHALLENGE_COOKIE, side.sent.get("ada-browser").cookie),
  },
  post(
    "verify-authentication, the same assertion again",
    "ada-browser",
    "verify-authentication",
    (side) => ({ response: side.sent.get("ada-browser").response }),
    CHALLENGE_NOT_FOUND,
  ),
  authenticateOptions("generate-authenticate-options with ada's session", "ada"),
  assertion("the key signs ada in (allowCredentials)", "ada", "ada-key", [200]),
  ...passkeySignIn("the key signs ada in again, its counter still 0", "ada-key-browser-2", "ada-key", [200]),
  ...passkeySignIn("bob's phone signs bob in", "bob-browser", "bob-phone", [200]),
  authenticateOptions("generate-authenticate-options with bob's session, a passkey without transports", "bob"),
  registerOptions("generate-register-options, two passkeys to exclude", "ada"),
  assertion("verify-authentication on a registration challenge", "ada", "ada-laptop", CHALLENGE_NOT_FOUND),

  // Refused assertions, each on a challenge of its own (a challenge is spent even when refused).
  ...passkeySignIn("an Origin header Better Auth does not trust", "evil", "ada-laptop", INVALID_ORIGIN, {
    headers: { origin: EVIL_ORIGIN },
    knobs: { origin: EVIL_ORIGIN },
  }),
  ...passkeySignIn("clientDataJSON from another origin", "phished", "ada-laptop", ASSERTION_REFUSED, {
    knobs: { origin: EVIL_ORIGIN },
  }),
  // Better Auth checks clientDataJSON against the request's Origin header; Warden against its own passkey origins
  // (PASSKEY_ORIGINS, by default BASE_URL's and TRUSTED_ORIGINS), never the request's. Both take a ceremony made on a
  // trusted other origin and sent from there; only Warden takes one made on the passkeys' origin and sent from another.
  ...passkeySignIn("clientDataJSON from a trusted other origin, sent from there", "other", "ada-laptop", [200], {
    headers: { origin: OTHER_TRUSTED_ORIGIN },
    knobs: { origin: OTHER_TRUSTED_ORIGIN },
  }),
  ...passkeySignIn("clientDataJSON from the passkeys' origin, sent from a trusted other one", "other-2", "ada-laptop", [
    ...ASSERTION_REFUSED,
  ], {
    headers: { origin: OTHER_TRUSTED_ORIGIN },
    warden: [200],
  }),
  ...passkeySignIn("authenticator data for another rp id", "wrong-rp", "ada-laptop", ASSERTION_REFUSED, {
    knobs: { rpId: "evil.example" },
  }),
  ...passkeySignIn("a tampered signature", "tampered", "ada-laptop", BAD_SIGNATURE, {
    knobs: { tamperSignature: true },
  }),
  // An empty id: the ownership check's own refusal, a message without a code.
  {
    name: "delete-passkey with an empty id",
    jar: "ada",
    path: "/passkey/delete-passkey",
    body: { id: "" },
    expect: [400, null],
  },
  {
    name: "update-passkey with an empty id",
    jar: "ada",
    path: "/passkey/update-passkey",
    body: { id: "", name: "Mine" },
    expect: [400, null],
  },
  // Requests that name no Origin: with cookies the origin check refuses them; without, verify-authentication
  // refuses at once (a message, no code) and verify-registration asks for a session first.
  {
    name: "verify-authentication without an Origin header or cookies",
    path: "/passkey/verify-authentication",
    body: { response: {} },
    noOrigin: true,
    expect: [400, null],
  },
  {
    name: "verify-authentication without an Origin header, with ada's cookies",
    jar: "ada",
    path: "/passkey/verify-authentication",
    body: { response: {} },
    noOrigin: true,
    expect: [403, "MISSING_OR_NULL_ORIGIN"],
  },
  {
    name: "verify-registration without an Origin header or a session",
    path: "/passkey/verify-registration",
    body: { response: {} },
    noOrigin: true,
    expect: [401, "UNAUTHORIZED"],
  },
  {
    name: "verify-registration without an Origin header, with ada's cookies",
    jar: "ada",
    path: "/passkey/verify-registration",
    body: { response: {} },
    noOrigin: true,
    expect: [403, "MISSING_OR_NULL_ORIGIN"],
  },
  ...passkeySignIn("an unknown credential", "unknown", "ada-laptop", UNKNOWN_CREDENTIAL, {
    knobs: { id: "AAAAAAAAAAAAAAAAAAAAAA" },
  }),
  ...passkeySignIn("the laptop's counter going backwards", "cloned", "ada-laptop", ASSERTION_REFUSED, {
    knobs: { counter: 1 },
  }),
  {
    name: "the laptop counts on from where it was",
    act: (side) => {
      side.authenticator("ada-laptop").credential(side.sent.get("ada-browser").response.id).counter = 100;
    },
  },
  // A sign-in without user verification: Better Auth asks for it (userVerification "preferred") but takes an
  // assertion without it; Warden refuses such an assertion as a sign-in.
  ...passkeySignIn("an assertion without user verification", "no-uv", "ada-laptop", [200], {
    knobs: { userVerified: false },
    warden: ASSERTION_REFUSED,
  }),
  ...passkeySignIn("the laptop signs ada in, verified again", "ada-browser-2", "ada-laptop", [200]),
  authenticateOptions("options for a browser that loses its cookie", "forgetful"),
  {
    name: "the browser loses its challenge cookie",
    act: (side) => dropCookie(side.jar("forgetful"), CHALLENGE_COOKIE),
  },
  assertion("verify-authentication without the challenge cookie", "forgetful", "ada-laptop", CHALLENGE_NOT_FOUND),
  authenticateOptions("options for a tampered challenge cookie", "forged"),
  {
    name: "tamper with the challenge cookie",
    act: (side) => {
      const jar = side.jar("forged");
      const value = decodeURIComponent(jar.get(CHALLENGE_COOKIE));
      const flipped = value[4] === "A" ? "B" : "A";
      setCookie(jar, CHALLENGE_COOKIE, encodeURIComponent(value.slice(0, 4) + flipped + value.slice(5)));
    },
  },
  assertion("verify-authentication with a tampered challenge cookie", "forged", "ada-laptop", CHALLENGE_NOT_FOUND),
  get("ada lists her passkeys, counters moved", "ada", "list-user-passkeys", [200]),

  // A session older than a day may no longer register passkeys.
  signIn("ada", "ada-stale"),
  { name: "ada's new session turns two days old", act: (side) => ageNewestSession(side, "ada") },
  registerOptions("generate-register-options on a stale session", "ada-stale", [403, "SESSION_NOT_FRESH"]),
  get("list-user-passkeys on a stale session", "ada-stale", "list-user-passkeys", [200]),

  // Deleting.
  remove("delete-passkey", "ada", "laptop", [200]),
  remove("delete-passkey, deleted already", "ada", "laptop", NOT_FOUND),
  get("ada lists her passkeys: the key", "ada", "list-user-passkeys", [200]),
  ...passkeySignIn("the deleted laptop signs in", "deleted", "ada-laptop", UNKNOWN_CREDENTIAL),
  authenticateOptions("generate-authenticate-options with ada's session, one passkey", "ada"),
];

/** Plays the whole conversation on one side; resolves to one answer per step (`null` for `act` steps). */
async function play(side) {
  const answers = [];
  for (const step of conversation) {
    if (step.act) {
      await step.act(side);
      answers.push(null);
      continue;
    }
    try {
      const answer = await side.send(step);
      if (step.then && answer.status === 200) await step.then(side, answer);
      if (process.env.PASSKEY_WIRE_SHOW) {
        const headers = Object.entries(answer.headers).filter(([, v]) => v !== null);
        console.log(
          `${side.target.kind} ${step.name}: ${answer.status} ${answer.cookies.join(" ")} ` +
            `${headers.map(([h, v]) => `${h}: ${v}`).join(", ")}\n  ${answer.text}`,
        );
      }
      answers.push(answer);
    } catch (error) {
      answers.push({ error: error.message });
    }
  }
  return answers;
}

/**
 * What Warden answers differently on purpose, each as the one difference line it may cause, on the steps it applies
 * to, when Better Auth (A) is compared with Warden (B). Any other difference on such a step still counts. Steps with
 * a `warden` expectation are not compared at all: there the two answer differently by design.
 */
const DELIBERATE = [
  {
    why: "a session's ipAddress without a proxy header: the socket's address (Warden) or empty (Better Auth)",
    applies: () => true,
    line: '.session.ipAddress: "" vs "127.0.0.1"',
  },
];
const versusWarden = SIDES[0] === BETTER_AUTH && SIDES[1] === WARDEN;
const deliberate = versusWarden ? DELIBERATE : [];

const cleanup = new Cleanup();
const services = [];
const answers = [];

describe(`Better Auth's passkey routes on the wire: ${SIDES.join(" vs ")}`, { timeout: 900_000 }, () => {
  before(async () => {
    for (const kind of SIDES) {
      const side = new Side(await startTarget(kind, cleanup, services, { settings: AS_BETTER_AUTH }));
      answers.push(await play(side));
    }
  });
  after(async () => {
    if (answers.length < 2 || conversation.some((_, i) => answers.some((side) => side[i]?.error))) showLogs(services);
    await cleanup.run();
  });

  conversation.forEach((step, i) => {
    if (step.act) return;
    test(`${String(i + 1).padStart(3)} ${step.name}`, () => {
      const [a, b] = answers.map((side) => side[i]);
      for (const [label, answer] of [
        [SIDES[0], a],
        [SIDES[1], b],
      ]) {
        assert.ok(!answer.error, `${label} could not play the step: ${answer.error}`);
        const [status, code] = label === WARDEN && step.warden ? step.warden : step.expect;
        const seen = { status: answer.status, code: answer.json?.code };
        // `[status]`: any code; `[status, null]`: none.
        const wanted = { status, code: code === null ? undefined : (code ?? seen.code) };
        assert.deepEqual(seen, wanted, `${label}: ${answer.text.slice(0, 300)}`);
      }
      if (versusWarden && step.warden) return;
      const kept = deliberate.filter((known) => known.applies(step, a)).map((known) => known.line);
      const differences = compare(step, a, b).filter((line) => !kept.includes(line));
      assert.deepEqual(differences, [], `A: ${a.text.slice(0, 400)}\nB: ${b.text.slice(0, 400)}`);
    });
  });
});
