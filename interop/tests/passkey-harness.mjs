// What the passkey tests share: a server to talk to, either the real Better Auth 1.7 with @better-auth/passkey
// (better-auth-peer.mjs) or a Warden of its own with `passkey` among its plugins, each on a scratch database and
// called by a host name, http://localhost:<port>: WebAuthn takes no IP address as rp id, so both run with rp id
// `localhost` and the origin http://localhost:<port>, while the tests reach them on 127.0.0.1.

import { randomBytes } from "node:crypto";

import { startBetterAuth } from "../better-auth-peer.mjs";
import { freePort, scratchDatabase, scratchRedisPrefix, startWarden, wardenEnv } from "./processes.mjs";

export const BETTER_AUTH = "better-auth";
export const WARDEN = "warden";

/** The rp id both servers use: their base URL's host. */
export const RP_ID = "localhost";

/**
 * Another origin both servers trust (Better Auth's `trustedOrigins`, Warden's `TRUSTED_ORIGINS`): a page there may
 * call the API, but it is not where passkeys are made. Better Auth checks a ceremony against the request's Origin
 * when it is trusted; Warden against its own settings only.
 */
export const OTHER_TRUSTED_ORIGIN = "http://app.localhost:3000";

/**
 * The plugins both servers run with: Better Auth with jwt, bearer, admin and passkey; Warden with the same ones (bearer
 * is not a switch in Warden: every session answer carries `set-auth-token`).
 */
export const WARDEN_PLUGINS = "admin,jwt,passkey";

/**
 * Warden's settings that make it answer as a Better Auth with default options, beyond those startTarget sets: the
 * options' `rp.name` is Better Auth's default `appName` (Warden's own default is `Warden`), as docs/passkeys.md tells
 * those taking over to set.
 */
export const AS_BETTER_AUTH = { PASSKEY_RP_NAME: "Better Auth" };

/**
 * Starts `kind` on a database of its own and resolves to `{ kind, url, origin, rpId, databaseUrl, secret }`: `url` is
 * where it listens (127.0.0.1), `origin` its public URL http://localhost:<port> (the Origin a browser on it sends, and
 * what its passkeys are bound to). `options`: `{ databaseUrl, secret }` to start on a given database with a given
 * secret; `settings`, Warden's environment beyond those.
 */
export async function startTarget(kind, cleanup, services, options = {}) {
  const databaseUrl = options.databaseUrl ?? (await scratchDatabase(cleanup, "passkey"));
  const secret = options.secret ?? randomBytes(32).toString("base64");
  if (kind === BETTER_AUTH) {
    const betterAuth = await startBetterAuth({
      databaseUrl,
      secret,
      baseURL: (port) => `http://${RP_ID}:${port}`,
      withAdmin: true,
      passkey: { rpID: RP_ID },
      trustedOrigins: [OTHER_TRUSTED_ORIGIN],
    });
    cleanup.add(betterAuth.stop);
    return { kind, url: betterAuth.url, origin: betterAuth.baseURL, rpId: RP_ID, databaseUrl, secret };
  }
  const gatewayPort = await freePort();
  const origin = `http://${RP_ID}:${gatewayPort}`;
  const env = await wardenEnv({
    databaseUrl,
    redisPrefix: scratchRedisPrefix(cleanup, "passkey"),
    gatewayPort,
    settings: {
      AUTH_SECRET: secret,
      BASE_URL: origin,
      TRUSTED_ORIGINS: OTHER_TRUSTED_ORIGIN,
      PLUGINS: WARDEN_PLUGINS,
      ...options.settings,
    },
  });
  await startWarden(env, services, cleanup);
  return { kind, url: `http://127.0.0.1:${gatewayPort}`, origin, rpId: RP_ID, databaseUrl, secret };
}
