// What the api-key tests share: a server to talk to, either the real Better Auth 1.7 with @better-auth/api-key and its
// default options (better-auth-peer.mjs) or a Warden of its own with `api-key` among its plugins, each on a scratch
// database; either may be started with sessions from API keys on (`enableSessionForAPIKeys`, Warden's
// `API_KEY_SESSIONS`).

import { randomBytes } from "node:crypto";

import { startBetterAuth } from "../better-auth-peer.mjs";
import { freePort, scratchDatabase, scratchRedisPrefix, sleep, startWarden, wardenEnv } from "./processes.mjs";

export const BETTER_AUTH = "better-auth";
export const WARDEN = "warden";

/**
 * The plugins both servers run with: Better Auth with jwt, bearer, admin and apiKey(); Warden with the same ones
 * (bearer is not a switch in Warden: every session answer carries `set-auth-token`).
 */
export const WARDEN_PLUGINS = "admin,jwt,api-key";

/** The api-key plugin's options on the Better Auth side: its defaults, as `apiKey()` has them. */
export const API_KEY_OPTIONS = {};

/** The same with sessions from API keys on: a request with a valid `x-api-key` header is its owner's. */
export const API_KEY_SESSION_OPTIONS = { ...API_KEY_OPTIONS, enableSessionForAPIKeys: true };

/**
 * Warden's setting for the same; and the test itself as a trusted proxy, so that the `X-Forwarded-For` it sends is
 * believed, as Better Auth believes it from anyone (Warden only from `TRUSTED_PROXIES`).
 */
export const WARDEN_API_KEY_SESSIONS = { API_KEY_SESSIONS: "true", TRUSTED_PROXIES: "127.0.0.1/32" };

/**
 * Starts `kind` on a database of its own and resolves to `{ kind, url, origin, databaseUrl, secret, stop }`: `url` is
 * where it listens, `origin` its public URL (the Origin a browser sends), here the same. `options`:
 * `{ databaseUrl, secret }` to start on a given database with a given secret; `sessions: true`, sessions from API keys
 * on (API_KEY_SESSION_OPTIONS, WARDEN_API_KEY_SESSIONS); `settings`, Warden's environment beyond those. Better
 * Auth's `stop` is its own, waiting for its connections to close (stopWhenClosed); Warden's services stop with
 * `cleanup`. Better Auth's target also has `auth`, its `betterAuth()` instance, for the package's server-only calls
 * (`auth.api.createApiKey`, `verifyApiKey`, …).
 */
export async function startTarget(kind, cleanup, services, options = {}) {
  const databaseUrl = options.databaseUrl ?? (await scratchDatabase(cleanup, "api_key"));
  const secret = options.secret ?? randomBytes(32).toString("base64");
  if (kind === BETTER_AUTH) {
    const apiKey = options.sessions ? API_KEY_SESSION_OPTIONS : API_KEY_OPTIONS;
    const betterAuth = await startBetterAuth({ databaseUrl, secret, withAdmin: true, apiKey });
    const stop = stopWhenClosed(betterAuth);
    cleanup.add(stop);
    return {
      kind,
      url: betterAuth.url,
      origin: betterAuth.baseURL,
      databaseUrl,
      secret,
      auth: betterAuth.auth,
      stop,
    };
  }
  const gatewayPort = await freePort();
  const url = `http://127.0.0.1:${gatewayPort}`;
  const env = await wardenEnv({
    databaseUrl,
    redisPrefix: scratchRedisPrefix(cleanup, "api-key"),
    gatewayPort,
    settings: {
      AUTH_SECRET: secret,
      BASE_URL: url,
      PLUGINS: WARDEN_PLUGINS,
      ...(options.sessions ? WARDEN_API_KEY_SESSIONS : {}),
      ...options.settings,
    },
  });
  await startWarden(env, services, cleanup);
  return { kind, url, origin: url, databaseUrl, secret };
}

/**
 * Better Auth's `stop`, resolving only once its pool's connections are closed (or after 5 s): pg's `Pool.end()`
 * resolves before they are, and the scratch database dropped right after (`WITH (FORCE)`) would then end one from the
 * server's side, an error the pool emits with no one listening (an uncaught exception).
 */
function stopWhenClosed(betterAuth) {
  const pool = betterAuth.options.database;
  let stopped;
  return () => {
    stopped ??= (async () => {
      const open = pool.totalCount;
      let removed = 0;
      const closed = new Promise((resolve) => {
        if (open === 0) resolve();
        pool.on("remove", () => {
          removed += 1;
          if (removed >= open) resolve();
        });
      });
      await betterAuth.stop();
      await Promise.race([closed, sleep(5000)]);
    })();
    return stopped;
  };
}
