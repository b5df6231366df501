// Better Auth's two-factor plugin on the wire: one conversation of plain `fetch` requests, played against the real
// Better Auth 1.7 (better-auth-peer.mjs with jwt, bearer, admin and twoFactor) and against a Warden of its own
// serving the same plugins, each on a scratch database, and compared step by step: the status, the names and
// attributes of Set-Cookie (not their values), the auth headers, and the JSON body's keys, types and scalar values
// except ids, tokens and timestamps (compared by kind). Each side computes its TOTP codes with pyotp and oathtool from
// the URI it was given itself, and reads its one-time codes from its own mail.
//
// Besides the happy path it walks the refusals: no session, wrong and missing passwords, missing, tampered and expired
// two_factor cookies, wrong codes, six attempts on one challenge, an account locked after ten failures, the states
// before enabling, between enabling and verifying, and after disabling.
//
// TWO_FACTOR_WIRE=better-auth,better-auth plays it against two Better Auths, which is how the conversation and its
// expectations are checked; unset, it is better-auth,warden. TWO_FACTOR_WIRE_SHOW=1 prints every answer.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { Authenticator } from "./authenticator.mjs";
import { CookieJar, PASSWORD } from "./helpers.mjs";
import { KINDS as BASE_KINDS, compareAnswers, kindAmong, sendStep } from "./wire-compare.mjs";
import { Cleanup, showLogs, sql } from "./processes.mjs";
import { AS_BETTER_AUTH, BETTER_AUTH, WARDEN, otpMailed, startTarget } from "./two-factor-harness.mjs";

const SIDES = (process.env.TWO_FACTOR_WIRE || `${BETTER_AUTH},${WARDEN}`).split(",");
assert.ok(
  SIDES.length === 2 && SIDES.every((side) => side === BETTER_AUTH || side === WARDEN),
  `TWO_FACTOR_WIRE must name two of ${BETTER_AUTH}, ${WARDEN}`,
);

const TWO_FACTOR_COOKIE = "better-auth.two_factor";
const run = randomBytes(4).toString("hex");
/** The same addresses on both sides; each side has a database of its own. */
const email = (name) => `wire-2fa-${run}-${name}@example.com`;

// --- The comparison (wire-compare.mjs), with two-factor's own random values: backup codes, and the secret inside a
// --- TOTP URI (its length is compared).

const KINDS = [...BASE_KINDS, [/^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/, "<backup-code>"]];
const kind = (v) => {
  const known = kindAmong(KINDS, v);
  return known === v && typeof v === "string" ? totpUriKind(v) : known;
};

function totpUriKind(value) {
  if (!value.startsWith("otpauth://")) return value;
  const url = new URL(value);
  const secret = url.searchParams.get("secret");
  if (secret) url.searchParams.set("secret", `<base32 of ${secret.length}>`);
  return decodeURIComponent(url.toString());
}

