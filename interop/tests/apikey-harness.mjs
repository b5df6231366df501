// What the api-key tests share: a server to talk to, either the real Better Auth 1.7 with @better-auth/api-key and its
// default options (better-auth-peer.mjs) or a Warden of its own with `api-key` among its plugins, each on a scratch
// database.

import { randomBytes } from "node:crypto";

import { startBetterAuth } from "../better-auth-peer.mjs";
import { freePort, scratchDatabase, scratchRedisPrefix, startWarden, wardenEnv } from "./processes.mjs";

export const BETTER_AUTH = "better-auth";
export const WARDEN = "warden";

/**
 * The plugins both servers run with: Better Auth with jwt, bearer, admin and apiKey(); Warden with the same ones
 * (bearer is not a switch in Warden: every session answer carries `set-auth-token`).
 */
export const WARDEN_PLUGINS = "admin,jwt,api-key";

/** The api-key plugin's options on the Better Auth side: its defaults, as `apiKey()` has them. */
export const API_KEY_OPTIONS = {};

/**
 * Starts `kind` on a database of its own and resolves to `{ kind, url, origin, databaseUrl, secret, stop }`: `url` is
 * where it listens, `origin` its public URL (the Origin a browser sends), here the same. `options`:
 * `{ databaseUrl, secret }` to start on a given database with a given secret; `settings`, Warden's environment beyond
 * those. Better Auth's `stop` is its own; Warden's services stop with `cleanup`. Better Auth's target also has `auth`,
 * its `betterAuth()` instance, for the package's server-only calls (`auth.api.createApiKey`, `verifyApiKey`, …).
 */
export async function startTarget(kind, cleanup, services, options = {}) {
  const databaseUrl = options.databaseUrl ?? (await scratchDatabase(cleanup, "api_key"));
  const secret = options.secret ?? randomBytes(32).toString("base64");
  if (kind === BETTER_AUTH) {
    const betterAuth = await startBetterAuth({ databaseUrl, secret, withAdmin: true, apiKey: API_KEY_OPTIONS });
    cleanup.add(betterAuth.stop);
    return {
      kind,
      url: betterAuth.url,
      origin: betterAuth.baseURL,
      databaseUrl,
      secret,
      auth: betterAuth.auth,
      stop: betterAuth.stop,
    };
  }
  const gatewayPort = await freePort();
  const url = `http://127.0.0.1:${gatewayPort}`;
  const env = await wardenEnv({
    databaseUrl,
    redisPrefix: scratchRedisPrefix(cleanup, "api-key"),
    gatewayPort,
    settings: { AUTH_SECRET: secret, BASE_URL: url, PLUGINS: WARDEN_PLUGINS, ...options.settings },
  });
  await startWarden(env, services, cleanup);
  return { kind, url, origin: url, databaseUrl, secret };
}
