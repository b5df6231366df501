// Better Auth's api-key plugin (@better-auth/api-key 1.7.5, default options) on the wire: one conversation of plain
// `fetch` requests, played against the real Better Auth 1.7 (better-auth-peer.mjs with jwt, bearer, admin and apiKey())
// and against a Warden of its own serving the same plugins, each on a scratch database, and compared step by step: the
// status, the names and attributes of Set-Cookie (not their values), the auth headers, and the JSON body's keys (in
// order, for the api-key routes' answers), types and scalar values. Ids are compared by whose they are (the user or
// key a step named), keys by their prefix and length (`wd_<64 letters>`), `start` as the key's first characters, and
// a key's timestamps by how they stand to its `createdAt` (`expiresAt` in whole minutes after it, `updatedAt` the same
// instant or later).
//
// It walks creating keys (names, prefixes and expiries at and past their limits, metadata while it is off, each
// property only the server may set, another user's id, bodies that are not JSON or not the right types, requests from
// no or another origin), reading one (its own, another user's, a missing, empty and unknown id), listing (none, all,
// paged, sorted by name both ways and by creation, refused queries), updating (name, enabled, expiry set and cleared,
// refused values, nothing to update, metadata while it is off, server-only properties, someone else's and unknown
// keys), deleting (its own, twice, someone else's, unknown and missing ids), each route without a session, and an API
// key sent as `x-api-key` or as a bearer token, which opens no session (the package's default).
//
// A second conversation runs against two other servers started with sessions from API keys on (Better Auth's
// `apiKey({ enableSessionForAPIKeys: true })`, Warden's API_KEY_SESSIONS=true): `GET /get-session` with an `x-api-key`
// header (the owner and a session made up from the key: its id, the key as token, the key's expiry or Better Auth's
// ten minutes; no cookie, token or JWT header), with a user agent and a forwarded address, with a prefixed and an
// expiring key, with the key as a bearer token only, with the key and another user's cookie or bearer token (the key
// wins), keys too short, unknown, empty, disabled, expired (set in SQL; the row goes) or over their 10 uses a day, the
// key of a banned owner (still served); then `x-api-key` on the api-key routes: list (also beside another user's
// cookie), get, create (with, without and from another origin; a cookie brings the origin check back), update,
// delete (a key deleting itself), and a refused key on list. Each use of a key counts (`requestCount`), which reads
// of the keys over a cookie check.
//
// APIKEY_WIRE=better-auth,better-auth plays both against two Better Auths, which is how the conversations and their
// expectations are checked; unset, it is better-auth,warden. APIKEY_WIRE_SHOW=1 prints every answer.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { BETTER_AUTH, WARDEN, startTarget } from "./apikey-harness.mjs";
import { CookieJar, PASSWORD } from "./helpers.mjs";
import { Cleanup, showLogs, sleep, sql } from "./processes.mjs";
import { KINDS, compareAnswers, kindAmong, sendStep } from "./wire-compare.mjs";

const SIDES = (process.env.APIKEY_WIRE || `${BETTER_AUTH},${WARDEN}`).split(",");
assert.ok(
  SIDES.length === 2 && SIDES.every((side) => side === BETTER_AUTH || side === WARDEN),
  `APIKEY_WIRE must name two of ${BETTER_AUTH}, ${WARDEN}`,
);

const EVIL_ORIGIN = "https://evil.example";
const run = randomBytes(4).toString("hex");
/** The same addresses on both sides; each side has a database of its own. */
const email = (name) => `wire-apikey-${run}-${name}@example.com`;

// --- The comparison (wire-compare.mjs), plus what API keys add: ids named by whose they are, keys and their `start`
// --- by prefix and length, a key's timestamps by how they stand to its `createdAt`, and the order of keys in the
// --- api-key routes' JSON.

/** An ISO timestamp as Better Auth writes them: milliseconds and `Z`. */
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const RANDOM_LETTERS = /^[A-Za-z]*$/;

/** `key` as its prefix and the number of random letters after it, e.g. `wd_<64 letters>`. */
function keyKind(key, prefix) {
  const p = typeof prefix === "string" ? prefix : "";
  if (!key.startsWith(p) || !RANDOM_LETTERS.test(key.slice(p.length))) return key;
  return `${p}<${key.length - p.length} letters>`;
}

/** `start` as the key's first characters (when the key is there too), else as its prefix and random letters. */
function startKind(start, parent) {
  if (typeof parent.key === "string") {
    return parent.key.startsWith(start) ? `<the key's first ${start.length} characters>` : start;
  }
  return keyKind(start, typeof parent.prefix === "string" ? parent.prefix.slice(0, start.length) : "");
}

/** A key's timestamp as it stands to the key's `createdAt`. */
function timestampKind(value, field, parent) {
  if (!ISO.test(value)) return value;
  if (field === "createdAt" || typeof parent.createdAt !== "string" || !ISO.test(parent.createdAt)) {
    return "<timestamp>";
  }
  const after = Date.parse(value) - Date.parse(parent.createdAt);
  if (field === "updatedAt") {
    if (Math.abs(after) < 500) return "<createdAt>";
    return after > 0 ? "<after createdAt>" : "<before createdAt>";
  }
  return `<createdAt + ${Math.round(after / 60_000)} min>`;
}

