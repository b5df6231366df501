// Tests that start programs of their own (Warden's binaries, Better Auth, Next.js): free ports, a child process whose
// output is kept for when a test fails, waiting for readiness, throwaway databases and Redis prefixes, and undo steps.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { fileURLToPath } from "node:url";

import pg from "pg";

import { run } from "./helpers.mjs";

export const POSTGRES = "postgres://postgres@127.0.0.1:5432";
export const REDIS_URL = "redis://127.0.0.1:6379";

const root = fileURLToPath(new URL("../../", import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR || `${root}target`;

/** A binary `cargo build --workspace` left in the target directory. */
export const binary = (name) => `${targetDir}/debug/${name}`;

/** Starts a program, keeping its output for when a test fails. */
export function startService(name, args, env, { file = binary(name), cwd } = {}) {
  const child = spawn(file, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-200_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("close", resolve));
  child.once("error", (error) => keep(`could not start ${name}: ${error.message}\n`));
  return {
    name,
    log: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!stopped) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Polls `check` ten times a second for up to 60 s, failing early when a started service has exited. */
export async function waitFor(what, services, check) {
  for (let i = 0; i < 600; i += 1) {
    if (await check()) return;
    const dead = services.find((service) => !service.running());
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}`);
    await sleep(100);
  }
  throw new Error(`${what}: not ready after 60 s`);
}

/** Prints the last lines each service logged, for a failed test. */
export function showLogs(services, lines = 100) {
  for (const service of services) {
    const tail = service.log().split("\n").slice(-lines).join("\n");
    console.error(`--- ${service.name} log (last ${lines} lines) ---\n${tail}`);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Undo steps, run last-added first; each runs even when an earlier one failed. */
export class Cleanup {
  #steps = [];

  add(step) {
    this.#steps.push(step);
  }

  async run() {
    for (const step of this.#steps.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error("cleanup step failed:", error);
      }
    }
  }
}

/** One statement on its own connection. */
export async function sql(url, text, values = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

export async function rows(url, text, values = []) {
  return (await sql(url, text, values)).rows;
}

/** A new, empty PostgreSQL database, dropped by `cleanup`; its URL. */
export async function scratchDatabase(cleanup, label) {
  const database = `warden_${label}_${randomBytes(6).toString("hex")}`;
  await sql(`${POSTGRES}/postgres`, `CREATE DATABASE "${database}"`);
  cleanup.add(() => sql(`${POSTGRES}/postgres`, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  return `${POSTGRES}/${database}`;
}

/** A Redis key prefix no one else uses, whose keys `cleanup` deletes. */
export function scratchRedisPrefix(cleanup, label) {
  const prefix = `warden-${label}-${randomBytes(6).toString("hex")}:`;
  cleanup.add(() => deleteRedisKeys(prefix));
  return prefix;
}

export async function deleteRedisKeys(prefix) {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", "6379", "--scan", "--pattern", `${prefix}*`]);
  const keys = stdout.split("\n").filter(Boolean);
  for (let i = 0; i < keys.length; i += 100) {
    await run("redis-cli", ["-h", "127.0.0.1", "-p", "6379", "del", ...keys.slice(i, i + 100)]);
  }
}

/**
 * The environment of a Warden of a test's own: every service on a free loopback port, the gateway on `gatewayPort`,
 * rate limits off and no fixed metrics port (interop/run's Warden runs beside it). `settings` adds or overrides.
 */
export async function wardenEnv({ databaseUrl, redisPrefix, gatewayPort, settings }) {
  const [authPort, taskPort] = [await freePort(), await freePort()];
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUST_LOG: "warn",
    NO_COLOR: "1",
    DATABASE_URL: databaseUrl,
    DATABASE_MAX_CONNECTIONS: "3",
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    AUTH_ADDR: `127.0.0.1:${authPort}`,
    TASK_ADDR: `127.0.0.1:${taskPort}`,
    GATEWAY_ADDR: `127.0.0.1:${gatewayPort}`,
    AUTH_URL: `http://127.0.0.1:${authPort}`,
    TASK_URL: `http://127.0.0.1:${taskPort}`,
    RATE_LIMIT_ENABLED: "false",
    METRICS_ADDR: "off",
    ...settings,
  };
}

/**
 * Starts auth-svc and task-svc (both with `--migrate`, as a deployment starting everything together does), then the
 * gateway, into `services`, and waits until the gateway answers.
 */
export async function startWarden(env, services, cleanup) {
  cleanup.add(() => Promise.all(services.map((service) => service.stop())));
  services.push(startService("auth-svc", ["--migrate"], env), startService("task-svc", ["--migrate"], env));
  const port = (address) => Number(address.split(":").pop());
  await waitFor(`auth-svc on ${env.AUTH_ADDR}`, services, () => portOpen(port(env.AUTH_ADDR)));
  await waitFor(`task-svc on ${env.TASK_ADDR}`, services, () => portOpen(port(env.TASK_ADDR)));
  services.push(startService("gateway", [], env));
  const gateway = `http://${env.GATEWAY_ADDR}`;
  await waitFor(`the gateway on ${gateway}`, services, async () => {
    const response = await fetch(`${gateway}/api/auth/ok`).catch(() => null);
    return response?.status === 200;
  });
}
