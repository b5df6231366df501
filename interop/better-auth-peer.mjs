// Better Auth 1.7 itself, run in this process against a PostgreSQL database, as the deployment Warden takes over:
// email and password, the bearer and jwt plugins and, when asked, the admin plugin, the two-factor plugin and social
// sign-in through an OpenID Connect provider (the genericOAuth plugin), passkeys (@better-auth/passkey) and API keys
// (@better-auth/api-key), with Better Auth's own migrations. Used by tests/takeover.test.mjs,
// tests/social-takeover.test.mjs, the two-factor tests, the passkey tests and the api-key tests.

import { appendFileSync } from "node:fs";
import http from "node:http";

import { apiKey as apiKeyPlugin } from "@better-auth/api-key";
import { passkey as passkeyPlugin } from "@better-auth/passkey";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { admin } from "better-auth/plugins/admin";
import { bearer } from "better-auth/plugins/bearer";
import { genericOAuth } from "better-auth/plugins/generic-oauth";
import { jwt } from "better-auth/plugins/jwt";
import { twoFactor as twoFactorPlugin } from "better-auth/plugins/two-factor";
import pg from "pg";

/**
 * Better Auth's options as a team would have written them. `baseURL` is the public URL users reach. `social`, when
 * given, is `{ providerId, issuer, clientId, clientSecret, encryptOAuthTokens }`: one genericOAuth provider discovered
 * at `issuer`, with PKCE, and `account.encryptOAuthTokens` as given. `twoFactor`, when given, is `{ outbox }`: the
 * two-factor plugin with its defaults, whose one-time codes are mailed by appending
 * `{"type":"two-factor-otp","email":…,"otp":…}` as a JSON line to the file `outbox` (as the peer harness's
 * `BA_OUTBOX` does). `passkey`, when given, is the passkey plugin's options (e.g. `{ rpID: "localhost" }`: WebAuthn
 * takes no IP address as rp id). `apiKey`, when given, is the api-key plugin's options (`{}` for its defaults).
 * `trustedOrigins`, when given, are trusted besides `baseURL`'s origin.
 */
export function betterAuthOptions({
  pool,
  secret,
  baseURL,
  withAdmin,
  social,
  twoFactor,
  passkey,
  apiKey,
  trustedOrigins,
}) {
  return {
    baseURL,
    basePath: "/api/auth",
    secret,
    ...(trustedOrigins ? { trustedOrigins } : {}),
    database: pool,
    emailAndPassword: { enabled: true, autoSignIn: true },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { level: "error" },
    ...(social ? { account: { encryptOAuthTokens: social.encryptOAuthTokens ?? false } } : {}),
    plugins: [
      jwt(),
      bearer(),
      ...(withAdmin ? [admin()] : []),
      ...(social ? [socialPlugin(social)] : []),
      ...(twoFactor ? [twoFactorWithOutbox(twoFactor)] : []),
      ...(passkey ? [passkeyPlugin(passkey)] : []),
      ...(apiKey ? [apiKeyPlugin(apiKey)] : []),
    ],
  };
}

function twoFactorWithOutbox({ outbox }) {
  return twoFactorPlugin({
    otpOptions: {
      sendOTP: async ({ user, otp }) =>
        appendFileSync(outbox, `${JSON.stringify({ type: "two-factor-otp", email: user.email, otp })}\n`),
    },
  });
}

function socialPlugin({ providerId, issuer, clientId, clientSecret }) {
  return genericOAuth({
    config: [
      {
        providerId,
        discoveryUrl: `${issuer}/.well-known/openid-configuration`,
        clientId,
        clientSecret,
        scopes: ["openid", "email", "profile"],
        pkce: true,
      },
    ],
  });
}

/**
 * Migrates `databaseUrl` with Better Auth's own migrator, then serves Better Auth on a free loopback port.
 * `baseURL` (the public URL, also the JWT issuer and audience) may differ from where it listens, as behind a proxy; it
 * may be a function of the port it listens on (e.g. `(port) => \`http://localhost:${port}\``, a host name for
 * WebAuthn). Resolves to `{ url, baseURL, options, auth, stop }`; `url` is where it listens, `auth` the `betterAuth()`
 * instance (for its server-only `auth.api` calls), `stop()` closes the server and the pool (once, however often it is
 * called).
 */
export async function startBetterAuth({
  databaseUrl,
  secret,
  baseURL,
  withAdmin = false,
  social,
  twoFactor,
  passkey,
  apiKey,
  trustedOrigins,
}) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const server = http.createServer();
  try {
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address();
    const url = `http://127.0.0.1:${port}`;
    const publicURL = (typeof baseURL === "function" ? baseURL(port) : baseURL) ?? url;
    const options = betterAuthOptions({
      pool,
      secret,
      baseURL: publicURL,
      withAdmin,
      social,
      twoFactor,
      passkey,
      apiKey,
      trustedOrigins,
    });
    const { runMigrations } = await getMigrations(options);
    await runMigrations();
    const auth = betterAuth(options);
    const handler = toNodeHandler(auth);
    server.on("request", (req, res) => {
      if (req.url.startsWith("/api/auth")) return handler(req, res);
      res.writeHead(404).end();
    });
    let stopped;
    const stop = () => {
      stopped ??= (async () => {
        await new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        });
        await pool.end();
      })();
      return stopped;
    };
    return { url, baseURL: publicURL, options, auth, stop };
  } catch (error) {
    server.close();
    await pool.end().catch(() => {});
    throw error;
  }
}