function diffJson(a, b, path, out) {
  const ta = Array.isArray(a) ? "array" : a === null ? "null" : typeof a;
  const tb = Array.isArray(b) ? "array" : b === null ? "null" : typeof b;
  if (ta !== tb) {
    out.push(`${path || "body"}: ${ta} vs ${tb}`);
    return;
  }
  if (ta === "array") {
    if (a.length !== b.length) out.push(`${path}: ${a.length} vs ${b.length} items`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffJson(a[i], b[i], `${path}[${i}]`, out);
  } else if (ta === "object") {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(k in a)) out.push(`${path}.${k}: only in B`);
      else if (!(k in b)) out.push(`${path}.${k}: only in A`);
      else diffJson(a[k], b[k], `${path}.${k}`, out);
    }
  } else if (kind(a) !== kind(b)) out.push(`${path || "body"}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
}

/** The differences between two sides' answers to one step, as lines (none: the same). */
const compare = (a, b) => compareAnswers(a, b, (ja, jb, out) => diffJson(ja, jb, "", out));

// --- One side: a server, its browsers (cookie jars), its users' authenticators and what earlier steps captured.

class Side {
  constructor(target) {
    this.target = target;
    this.jars = new Map();
    this.authenticators = new Map();
    this.mailed = new Map();
    /** Each user's backup codes: `{ codes, old }`. */
    this.backupCodes = new Map();
  }

  jar(name) {
    if (!this.jars.has(name)) this.jars.set(name, new CookieJar());
    return this.jars.get(name);
  }

  authenticator(user) {
    const found = this.authenticators.get(user);
    assert.ok(found, `${user} has no authenticator yet on ${this.target.kind}`);
    return found;
  }

  send(step) {
    return sendStep(this, step);
  }
}

/** Replaces one cookie's value in a jar, as a browser's user could. */
function setCookie(jar, name, value) {
  jar.store(new Headers([["set-cookie", `${name}=${value}; Path=/`]]));
}

/**
 * Lets the sign-in challenge held in `jar` run out on the server, as ten minutes would: the verification rows of
 * the challenge (its identifier is the signed two_factor cookie's value) and its attempt counter expire.
 */
async function expireChallenge(side, jar) {
  const signed = decodeURIComponent(side.jar(jar).get(TWO_FACTOR_COOKIE));
  const identifier = signed.slice(0, signed.lastIndexOf("."));
  const { rowCount } = await sql(
    side.target.databaseUrl,
    `UPDATE verification SET "expiresAt" = now() - interval '1 second' WHERE identifier IN ($1, $2)`,
    [identifier, `2fa-attempts-${identifier}`],
  );
  assert.equal(rowCount, 2, "the challenge and its attempt counter are verification rows");
}

// --- The conversation. HTTP steps: { name, jar, path (under /api/auth), body (a value, or a function of the side),
// --- expect: [status, code], then(side, answer) }; `jar` names a browser, none is a fresh one. Steps with `act` do
// --- something on each side and are not compared.

/** A POST to `/two-factor/<route>` (or to `route` itself when it starts with a slash). */
const post = (name, jar, route, body, expect, more = {}) => ({
  name,
  jar,
  path: route.startsWith("/") ? route : `/two-factor/${route}`,
  body,
  expect,
  ...more,
});
const signUp = (user) =>
  post(`${user} signs up`, user, "/sign-up/email", { name: user, email: email(user), password: PASSWORD }, [200]);
const signIn = (user, jar = user, name = `${user} signs in (${jar})`) =>
  post(name, jar, "/sign-in/email", { email: email(user), password: PASSWORD }, [200]);
const signOut = (jar) => post(`sign out (${jar})`, jar, "/sign-out", {}, [200]);
const getSession = (jar) => ({ name: `get-session (${jar})`, jar, path: "/get-session", expect: [200] });
const password = { password: PASSWORD };
const wrongPassword = { password: "wrong password" };

/** verify-totp with a code from the user's authenticator: `fresh`, `wrong` or `current` (right, not spent). */
const totp = (name, user, which, expect, extra = {}) =>
  post(
    name,
    user,
    "verify-totp",
    async (side) => ({ code: await side.authenticator(user)[which](), ...extra }),
    expect,
  );
const enableTotp = (user, name = `${user} enables TOTP`) =>
  post(name, user, "enable", password, [200], {
    then: (side, answer) => {
      side.authenticators.set(user, new Authenticator(answer.json.totpURI));
      side.backupCodes.set(user, { codes: answer.json.backupCodes });
    },
  });
/** verify-backup-code with the user's `n`th code, of the current codes or of the `old` ones. */
const backupCode = (name, jar, user, n, expect, { which = "codes", ...extra } = {}) =>
  post(name, jar, "verify-backup-code", (side) => ({ code: side.backupCodes.get(user)[which][n], ...extra }), expect);
/** send-otp, waiting for the mail it causes and keeping its code. */
const sendOtp = (jar, user) => post(`send-otp (${jar})`, jar, "send-otp", {}, [200], { mail: user });
/** verify-otp with the code last mailed to the user, or with another one. */
const verifyOtp = (jar, user, which, expect, name = `verify-otp, ${which} code (${jar})`) =>
  post(
    name,
    jar,
    "verify-otp",
    (side) => {
      const code = side.mailed.get(user);
      return { code: which === "mailed" ? code : String((Number(code) + 1) % 1_000_000).padStart(6, "0") };
    },
    expect,
  );

const INVALID_COOKIE = [401, "INVALID_TWO_FACTOR_COOKIE"];
const INVALID_CODE = [401, "INVALID_CODE"];
const INVALID_PASSWORD = [400, "INVALID_PASSWORD"];
const INVALID_BACKUP_CODE = [401, "INVALID_BACKUP_CODE"];
const TOTP_NOT_ENABLED = [400, "TOTP_NOT_ENABLED"];
const TWO_FACTOR_NOT_ENABLED = [400, "TWO_FACTOR_NOT_ENABLED"];
const BACKUP_CODES_NOT_ENABLED = [400, "BACKUP_CODES_NOT_ENABLED"];
const TOO_MANY_ATTEMPTS = [400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE"];
const OTP_HAS_EXPIRED = [400, "OTP_HAS_EXPIRED"];
const LOCKED = [429, "ACCOUNT_TEMPORARILY_LOCKED"];
const five = [1, 2, 3, 4, 5];

const conversation = [
  // Nobody signed in, no challenge.
  post("enable without a session", null, "enable", password, [401]),
  post("get-totp-uri without a session", null, "get-totp-uri", password, [401]),
  post("disable without a session", null, "disable", password, [401]),
  post("generate-backup-codes without a session", null, "generate-backup-codes", password, [401]),
  post("verify-totp without a challenge", null, "verify-totp", { code: "123456" }, INVALID_COOKIE),
  post("send-otp without a challenge", null, "send-otp", {}, INVALID_COOKIE),
  post("verify-otp without a challenge", null, "verify-otp", { code: "123456" }, INVALID_COOKIE),
  post("verify-backup-code without a challenge", null, "verify-backup-code", { code: "abcde-fghij" }, INVALID_COOKIE),

  // Ada, signed in, before enabling.
  signUp("ada"),
  getSession("ada"),
  post("verify-totp before enabling", "ada", "verify-totp", { code: "123456" }, TOTP_NOT_ENABLED),
  post("get-totp-uri before enabling", "ada", "get-totp-uri", password, TOTP_NOT_ENABLED),
  post("generate-backup-codes before enabling", "ada", "generate-backup-codes", password, TWO_FACTOR_NOT_ENABLED),
  post(
    "verify-backup-code before enabling",
    "ada",
    "verify-backup-code",
    { code: "abcde-fghij" },
    BACKUP_CODES_NOT_ENABLED,
  ),
  post("enable without a body", "ada", "enable", {}, [400]),
  post("enable with a password that is not a string", "ada", "enable", { password: 12345678 }, [400]),
  post("enable with an unknown method", "ada", "enable", { ...password, method: "sms" }, [400]),
  post("enable with a wrong password", "ada", "enable", wrongPassword, INVALID_PASSWORD),

  // Enabled, not yet verified.
  enableTotp("ada"),
  getSession("ada"),
  post("get-totp-uri with a wrong password", "ada", "get-totp-uri", wrongPassword, INVALID_PASSWORD),
  post("get-totp-uri without a password", "ada", "get-totp-uri", {}, [400]),
  post("get-totp-uri", "ada", "get-totp-uri", password, [200]),
  enableTotp("ada", "enable again before verifying: a new secret"),
  post("verify-totp without a code", "ada", "verify-totp", {}, [400]),
  post("verify-totp with a code that is not a string", "ada", "verify-totp", { code: 123456 }, [400]),
  totp("verify-totp with a wrong code", "ada", "wrong", INVALID_CODE),
  { ...totp("verify-totp: on", "ada", "fresh", [200]), enrolls: true },
  getSession("ada"),
  post("enable once on", "ada", "enable", password, [400, "TOTP_ALREADY_ENABLED"]),
  totp("verify-totp signed in, wrong code", "ada", "wrong", INVALID_CODE),
  signOut("ada"),

  // Signing in: the challenge, six attempts at it.
  post("sign in with a wrong password", "ada", "/sign-in/email", { email: email("ada"), ...wrongPassword }, [
    401,
    "INVALID_EMAIL_OR_PASSWORD",
  ]),
  signIn("ada"),
  getSession("ada"),
  post("verify-totp, no code", "ada", "verify-totp", {}, [400]),
  ...five.map((n) => totp(`verify-totp, wrong code ${n} of 5`, "ada", "wrong", INVALID_CODE)),
  totp("verify-totp, a sixth attempt", "ada", "current", TOO_MANY_ATTEMPTS),
  totp("verify-totp, the challenge gone", "ada", "current", INVALID_COOKIE),

  // A tampered cookie, then an expired challenge.
  signIn("ada"),
  {
    name: "tamper with the two_factor cookie",
    act: (side) => {
      const jar = side.jar("ada");
      side.kept = jar.get(TWO_FACTOR_COOKIE);
      const value = decodeURIComponent(side.kept);
      const flipped = value[4] === "A" ? "B" : "A";
      setCookie(jar, TWO_FACTOR_COOKIE, encodeURIComponent(value.slice(0, 4) + flipped + value.slice(5)));
    },
  },
  totp("verify-totp with the tampered cookie", "ada", "current", INVALID_COOKIE),
  post("send-otp with the tampered cookie", "ada", "send-otp", {}, INVALID_COOKIE),
  { name: "put the cookie back", act: (side) => setCookie(side.jar("ada"), TWO_FACTOR_COOKIE, side.kept) },
  { name: "let the challenge expire", act: (side) => expireChallenge(side, "ada") },
  totp("verify-totp after the challenge expired", "ada", "current", INVALID_COOKIE),

  // The way in, trusting the device.
  signIn("ada"),
  totp("verify-totp, trusting the device", "ada", "fresh", [200], { trustDevice: true }),
  getSession("ada"),
  signOut("ada"),
  signIn("ada", "ada", "ada signs in on the trusted device"),
  getSession("ada"),

  // Backup codes, from another browser.
  signIn("ada", "ada-phone"),
  post("verify-backup-code, wrong", "ada-phone", "verify-backup-code", { code: "abcde-fghij" }, INVALID_BACKUP_CODE),
  backupCode("verify-backup-code", "ada-phone", "ada", 0, [200]),
  getSession("ada-phone"),
  signOut("ada-phone"),
  signIn("ada", "ada-phone"),
  backupCode("verify-backup-code, the same code again", "ada-phone", "ada", 0, INVALID_BACKUP_CODE),

  // A code by mail, on the same challenge; then six attempts at one code.
  sendOtp("ada-phone", "ada"),
  verifyOtp("ada-phone", "ada", "wrong", INVALID_CODE),
  verifyOtp("ada-phone", "ada", "mailed", [200]),
  getSession("ada-phone"),
  signOut("ada-phone"),
  signIn("ada", "ada-phone"),
  post("verify-otp before any was sent", "ada-phone", "verify-otp", { code: "123456" }, OTP_HAS_EXPIRED),
  sendOtp("ada-phone", "ada"),
  ...five.map((n) => verifyOtp("ada-phone", "ada", "wrong", INVALID_CODE, `verify-otp, wrong code ${n} of 5`)),
  verifyOtp("ada-phone", "ada", "mailed", TOO_MANY_ATTEMPTS, "verify-otp, the right code at the sixth attempt"),
  verifyOtp("ada-phone", "ada", "mailed", OTP_HAS_EXPIRED, "verify-otp, the right code after that"),
  sendOtp("ada-phone", "ada"),
  verifyOtp("ada-phone", "ada", "mailed", [200]),

  // New backup codes; the old ones are gone.
  post("generate-backup-codes with a wrong password", "ada", "generate-backup-codes", wrongPassword, INVALID_PASSWORD),
  post("generate-backup-codes without a password", "ada", "generate-backup-codes", {}, [400]),
  post("generate-backup-codes", "ada", "generate-backup-codes", password, [200], {
    then: (side, answer) => {
      const { codes } = side.backupCodes.get("ada");
      side.backupCodes.set("ada", { codes: answer.json.backupCodes, old: codes });
    },
  }),
  signIn("ada", "ada-tablet"),
  backupCode("verify-backup-code, an old code", "ada-tablet", "ada", 1, INVALID_BACKUP_CODE, { which: "old" }),
  backupCode("verify-backup-code, a new code, trusting the device", "ada-tablet", "ada", 1, [200], {
    trustDevice: true,
  }),

  // Disabling.
  post("disable without a password", "ada", "disable", {}, [400]),
  post("disable with a wrong password", "ada", "disable", wrongPassword, INVALID_PASSWORD),
  post("disable (on the trusted device)", "ada", "disable", password, [200]),
  getSession("ada"),
  signIn("ada", "ada-phone", "ada signs in once it is off"),
  totp("verify-totp once off", "ada", "current", TOTP_NOT_ENABLED),
  post("get-totp-uri once off", "ada", "get-totp-uri", password, TOTP_NOT_ENABLED),
  post("generate-backup-codes once off", "ada", "generate-backup-codes", password, TWO_FACTOR_NOT_ENABLED),
  post("disable once off", "ada", "disable", password, [200]),

  // Olga uses codes by mail only.
  signUp("olga"),
  post("olga enables codes by mail", "olga", "enable", { ...password, method: "otp" }, [200]),
  getSession("olga"),
  signOut("olga"),
  signIn("olga"),
  post("olga's verify-totp", "olga", "verify-totp", { code: "123456" }, TOTP_NOT_ENABLED),
  post("olga's verify-backup-code", "olga", "verify-backup-code", { code: "abcde-fghij" }, BACKUP_CODES_NOT_ENABLED),
  sendOtp("olga", "olga"),
  verifyOtp("olga", "olga", "mailed", [200]),
  getSession("olga"),

  // Dave fails ten times in a row, over two challenges: his account is locked for a while.
  signUp("dave"),
  enableTotp("dave"),
  { ...totp("dave turns TOTP on", "dave", "fresh", [200]), enrolls: true },
  signOut("dave"),
  signIn("dave"),
  ...five.map((n) => totp(`dave's wrong code ${n}`, "dave", "wrong", INVALID_CODE)),
  signIn("dave"),
  ...five.map((n) => totp(`dave's wrong code ${n + 5}`, "dave", "wrong", INVALID_CODE)),
  totp("dave's right code, locked", "dave", "current", LOCKED),
  signIn("dave"),
  backupCode("dave's backup code, locked", "dave", "dave", 0, LOCKED),
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
      let answer;
      if (step.mail) {
        const mailed = await otpMailed(side.target, email(step.mail), () => side.send(step));
        side.mailed.set(step.mail, mailed.code);
        answer = mailed.result;
      } else {
        answer = await side.send(step);
      }
      if (step.then && answer.status === 200) await step.then(side, answer);
      if (process.env.TWO_FACTOR_WIRE_SHOW) {
        console.log(`${side.target.kind} ${step.name}: ${answer.status} ${answer.cookies.join(" ")}\n  ${answer.text}`);
      }
      answers.push(answer);
    } catch (error) {
      answers.push({ error: error.message });
    }
  }
  return answers;
}

