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
// APIKEY_WIRE=better-auth,better-auth plays it against two Better Auths, which is how the conversation and its
// expectations are checked; unset, it is better-auth,warden. APIKEY_WIRE_SHOW=1 prints every answer.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { BETTER_AUTH, WARDEN, startTarget } from "./apikey-harness.mjs";
import { CookieJar, PASSWORD } from "./helpers.mjs";
import { Cleanup, showLogs, sleep } from "./processes.mjs";
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

/** A scalar as compared: ids by whose they are, keys, starts and a key's timestamps as above, else by kind. */
function kindAt(value, path, parent, side) {
  if (typeof value !== "string") return value;
  const field = path.slice(path.lastIndexOf(".") + 1);
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

/** Whether the order of keys counts at `path`: in the api-key routes' own JSON, and in every error body. */
const orderCounts = (answer, path, top) =>
  answer.path.startsWith("/api-key/") || (path === "" && top !== null && typeof top === "object" && "code" in top);

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

  /** Plays one step, its path, body and headers given or made from this side; the answer names the path. */
  async send(step) {
    const made = (value) => (typeof value === "function" ? value(this) : value);
    const path = made(step.path);
    const answer = await sendStep(this, { ...step, path, body: made(step.body), headers: made(step.headers) });
    return { ...answer, path };
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
    then: label ? (side, answer) => side.keys.set(label, { id: answer.json.id, key: answer.json.key }) : undefined,
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

const cleanup = new Cleanup();
const services = [];
const sides = [];
const answers = [];

describe(`Better Auth's api-key routes on the wire: ${SIDES.join(" vs ")}`, { timeout: 900_000 }, () => {
  before(async () => {
    for (const kind of SIDES) {
      const side = new Side(await startTarget(kind, cleanup, services));
      sides.push(side);
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
      const differences = compare(sides, a, b);
      assert.deepEqual(differences, [], `A: ${a.text.slice(0, 400)}\nB: ${b.text.slice(0, 400)}`);
    });
  });
});
