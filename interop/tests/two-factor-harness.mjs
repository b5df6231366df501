// What the two-factor tests share: a server to talk to, either the real Better Auth 1.7 with its two-factor plugin
// (better-auth-peer.mjs) or a Warden of its own with `two-factor` among its plugins, each on a scratch database, and
// the mailbox its one-time codes arrive in (Better Auth's outbox file, Warden's development outbox).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { startBetterAuth } from "../better-auth-peer.mjs";
import { freePort, scratchDatabase, scratchRedisPrefix, sleep, startWarden, wardenEnv } from "./processes.mjs";

export const BETTER_AUTH = "better-auth";
export const WARDEN = "warden";

/**
 * The plugins both servers run with: Better Auth with jwt, bearer, admin and twoFactor; Warden with the same ones
 * (bearer is not a switch in Warden: every session answer carries `set-auth-token`).
 */
export const WARDEN_PLUGINS = "admin,jwt,two-factor";

/**
 * Warden's settings that make it answer as a Better Auth with default options: the issuer in TOTP URIs is Better
 * Auth's default `appName` (Warden's own default is `Warden`), as docs/two-factor.md tells those taking over to set.
 */
export const AS_BETTER_AUTH = { TWO_FACTOR_ISSUER: "Better Auth" };

/** The target named by an environment variable (`better-auth` or `warden`), `fallback` when unset. */
export function targetFrom(variable, fallback) {
  const value = process.env[variable] || fallback;
  if (value !== BETTER_AUTH && value !== WARDEN) {
    throw new Error(`${variable} must be ${BETTER_AUTH} or ${WARDEN}, not ${value}`);
  }
  return value;
}

/**
 * Starts `kind` on a database of its own and resolves to `{ kind, url, origin, databaseUrl, secret, mailbox }`: `url`
 * is where it listens, `origin` its public URL (the Origin a browser sends; the same unless `publicPort` is given).
 * `options`: `{ databaseUrl, secret, publicPort }` to start on a given database with a given secret and public URL
 * `http://127.0.0.1:<publicPort>` (Warden's gateway listens there; Better Auth only calls itself that), as a takeover
 * does; `settings`, Warden's environment beyond those.
 */
export async function startTarget(kind, cleanup, services, options = {}) {
  const databaseUrl = options.databaseUrl ?? (await scratchDatabase(cleanup, "two_factor"));
  const secret = options.secret ?? randomBytes(32).toString("base64");
  if (kind === BETTER_AUTH) {
    const folder = mkdtempSync(join(tmpdir(), "warden-2fa-outbox-"));
    cleanup.add(() => rmSync(folder, { recursive: true, force: true }));
    const outbox = join(folder, "outbox.jsonl");
    const baseURL = options.publicPort ? `http://127.0.0.1:${options.publicPort}` : undefined;
    const betterAuth = await startBetterAuth({ databaseUrl, secret, baseURL, withAdmin: true, twoFactor: { outbox } });
    cleanup.add(betterAuth.stop);
    const { url, stop } = betterAuth;
    return { kind, url, origin: baseURL ?? url, databaseUrl, secret, stop, mailbox: outboxFile(outbox) };
  }
  const gatewayPort = options.publicPort ?? (await freePort());
  const url = `http://127.0.0.1:${gatewayPort}`;
  const env = await wardenEnv({
    databaseUrl,
    redisPrefix: scratchRedisPrefix(cleanup, "two-factor"),
    gatewayPort,
    settings: { AUTH_SECRET: secret, BASE_URL: url, PLUGINS: WARDEN_PLUGINS, ...options.settings },
  });
  await startWarden(env, services, cleanup);
  return { kind, url, origin: url, databaseUrl, secret, mailbox: devOutbox(url) };
}

/** Better Auth's mail: the peer's outbox file, one JSON line per mail. */
function outboxFile(path) {
  return {
    async codes(email) {
      let text = "";
      try {
        text = readFileSync(path, "utf8");
      } catch (error) {
        if (error.code !== "ENOENT") throw error;
      }
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .filter((mail) => mail.type === "two-factor-otp" && mail.email === email)
        .map((mail) => mail.otp);
    },
  };
}

/** Warden's mail: the development outbox (`GET /api/dev/outbox`, newest first), each code the mail's 6 digits. */
function devOutbox(url) {
  return {
    async codes(email) {
      const response = await fetch(`${url}/api/dev/outbox`);
      assert.equal(response.status, 200, "Warden's development outbox answers");
      const mails = (await response.json()).filter((mail) => mail.to === email).reverse();
      return mails.map((mail) => mail.text.match(/\b(\d{6})\b/)?.[1]).filter(Boolean);
    },
  };
}

/**
 * Runs `send` (which asks the server for a one-time code for `email`) and resolves to the code the mail brought,
 * waiting up to 10 s for a mail newer than those there before.
 */
export async function otpMailed(target, email, send) {
  const before = (await target.mailbox.codes(email)).length;
  const result = await send();
  for (let i = 0; i < 100; i += 1) {
    const codes = await target.mailbox.codes(email);
    if (codes.length > before) return { code: codes.at(-1), result };
    await sleep(100);
  }
  throw new Error(`no one-time code was mailed to ${email} within 10 s`);
}