/** Whether `value` is an API key object of the routes' answers (create, get, update, a list's item). */
const isApiKey = (value) => value !== null && typeof value === "object" && "referenceId" in value && "start" in value;

/**
 * A timestamp of the session an API key stands for (get-session with `x-api-key`): `expiresAt` as the key's own
 * expiry or as seconds after the session's `createdAt`, `updatedAt` as `<createdAt>` or not.
 */
function sessionTimestampKind(value, field, parent, side) {
  if (!ISO.test(value)) return value;
  if (field === "updatedAt") return timestampKind(value, field, parent);
  if (field !== "expiresAt" || typeof parent.createdAt !== "string" || !ISO.test(parent.createdAt)) {
    return "<timestamp>";
  }
  if (side.keyWithId(parent.id)?.expiresAt === value) return "<the key's expiresAt>";
  return `<createdAt + ${Math.round((Date.parse(value) - Date.parse(parent.createdAt)) / 1000)} s>`;
}

/** A scalar as compared: ids by whose they are, keys, starts and a key's timestamps as above, else by kind. */
function kindAt(value, path, parent, side) {
  // How long a rate-limited key waits: milliseconds, compared in whole minutes.
  if (typeof value === "number" && path.endsWith(".details.tryAgainIn")) return `<${Math.round(value / 60_000)} min>`;
  if (typeof value !== "string") return value;
  const field = path.slice(path.lastIndexOf(".") + 1);
  // The session an API key stands for: its id is the key's, its token the key itself.
  if (path === ".session.id") return side.whose(value);
  if (path === ".session.token") return side.whoseKey(value);
  if (/^\.session\.(createdAt|updatedAt|expiresAt)$/.test(path)) {
    return sessionTimestampKind(value, field, parent, side);
  }
  if (isApiKey(parent)) {
    if (field === "id" || field === "referenceId") return side.whose(value);
    if (field === "key") return keyKind(value, parent.prefix);
    if (field === "start") return startKind(value, parent);
    if (["createdAt", "updatedAt", "expiresAt", "lastRequest", "lastRefillAt"].includes(field)) {
      return timestampKind(value, field, parent);
    }
    return value;
  }
  if (/(^|\.)(user\.id|userId)$/.test(path)) return side.whose(value);
  return kindAmong(KINDS, value);
}

/**
 * Whether the order of keys counts at `path`: in the api-key routes' own JSON, in every answer to a request with an
 * `x-api-key` header, and in every error body.
 */
const orderCounts = (answer, path, top) =>
  answer.path.startsWith("/api-key/") ||
  answer.keyed ||
  (path === "" && top !== null && typeof top === "object" && "code" in top);

