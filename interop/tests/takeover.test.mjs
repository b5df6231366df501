// Taking over a live Better Auth + FastAPI deployment: the real Better Auth 1.7 writes a database (users with scrypt
// passwords, live sessions, a JWT signing key, with and without its admin plugin) and the FastAPI service's `task`
// table is added beside it; then Warden's own services start on that database with the same secret, and nobody is
// logged out, every password still works, Better Auth's JWTs still verify and every task is still there.
//
// Each case brings up its own database, Better Auth and Warden (the binaries `cargo build --workspace` left in
// target/debug) on free loopback ports, and takes them all down again, failed or not. It needs nothing from the
// Warden that interop/run starts.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";

import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

import { startBetterAuth } from "../better-auth-peer.mjs";
import { CookieJar, PASSWORD, run } from "./helpers.mjs";
import {
  Cleanup,
  binary,
  freePort,
  rows,
  scratchDatabase,
  scratchRedisPrefix,
  showLogs,
  sql,
  startWarden,
  waitFor,
  wardenEnv,
} from "./processes.mjs";

// The FastAPI service's table, as SQLModel creates it from /work/shared/peers/fastapi-tasks/app.py's `Task`.
const FASTAPI_TASK_TABLE = `
  CREATE TABLE task (
    id SERIAL NOT NULL,
    title VARCHAR(200) NOT NULL,
    description VARCHAR(2000),
    is_completed BOOLEAN NOT NULL,
    owner_id VARCHAR NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id)
  );
  CREATE INDEX ix_task_owner_id ON task (owner_id);`;

for (const withAdmin of [true, false]) {
  const plugins = withAdmin ? "jwt, bearer and admin plugins" : "jwt and bearer plugins, no admin";
  test(`Warden takes over a Better Auth database (${plugins}) and a FastAPI task table`, { timeout: 300_000 }, (t) =>
    takeOver(t, { withAdmin, betterAuthNames: !withAdmin }),
  );
}

/**
 * The whole cut-over. `betterAuthNames`: Warden is configured with Better Auth's own variables (BETTER_AUTH_SECRET,
 * BETTER_AUTH_URL), as an unchanged `.env` would give them.
 */