/**
 * What Warden answers differently on purpose (docs/two-factor.md, "Security"; the first, the core's), each as the one difference line it
 * may cause, on the steps it applies to, when Better Auth (A) is compared with Warden (B). Any other difference on
 * such a step still counts. (The other deliberate difference, a TOTP code refused when presented again, never shows
 * here: each side's authenticator hands out every code once; tests/two-factor-client.test.mjs tests it.)
 */
const DELIBERATE = [
  {
    why: "a session's ipAddress without a proxy header: the socket's address (Warden) or empty (Better Auth)",
    applies: () => true,
    line: '.session.ipAddress: "" vs "127.0.0.1"',
  },
  {
    why: "the challenge answer's set-auth-token names the session Better Auth has just deleted; Warden opens none",
    applies: (step, a) => a.json?.twoFactorRedirect === true,
    line: "set-auth-token: present vs -",
  },
  {
    why: "the enrolling verify-totp answers the user as before (Better Auth) or as stored (Warden)",
    applies: (step) => step.enrolls === true,
    line: ".user.twoFactorEnabled: false vs true",
  },
];
const deliberate = SIDES[0] === BETTER_AUTH && SIDES[1] === WARDEN ? DELIBERATE : [];

const cleanup = new Cleanup();
const services = [];
const answers = [];

describe(`Better Auth's two-factor routes on the wire: ${SIDES.join(" vs ")}`, { timeout: 900_000 }, () => {
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
        const [status, code] = step.expect;
        const seen = { status: answer.status, code: answer.json?.code };
        const wanted = { status, code: code ?? seen.code };
        assert.deepEqual(seen, wanted, `${label}: ${answer.text.slice(0, 300)}`);
      }
      const kept = deliberate.filter((known) => known.applies(step, a)).map((known) => known.line);
      const differences = compare(a, b).filter((line) => !kept.includes(line));
      assert.deepEqual(differences, [], `A: ${a.text.slice(0, 400)}\nB: ${b.text.slice(0, 400)}`);
    });
  });
});