function diffJson(a, b, path, out, ctx, parents = [null, null]) {
  const ta = Array.isArray(a) ? "array" : a === null ? "null" : typeof a;
  const tb = Array.isArray(b) ? "array" : b === null ? "null" : typeof b;
  if (ta !== tb) {
    out.push(`${path || "body"}: ${ta} vs ${tb}`);
    return;
  }
  if (ta === "array") {
    if (a.length !== b.length) out.push(`${path}: ${a.length} vs ${b.length} items`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffJson(a[i], b[i], `${path}[${i}]`, out, ctx, [a, b]);
  } else if (ta === "object") {
    const [ka, kb] = [Object.keys(a), Object.keys(b)];
    for (const k of new Set([...ka, ...kb])) {
      if (!(k in a)) out.push(`${path}.${k}: only in B`);
      else if (!(k in b)) out.push(`${path}.${k}: only in A`);
      else diffJson(a[k], b[k], `${path}.${k}`, out, ctx, [a, b]);
    }
    const common = (keys, other) => keys.filter((k) => k in other).join(",");
    if (orderCounts(ctx.answer, path, ctx.top) && common(ka, b) !== common(kb, a)) {
      out.push(`${path || "body"}: keys in the order ${ka.join(",")} vs ${kb.join(",")}`);
    }
  } else {
    const [va, vb] = [kindAt(a, path, parents[0], ctx.sides[0]), kindAt(b, path, parents[1], ctx.sides[1])];
    if (va !== vb) out.push(`${path || "body"}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`);
  }
}

/** The differences between two sides' answers to one step, as lines (none: the same). */
const compare = (sides, a, b) =>
  compareAnswers(a, b, (ja, jb, out) => diffJson(ja, jb, "", out, { answer: a, sides, top: ja }));

// --- One side: a server, its browsers (cookie jars), its users' ids and its API keys by label.

class Side {
  constructor(target) {
    this.target = target;
    this.jars = new Map();
    /** User ids by name. */
    this.users = new Map();
    /** `{ id, key }` of each API key, by the label of the step that made it. */
    this.keys = new Map();
  }

  jar(name) {
    if (!this.jars.has(name)) this.jars.set(name, new CookieJar());
    return this.jars.get(name);
  }

  apiKey(label) {
    const key = this.keys.get(label);
    assert.ok(key, `no API key ${label} on ${this.target.kind}`);
    return key;
  }

  user(name) {
    const id = this.users.get(name);
    assert.ok(id, `no user ${name} on ${this.target.kind}`);
    return id;
  }

  /** An id as whose it is: `<user ada>`, `<key ci>`, else its kind. */
  whose(id) {
    for (const [name, userId] of this.users) if (userId === id) return `<user ${name}>`;
    for (const [label, key] of this.keys) if (key.id === id) return `<key ${label}>`;
    return kindAmong(KINDS, id);
  }

  /** An API key (the secret) as whose it is: `<the key session>`, else its kind. */
  whoseKey(secret) {
    for (const [label, key] of this.keys) if (key.key === secret) return `<the key ${label}>`;
    return kindAmong(KINDS, secret);
  }

  /** The API key with this id, as kept (`{ id, key, expiresAt }`), or undefined. */
  keyWithId(id) {
    for (const key of this.keys.values()) if (key.id === id) return key;
    return undefined;
  }

  /** The session token `name`'s browser holds (its cookie, signed), as a bearer token would carry it. */
  bearer(name) {
    const cookie = this.jar(name).get("better-auth.session_token");
    assert.ok(cookie, `no session cookie for ${name} on ${this.target.kind}`);
    return decodeURIComponent(cookie);
  }

  /** Plays one step, its path, body and headers given or made from this side; the answer names the path. */
  async send(step) {
    const made = (value) => (typeof value === "function" ? value(this) : value);
    const path = made(step.path);
    const headers = made(step.headers);
    const answer = await sendStep(this, { ...step, path, body: made(step.body), headers });
    return { ...answer, path, keyed: headers !== undefined && "x-api-key" in headers };
  }
}

// --- The conversation. HTTP steps: { name, jar, path (under /api/auth; a value or a function of the side), body (a
// --- value, or a function of the side), headers (likewise), noOrigin, expect: [status, code] (no code: any; null:
// --- none), warden: [status, code] (what Warden answers instead, on purpose: the step is then not compared),
// --- then(side, answer) (on a 200) }; `jar` names a browser, none is a fresh one. Steps with `act` do something on
// --- each side and are not compared.

/** A path under /api-key/ when it names no other (`create`, `list?limit=1`); a function of the side as it is. */
const route = (path) => (typeof path === "string" && !path.startsWith("/") ? `/api-key/${path}` : path);
const post = (name, jar, path, body, expect, more = {}) => ({ name, jar, path: route(path), body, expect, ...more });
const get = (name, jar, path, expect, more = {}) => ({ name, jar, path: route(path), expect, ...more });

const signUp = (user) =>
  post(`${user} signs up`, user, "/sign-up/email", { name: user, email: email(user), password: PASSWORD }, [200], {
    then: (side, answer) => side.users.set(user, answer.json.user.id),
  });

/** create with `body`; `label` names the key for later steps. */
const create = (name, jar, body, expect, label) =>
  post(name, jar, "create", body, expect, {
    then: label
      ? (side, answer) =>
          side.keys.set(label, { id: answer.json.id, key: answer.json.key, expiresAt: answer.json.expiresAt })
      : undefined,
  });

/** get of the key labelled `label`. */
const read = (name, jar, label, expect) => get(name, jar, (side) => `/api-key/get?id=${side.apiKey(label).id}`, expect);

/** update of the key labelled `label` with `changes`. */
const update = (name, jar, label, changes, expect) =>
  post(name, jar, "update", (side) => ({ keyId: side.apiKey(label).id, ...changes }), expect);

/** delete of the key labelled `label`. */
const remove = (name, jar, label, expect) =>
  post(name, jar, "delete", (side) => ({ keyId: side.apiKey(label).id }), expect);

const list = (name, jar, query = "", expect = [200]) => get(name, jar, `list${query}`, expect);

const UNAUTHORIZED = [401, "UNAUTHORIZED"];
const UNAUTHORIZED_SESSION = [401, "UNAUTHORIZED_SESSION"];
const VALIDATION = [400, "VALIDATION_ERROR"];
const SERVER_ONLY = [400, "SERVER_ONLY_PROPERTY"];
const NOT_FOUND = [404, "KEY_NOT_FOUND"];
const NO_VALUES = [400, "NO_VALUES_TO_UPDATE"];
const TOO_SMALL = [400, "EXPIRES_IN_IS_TOO_SMALL"];
const TOO_LARGE = [400, "EXPIRES_IN_IS_TOO_LARGE"];
const NAME_LENGTH = [400, "INVALID_NAME_LENGTH"];
const PREFIX_LENGTH = [400, "INVALID_PREFIX_LENGTH"];
const METADATA_DISABLED = [400, "METADATA_DISABLED"];

const DAY = 86_400;
const LONG_NAME = "n".repeat(32);
const LONG_PREFIX = "p".repeat(32);
/** Properties only the server may set, each with a value a client could send. */
const SERVER_ONLY_PROPERTIES = [
  ["remaining", 5],
  ["refillAmount", 1],
  ["refillInterval", 1000],
  ["rateLimitMax", 3],
  ["rateLimitTimeWindow", 1000],
  ["rateLimitEnabled", false],
  ["permissions", { task: ["read"] }],
];

const conversation = [
  // Nobody signed in. The body is validated first, then (on create) the server-only properties, then the session.
  create("create without a session", null, {}, UNAUTHORIZED_SESSION),
  create("create without a session, another user's id", null, { userId: "someone" }, UNAUTHORIZED_SESSION),
  create("create without a session, a server-only property", null, { remaining: 5 }, SERVER_ONLY),
  create("create without a session, a name that is not a string", null, { name: 5 }, VALIDATION),
  get("get without a session", null, "get?id=nope", UNAUTHORIZED),
  get("get without a session or an id", null, "get", VALIDATION),
  list("list without a session", null, "", UNAUTHORIZED),
  list("list without a session, a refused query", null, "?limit=-1", VALIDATION),
  post("update without a session", null, "update", { keyId: "nope", name: "x" }, UNAUTHORIZED_SESSION),
  post("update without a session, a server-only property", null, "update", { keyId: "nope", remaining: 5 }, [
    ...UNAUTHORIZED_SESSION,
  ]),
  post("update without a session or a keyId", null, "update", {}, VALIDATION),
  post("delete without a session", null, "delete", { keyId: "nope" }, UNAUTHORIZED),
  post("delete without a session or a body", null, "delete", undefined, VALIDATION, { method: "POST" }),

  // Ada, signed in, with no key yet.
  signUp("ada"),
  list("ada lists her keys: none", "ada"),

  // Creating.
  create("create, an empty body", "ada", {}, [200], "plain"),
  create("create with a name", "ada", { name: "ci" }, [200], "ci"),
  create("create with a name and a prefix", "ada", { name: "deploy", prefix: "wd_" }, [200], "deploy"),
  create("create expiring in two days", "ada", { name: "expiring", expiresIn: 2 * DAY }, [200], "expiring"),
  create("create, expiresIn null", "ada", { name: "forever", expiresIn: null }, [200], "forever"),
  create("create, a name of 32 characters", "ada", { name: LONG_NAME }, [200], "long"),
  create("create, a prefix of 32 characters", "ada", { name: "prefixed", prefix: LONG_PREFIX }, [200], "prefixed"),
  create("create, an empty name", "ada", { name: "" }, [200], "unnamed"),
  create("create, remaining null", "ada", { name: "remaining", remaining: null }, [200], "remaining"),
  create("create, metadata null", "ada", { name: "metadata", metadata: null }, [200], "metadata"),
  create(
    "create, an organization, an unknown configuration and an unknown field (all ignored)",
    "ada",
    { name: "ignored", organizationId: "org", configId: "other", colour: "blue" },
    [200],
    "ignored",
  ),
  create("create, expiresIn below a day", "ada", { expiresIn: 10 }, TOO_SMALL),
  create("create, expiresIn past a year", "ada", { expiresIn: 400 * DAY }, TOO_LARGE),
  create("create, expiresIn 0", "ada", { expiresIn: 0 }, VALIDATION),
  create("create, expiresIn not a number", "ada", { expiresIn: "x" }, VALIDATION),
  create("create, a prefix with a space", "ada", { prefix: "bad prefix" }, VALIDATION),
  create("create, an empty prefix", "ada", { prefix: "" }, VALIDATION),
  create("create, a prefix of 33 characters", "ada", { prefix: `${LONG_PREFIX}p` }, PREFIX_LENGTH),
  create("create, a prefix that is not a string", "ada", { prefix: 5 }, VALIDATION),
  create("create, a name of 33 characters", "ada", { name: `${LONG_NAME}n` }, NAME_LENGTH),
  create("create, a name that is not a string", "ada", { name: 5 }, VALIDATION),
  create("create, two fields of the wrong type", "ada", { name: 5, expiresIn: "x" }, VALIDATION),
  create("create with metadata, which is off", "ada", { metadata: { a: 1 } }, METADATA_DISABLED),
  create("create with metadata that is not an object", "ada", { metadata: "x" }, METADATA_DISABLED),
  ...SERVER_ONLY_PROPERTIES.map(([property, value]) =>
    create(`create with ${property}, server-only`, "ada", { [property]: value }, SERVER_ONLY),
  ),
  create("create with another user's id", "ada", { userId: "someone" }, UNAUTHORIZED_SESSION),
  post("create with her own user id", "ada", "create", (side) => ({ userId: side.user("ada") }), UNAUTHORIZED_SESSION),
  post("create, a body that is not JSON", "ada", "create", "{nope", [400, "BAD_REQUEST"]),
  post("create, a JSON array", "ada", "create", "[]", VALIDATION),
  post("create without a body", "ada", "create", undefined, VALIDATION, { method: "POST" }),
  post("create, a text body", "ada", "create", "hello", [415, "UNSUPPORTED_MEDIA_TYPE"], {
    headers: { "content-type": "text/plain" },
  }),
  post("create without an Origin header", "ada", "create", {}, [403, "MISSING_OR_NULL_ORIGIN"], { noOrigin: true }),
  post("create from another origin", "ada", "create", {}, [403, "INVALID_ORIGIN"], {
    headers: { origin: EVIL_ORIGIN },
  }),

  // Reading one.
  read("get her key with a prefix", "ada", "deploy", [200]),
  read("get her expiring key", "ada", "expiring", [200]),
  get("get without an id", "ada", "get", VALIDATION),
  get("get, an empty id", "ada", "get?id=", NOT_FOUND),
  get("get, an unknown id", "ada", "get?id=nope", NOT_FOUND),

  // Listing, before any key changes (without sortBy the order is the table's).
  list("ada lists her keys", "ada"),
  list("list, one from the second", "ada", "?limit=1&offset=1"),
  list("list, none", "ada", "?limit=0"),
  list("list, past the end", "ada", "?offset=100"),
  list("list, a direction but no field", "ada", "?sortDirection=desc"),
  list("list by name", "ada", "?sortBy=name"),
  list("list by name, descending", "ada", "?sortBy=name&sortDirection=desc"),
  list("list by name, two from the third", "ada", "?sortBy=name&sortDirection=asc&limit=2&offset=2"),
  list("list by creation, descending", "ada", "?sortBy=createdAt&sortDirection=desc"),
  list("list, a negative limit", "ada", "?limit=-1", VALIDATION),
  list("list, a limit that is not a number", "ada", "?limit=x", VALIDATION),
  list("list, a negative offset", "ada", "?offset=-1", VALIDATION),
  list("list, an unknown direction", "ada", "?sortDirection=up", VALIDATION),

  // Bob, and what is not his.
  signUp("bob"),
  list("bob lists his keys: none", "bob"),
  create("bob creates a key", "bob", { name: "bob" }, [200], "bob"),
  list("bob lists his keys", "bob"),
  read("bob gets his key", "bob", "bob", [200]),
  read("ada gets bob's key", "ada", "bob", NOT_FOUND),
  read("bob gets ada's key", "bob", "deploy", NOT_FOUND),
  update("ada renames bob's key", "ada", "bob", { name: "mine" }, NOT_FOUND),
  remove("ada deletes bob's key", "ada", "bob", NOT_FOUND),

  // Updating, a while after creating (an updatedAt moved by an update would show).
  { name: "a second and a half passes", act: () => sleep(1500) },
  update("update, a new name", "ada", "ci", { name: "ci2" }, [200]),
  read("get the renamed key", "ada", "ci", [200]),
  update("update, disabled", "ada", "plain", { enabled: false }, [200]),
  update("update, enabled again", "ada", "plain", { enabled: true }, [200]),
  update("update, disabled once more", "ada", "plain", { enabled: false }, [200]),
  update("update, no expiry", "ada", "expiring", { expiresIn: null }, [200]),
  update("update, expiring in three days", "ada", "deploy", { expiresIn: 3 * DAY }, [200]),
  update("update, a name and an expiry", "ada", "forever", { name: "forever2", expiresIn: DAY }, [200]),
  update("update, expiresIn below a day", "ada", "deploy", { expiresIn: 10 }, TOO_SMALL),
  update("update, expiresIn past a year", "ada", "deploy", { expiresIn: 400 * DAY }, TOO_LARGE),
  update("update, expiresIn 0", "ada", "deploy", { expiresIn: 0 }, VALIDATION),
  update("update, a name of 33 characters", "ada", "deploy", { name: `${LONG_NAME}n` }, NAME_LENGTH),
  update("update, an empty name", "ada", "deploy", { name: "" }, NAME_LENGTH),
  update("update, a name that is not a string", "ada", "deploy", { name: 5 }, VALIDATION),
  update("update, enabled not a boolean", "ada", "deploy", { enabled: "no" }, VALIDATION),
  update("update, nothing to change", "ada", "deploy", {}, NO_VALUES),
  update("update, empty metadata", "ada", "deploy", { metadata: {} }, NO_VALUES),
  update("update, metadata while it is off", "ada", "deploy", { metadata: { a: 1 } }, NO_VALUES),
  update("update, a name and metadata while it is off", "ada", "deploy", { name: "deploy2", metadata: { a: 1 } }, [
    200,
  ]),
  ...SERVER_ONLY_PROPERTIES.map(([property, value]) =>
    update(`update, ${property}, server-only`, "ada", "deploy", { [property]: value }, SERVER_ONLY),
  ),
  update("update, permissions null, server-only", "ada", "deploy", { permissions: null }, SERVER_ONLY),
  update("update, remaining 0", "ada", "deploy", { remaining: 0 }, VALIDATION),
  update("update, another user's id", "ada", "deploy", { userId: "someone", name: "x" }, UNAUTHORIZED_SESSION),
  post("update, her own user id and nothing else", "ada", "update", (side) => ({
    keyId: side.apiKey("deploy").id,
    userId: side.user("ada"),
  }), NO_VALUES),
  post("update, another user's id on an unknown key", "ada", "update", { keyId: "nope", userId: "someone" }, [
    ...UNAUTHORIZED_SESSION,
  ]),
  post("update, a server-only property on an unknown key", "ada", "update", { keyId: "nope", remaining: 5 }, [
    ...SERVER_ONLY,
  ]),
  post("update, an unknown key", "ada", "update", { keyId: "nope", name: "x" }, NOT_FOUND),
  post("update, an unknown key and nothing to change", "ada", "update", { keyId: "nope" }, NOT_FOUND),
  post("update without a keyId", "ada", "update", { name: "x" }, VALIDATION),
  post("update, a keyId that is not a string", "ada", "update", { keyId: 5 }, VALIDATION),
  post("update without an Origin header", "ada", "update", { keyId: "nope", name: "x" }, [
    403,
    "MISSING_OR_NULL_ORIGIN",
  ], { noOrigin: true }),
  read("get the key with a new name and expiry", "ada", "deploy", [200]),
  list("ada lists her keys by creation, after the updates", "ada", "?sortBy=createdAt"),
  list("list by name, after the renames", "ada", "?sortBy=name&sortDirection=desc"),
  // Only two keys expire; the others' null expiries would tie, in no set order.
  list("list by expiry, the two that expire", "ada", "?sortBy=expiresAt&limit=2"),

  // An API key is no session (enableSessionForAPIKeys is off by default).
  {
    name: "get-session with an x-api-key header",
    path: "/get-session",
    headers: (side) => ({ "x-api-key": side.apiKey("deploy").key }),
    expect: [200],
  },
  {
    name: "get-session with the API key as a bearer token",
    path: "/get-session",
    headers: (side) => ({ authorization: `Bearer ${side.apiKey("deploy").key}` }),
    expect: [200],
  },
  {
    name: "list with an x-api-key header",
    path: "/api-key/list",
    headers: (side) => ({ "x-api-key": side.apiKey("deploy").key }),
    expect: UNAUTHORIZED,
  },
  {
    name: "create with an x-api-key header",
    path: "/api-key/create",
    body: {},
    headers: (side) => ({ "x-api-key": side.apiKey("deploy").key }),
    expect: UNAUTHORIZED_SESSION,
  },

  // Deleting.
  remove("delete her key", "ada", "ci", [200]),
  remove("delete it again", "ada", "ci", NOT_FOUND),
  read("get the deleted key", "ada", "ci", NOT_FOUND),
  update("update the deleted key", "ada", "ci", { name: "x" }, NOT_FOUND),
  post("delete, an unknown key", "ada", "delete", { keyId: "nope" }, NOT_FOUND),
  post("delete, an empty keyId", "ada", "delete", { keyId: "" }, NOT_FOUND),
  post("delete without a keyId", "ada", "delete", {}, VALIDATION),
  post("delete, a keyId that is not a string", "ada", "delete", { keyId: 5 }, VALIDATION),
  post("delete without an Origin header", "ada", "delete", { keyId: "nope" }, [403, "MISSING_OR_NULL_ORIGIN"], {
    noOrigin: true,
  }),
  remove("bob deletes his key", "bob", "bob", [200]),
  list("bob lists his keys: none again", "bob"),
  list("ada lists her keys by name, after the delete", "ada", "?sortBy=name"),
  read("ada's other keys are still there", "ada", "plain", [200]),
];

// --- The second conversation, with sessions from API keys on: `x-api-key` on get-session and on the api-key routes.

/** The header of an API key, by its label, beside `more` (headers, or a function of the side). */
const keyHeaders = (label, more = {}) => (side) => ({
  "x-api-key": side.apiKey(label).key,
  ...(typeof more === "function" ? more(side) : more),
});

/** get-session with the key labelled `label` (and `more` headers). */
const sessionWithKey = (name, label, expect, more = {}) => ({
  name,
  path: "/get-session",
  headers: keyHeaders(label, more.headers),
  expect,
  ...Object.fromEntries(Object.entries(more).filter(([k]) => k !== "headers")),
});

/** get-session with `value` as the `x-api-key` header (a key no one made). */
const sessionWithHeader = (name, value, expect, more = {}) => ({
  name,
  path: "/get-session",
  headers: { "x-api-key": value },
  expect,
  ...more,
});

/** A step on an api-key route with the key labelled `label` in `x-api-key` and no cookie (unless `more.jar`). */
const keyed = (name, label, path, body, expect, more = {}) => ({
  name,
  path: route(path),
  body,
  headers: keyHeaders(label, more.headers),
  expect,
  ...Object.fromEntries(Object.entries(more).filter(([k]) => k !== "headers")),
});

/** In SQL, on each side's own database. */
const onDatabase = (name, text, values) => ({
  name,
  act: async (side) => {
    const { rowCount } = await sql(side.target.databaseUrl, text, values(side));
    assert.equal(rowCount, 1, `${name} on ${side.target.kind}`);
  },
});

const TOO_SHORT = [403, "INVALID_API_KEY"];
const INVALID_KEY = [401, "INVALID_API_KEY"];
const RATE_LIMIT = 10;
const UNKNOWN_KEY = "Q".repeat(64);
const SHORT_KEY = "a".repeat(63);

const sessionConversation = [
  signUp("ada"),
  signUp("bob"),
  signUp("cy"),
  signUp("root"),
  onDatabase("root is made an administrator", `UPDATE "user" SET role = 'admin' WHERE id = $1`, (side) => [
    side.user("root"),
  ]),
  post("root signs in again, as an administrator", "root", "/sign-in/email", {
    email: email("root"),
    password: PASSWORD,
  }, [200]),

  // Ada's keys, each for one kind of use (a key takes 10 uses a day), and one of cy's.
  create("ada creates a key for sessions", "ada", { name: "session" }, [200], "session"),
  create("ada creates a key with a prefix", "ada", { name: "prefixed", prefix: "wd_" }, [200], "prefixed"),
  create("ada creates a key expiring in two days", "ada", { name: "expiring", expiresIn: 2 * DAY }, [200], "expiring"),
  create("ada creates a key to use up", "ada", { name: "limited" }, [200], "limited"),
  create("ada creates a key to disable", "ada", { name: "disabled" }, [200], "disabled"),
  create("ada creates a key to let expire", "ada", { name: "expired", expiresIn: DAY }, [200], "expired"),
  create("ada creates a key for the api-key routes", "ada", { name: "routes" }, [200], "routes"),
  create("ada creates a key that deletes itself", "ada", { name: "doomed" }, [200], "doomed"),
  create("cy creates a key", "cy", { name: "cy" }, [200], "cy"),
  // A use moves a key's updatedAt: let it show.
  { name: "a second and a half passes", act: () => sleep(1500) },

  // get-session with a key: the owner, and a session made up from the key.
  sessionWithKey("get-session with an x-api-key header", "session", [200]),
  sessionWithKey("get-session with a key, a user agent and a forwarded address", "session", [200], {
    headers: { "user-agent": "wire-test/1.0", "x-forwarded-for": "203.0.113.7" },
  }),
  sessionWithKey("get-session with a prefixed key", "prefixed", [200]),
  sessionWithKey("get-session with an expiring key (the session expires with it)", "expiring", [200]),
  {
    name: "get-session with the key as a bearer token only (no session)",
    path: "/get-session",
    headers: (side) => ({ authorization: `Bearer ${side.apiKey("session").key}` }),
    expect: [200],
  },
  get("bob's own session, by cookie", "bob", "/get-session", [200]),
  {
    name: "bob's own session, by bearer token",
    path: "/get-session",
    headers: (side) => ({ authorization: `Bearer ${side.bearer("bob")}` }),
    expect: [200],
  },
  sessionWithKey("get-session with ada's key and bob's cookie: the key wins", "session", [200], { jar: "bob" }),
  sessionWithKey("get-session with ada's key and bob's bearer token: the key wins", "session", [200], {
    headers: (side) => ({ authorization: `Bearer ${side.bearer("bob")}` }),
  }),
  read("ada's session key has counted four uses", "ada", "session", [200]),
  read("the prefixed key has counted one", "ada", "prefixed", [200]),

  // Keys that are refused: too short (403), unknown (401), even beside a valid cookie; an empty header is no key.
  sessionWithHeader("get-session with a key of 10 characters", "abcdefghij", TOO_SHORT),
  sessionWithHeader("get-session with a key of 63 characters", SHORT_KEY, TOO_SHORT),
  sessionWithHeader("get-session with a key of 63 characters and bob's cookie", SHORT_KEY, TOO_SHORT, { jar: "bob" }),
  sessionWithHeader("get-session with an unknown key of 64 letters", UNKNOWN_KEY, INVALID_KEY),
  sessionWithHeader("get-session with an unknown key and bob's cookie", UNKNOWN_KEY, INVALID_KEY, { jar: "bob" }),
  sessionWithHeader("get-session with an empty x-api-key header", "", [200]),

  // A disabled key.
  update("ada disables a key", "ada", "disabled", { enabled: false }, [200]),
  sessionWithKey("get-session with a disabled key", "disabled", [401, "KEY_DISABLED"]),
  read("the disabled key counted no use", "ada", "disabled", [200]),

  // An expired key is refused, and its row deleted.
  onDatabase(
    "the key expires a minute ago",
    `UPDATE apikey SET "expiresAt" = now() - interval '1 minute' WHERE id = $1`,
    (side) => [side.apiKey("expired").id],
  ),
  sessionWithKey("get-session with an expired key", "expired", [401, "KEY_EXPIRED"]),
  read("the expired key is gone", "ada", "expired", NOT_FOUND),

  // Ten uses a day, then 429.
  ...Array.from({ length: RATE_LIMIT }, (_, i) =>
    sessionWithKey(`get-session with the key to use up, use ${i + 1} of ${RATE_LIMIT}`, "limited", [200]),
  ),
  sessionWithKey("get-session with the used-up key, an eleventh time", "limited", [429, "RATE_LIMITED"]),
  sessionWithKey("get-session with the used-up key, a twelfth time", "limited", [429, "RATE_LIMITED"]),
  read("the used-up key counted ten uses", "ada", "limited", [200]),

  // A banned owner's key still opens a session in Better Auth; Warden refuses it, as it refuses the owner's sessions.
  sessionWithKey("get-session with cy's key", "cy", [200]),
  post("root bans cy", "root", "/admin/ban-user", (side) => ({ userId: side.user("cy") }), [200]),
  get("cy's cookie after the ban", "cy", "/get-session", [200]),
  sessionWithKey("get-session with the key of a banned owner", "cy", [200], { warden: [403, "BANNED_USER"] }),
  keyed("list with the key of a banned owner", "cy", "list", undefined, [200], { warden: [403, "BANNED_USER"] }),

  // x-api-key on the api-key routes: the key's owner is the caller.
  keyed("list with an x-api-key header", "routes", "list?sortBy=name", undefined, [200]),
  keyed("get with an x-api-key header", "routes", (side) => `/api-key/get?id=${side.apiKey("routes").id}`, undefined, [
    200,
  ]),
  {
    ...keyed("create with an x-api-key header", "routes", "create", { name: "made-by-key" }, [200]),
    then: (side, answer) =>
      side.keys.set("made-by-key", { id: answer.json.id, key: answer.json.key, expiresAt: answer.json.expiresAt }),
  },
  keyed("create with an x-api-key header and no Origin", "routes", "create", {}, [200], { noOrigin: true }),
  keyed("create with an x-api-key header from another origin", "routes", "create", {}, [200], {
    headers: { origin: EVIL_ORIGIN },
  }),
  keyed("create with a key and bob's cookie from another origin (the origin check first)", "routes", "create", {}, [
    403,
    "INVALID_ORIGIN",
  ], { jar: "bob", headers: { origin: EVIL_ORIGIN } }),
  keyed("update with an x-api-key header", "routes", "update", (side) => ({
    keyId: side.apiKey("routes").id,
    name: "routes2",
  }), [200]),
  keyed("update another key with an x-api-key header", "routes", "update", (side) => ({
    keyId: side.apiKey("made-by-key").id,
    enabled: false,
  }), [200]),
  keyed("list with ada's key and bob's cookie: ada's keys", "routes", "list?sortBy=name", undefined, [200], {
    jar: "bob",
  }),
  read("the routes key has counted its uses", "ada", "routes", [200]),
  keyed("a key deletes itself", "doomed", "delete", (side) => ({ keyId: side.apiKey("doomed").id }), [200]),
  sessionWithKey("get-session with the deleted key", "doomed", INVALID_KEY),
  get("list with an unknown key", null, "list", INVALID_KEY, { headers: { "x-api-key": UNKNOWN_KEY } }),
  get("list with a key of 63 characters", null, "list", TOO_SHORT, { headers: { "x-api-key": SHORT_KEY } }),
  list("ada lists her keys by name, by cookie", "ada", "?sortBy=name"),
];

/** Plays a whole conversation on one side; resolves to one answer per step (`null` for `act` steps). */
async function play(side, conversation) {
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
      if (process.env.APIKEY_WIRE_SHOW) {
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

const versusWarden = SIDES[0] === BETTER_AUTH && SIDES[1] === WARDEN;

/**
 * What Warden answers differently on purpose, each as the one difference line it may cause, on the steps it applies
 * to, when Better Auth (A) is compared with Warden (B) (as in passkey-wire and two-factor-wire). Any other difference
 * on such a step still counts. Steps with a `warden` expectation are not compared at all.
 */
const DELIBERATE = [
  {
    why: "a session's ipAddress without a proxy header: the socket's address (Warden) or empty (Better Auth)",
    applies: (step) => step.path === "/get-session",
    line: '.session.ipAddress: "" vs "127.0.0.1"',
  },
];

/**
 * Plays `conversation` on two sides of its own (started with `options`, see startTarget), one after the other, and
 * compares them step by step; the `deliberate` differences (DELIBERATE's) are let through against Warden.
 */
function playAndCompare(title, conversation, options = {}, deliberate = []) {
  const cleanup = new Cleanup();
  const services = [];
  const sides = [];
  const answers = [];

  describe(title, { timeout: 900_000 }, () => {
    before(async () => {
      for (const kind of SIDES) {
        const side = new Side(await startTarget(kind, cleanup, services, options));
        sides.push(side);
        answers.push(await play(side, conversation));
      }
    });
    after(async () => {
      if (answers.length < 2 || conversation.some((_, i) => answers.some((side) => side[i]?.error))) {
        showLogs(services);
      }
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
        const known = versusWarden ? deliberate.filter((each) => each.applies(step, a)) : [];
        const kept = known.map((each) => each.line);
        const differences = compare(sides, a, b).filter((line) => !kept.includes(line));
        assert.deepEqual(differences, [], `A: ${a.text.slice(0, 400)}\nB: ${b.text.slice(0, 400)}`);
      });
    });
  });
}

playAndCompare(`Better Auth's api-key routes on the wire: ${SIDES.join(" vs ")}`, conversation);
playAndCompare(
  `Sessions from API keys (enableSessionForAPIKeys) on the wire: ${SIDES.join(" vs ")}`,
  sessionConversation,
  { sessions: true },
  DELIBERATE,
);