async function takeOver(t, { withAdmin, betterAuthNames }) {
  const cleanup = new Cleanup();
  const services = [];
  try {
    const suffix = randomBytes(6).toString("hex");
    const databaseUrl = await scratchDatabase(cleanup, "takeover");
    const secret = randomBytes(32).toString("base64");
    // The public URL stays the same across the cut-over: Better Auth's baseURL, then Warden's gateway.
    const gatewayPort = await freePort();
    const publicUrl = `http://127.0.0.1:${gatewayPort}`;

    // --- Before: Better Auth and FastAPI --------------------------------------------------------------------------
    const betterAuth = await startBetterAuth({ databaseUrl, secret, baseURL: publicUrl, withAdmin });
    cleanup.add(betterAuth.stop);
    const users = [];
    for (const [label, rememberMe] of [
      ["alice", true],
      ["bob", true],
      ["carol", false],
    ]) {
      const email = `${label}-${suffix}@example.com`;
      const jar = new CookieJar();
      const response = await jar.fetch(publicUrl)(`${betterAuth.url}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: label, email, password: PASSWORD, rememberMe }),
      });
      const body = await response.json();
      assert.equal(response.status, 200, JSON.stringify(body));
      assert.ok(jar.get("better-auth.session_token"), `${label} has Better Auth's session cookie`);
      users.push({ label, email, jar, id: body.user.id, bearer: response.headers.get("set-auth-token") });
    }
    const [alice, bob, carol] = users;
    assert.ok(carol.jar.get("better-auth.dont_remember"), "carol's session is not remembered");
    const tokenResponse = await alice.jar.fetch(publicUrl)(`${betterAuth.url}/api/auth/token`);
    assert.equal(tokenResponse.status, 200);
    const { token: betterAuthJwt } = await tokenResponse.json();
    if (withAdmin) {
      await sql(databaseUrl, `UPDATE "user" SET role = 'admin' WHERE id = $1`, [alice.id]);
    }
    await sql(databaseUrl, FASTAPI_TASK_TABLE);
    const fastapiTasks = [
      [alice.id, "Write the report", "Quarterly numbers", false, "2026-01-02T03:04:05.678Z"],
      [alice.id, "Water the plants", null, true, "2026-01-03T08:00:00.000Z"],
      [bob.id, "Book the flights", "", false, "2026-01-04T12:30:00.000Z"],
      ["a-user-deleted-long-ago", "Owner gone", null, false, "2025-06-01T00:00:00.000Z"],
    ];
    for (const row of fastapiTasks) {
      await sql(
        databaseUrl,
        `INSERT INTO task (owner_id, title, description, is_completed, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)`,
        row,
      );
    }
    const legacyBefore = await rows(databaseUrl, "SELECT * FROM task ORDER BY id");
    await betterAuth.stop();

    const rawTokens = await rows(databaseUrl, `SELECT token FROM "session"`);
    assert.ok(rawTokens.every(({ token }) => /^[A-Za-z0-9]{32}$/.test(token)), "Better Auth stores raw tokens");
    for (const { password } of await rows(databaseUrl, `SELECT password FROM account`)) {
      assert.match(password, /^[0-9a-f]{32}:[0-9a-f]{128}$/, "Better Auth's scrypt hash");
    }

    // --- The cut-over: Warden's services on the same database with the same secret ------------------------------
    const env = await wardenEnv({
      databaseUrl,
      redisPrefix: scratchRedisPrefix(cleanup, "takeover"),
      gatewayPort,
      settings: betterAuthNames
        ? { BETTER_AUTH_SECRET: secret, BETTER_AUTH_URL: publicUrl }
        : { AUTH_SECRET: secret, BASE_URL: publicUrl },
    });
    await startWarden(env, services, cleanup);
    const warden = (path, init = {}) =>
      fetch(`${publicUrl}${path}`, { ...init, headers: { origin: publicUrl, ...init.headers } });

    // Every session Better Auth opened goes on, by cookie and by bearer token.
    for (const user of users) {
      const response = await warden("/api/auth/get-session", { headers: { cookie: user.jar.header() } });
      const session = await response.json();
      assert.equal(session?.user?.id, user.id, `${user.label}'s old cookie`);
      assert.equal(session.user.email, user.email);
      assert.equal(session.session.userId, user.id);
      const byBearer = await warden("/api/auth/get-session", { headers: { authorization: `Bearer ${user.bearer}` } });
      assert.equal((await byBearer.json())?.user?.id, user.id, `${user.label}'s old bearer token`);
    }
    if (withAdmin) {
      const session = await (await warden("/api/auth/get-session", { headers: { cookie: alice.jar.header() } })).json();
      assert.equal(session.user.role, "admin");
    }
    const hashedTokens = await rows(databaseUrl, `SELECT token FROM "session"`);
    assert.equal(hashedTokens.length, rawTokens.length);
    assert.ok(hashedTokens.every(({ token }) => /^[0-9a-f]{64}$/.test(token)), "tokens are hashed at rest");
    const columns = await rows(
      databaseUrl,
      `SELECT table_name || '.' || column_name AS name FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const names = columns.map(({ name }) => name);
    for (const column of ["user.role", "user.banned", "user.banExpires", "session.impersonatedBy"]) {
      assert.ok(names.includes(column), `${column} exists`);
    }

    // Better Auth's JWT verifies against Warden's JWKS, and Warden signs with the very same key.
    const jwks = createRemoteJWKSet(new URL(`${publicUrl}/api/auth/jwks`));
    const { payload } = await jwtVerify(betterAuthJwt, jwks, { issuer: publicUrl, audience: publicUrl });
    assert.equal(payload.sub, alice.id);
    assert.equal(payload.email, alice.email);
    const wardenToken = await (await warden("/api/auth/token", { headers: { cookie: alice.jar.header() } })).json();
    assert.equal(decodeProtectedHeader(wardenToken.token).kid, decodeProtectedHeader(betterAuthJwt).kid);
    await jwtVerify(wardenToken.token, jwks, { issuer: publicUrl, audience: publicUrl });

    // The FastAPI tasks are Warden's tasks now, each for its owner only; the old table is kept aside.
    const listed = {};
    for (const user of users) {
      const response = await warden("/api/v1/tasks?pageSize=100", { headers: { cookie: user.jar.header() } });
      assert.equal(response.status, 200);
      listed[user.label] = (await response.json()).tasks;
    }
    const expected = (owner) =>
      legacyBefore
        .filter((row) => row.owner_id === owner.id)
        .map((row) => ({
          id: String(row.id),
          ownerId: owner.id,
          title: row.title,
          description: row.description ?? "",
          completed: row.is_completed,
          createdAt: row.created_at.toISOString(),
        }))
        .sort((a, b) => a.id.localeCompare(b.id));
    const shown = (tasks) =>
      tasks
        .map(({ id, ownerId, title, description, completed, createdAt }) => ({
          id,
          ownerId,
          title,
          description,
          completed,
          createdAt: new Date(createdAt).toISOString(),
        }))
        .sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(shown(listed.alice), expected(alice));
    assert.deepEqual(shown(listed.bob), expected(bob));
    assert.deepEqual(listed.carol, []);
    assert.equal(listed.alice.length, 2);
    const alicesTask = listed.alice[0].id;
    const peek = await warden(`/api/v1/tasks/${alicesTask}`, { headers: { cookie: bob.jar.header() } });
    assert.equal(peek.status, 404, "another owner's task is not found");
    assert.deepEqual(await rows(databaseUrl, "SELECT * FROM task_fastapi_legacy ORDER BY id"), legacyBefore);

    // Every user signs in with the password Better Auth hashed; the hash becomes argon2id.
    for (const user of users) {
      const response = await warden("/api/auth/sign-in/email", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: user.email, password: PASSWORD }),
      });
      assert.equal(response.status, 200, `${user.label} signs in with the old password`);
      await waitFor(`${user.label}'s hash to become argon2id`, services, async () => {
        const [{ password }] = await rows(
          databaseUrl,
          `SELECT password FROM account WHERE "userId" = $1 AND "providerId" = 'credential'`,
          [user.id],
        );
        return password.startsWith("$argon2id$");
      });
    }

    // Migrating again changes nothing.
    const before = await dump(databaseUrl);
    const again = await run(binary("migrations"), ["--database-url", databaseUrl, "up"], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await dump(databaseUrl), before);
  } catch (error) {
    showLogs(services);
    throw error;
  } finally {
    await cleanup.run();
  }
}

/** Every table's rows (as JSON text, so timestamps keep their microseconds), columns and indexes. */
async function dump(url) {
  const tables = await rows(
    url,
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const result = {
    columns: await rows(
      url,
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    ),
    indexes: await rows(url, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`),
    rows: {},
  };
  for (const { name } of tables) {
    const quoted = `"${name.replaceAll('"', '""')}"`;
    result.rows[name] = (await rows(url, `SELECT to_jsonb(t)::text AS row FROM ${quoted} t ORDER BY 1`)).map(
      ({ row }) => row,
    );
  }
  assert.ok(result.rows.user?.length > 0 && result.rows.task?.length > 0, "the dump holds the data");
  return result;
}
