// Better Auth's own browser client with its passkey plugin (`createAuthClient` from `better-auth/client` with
// `passkeyClient` from `@better-auth/passkey/client`, which prompts through @simplewebauthn/browser), running in
// Chromium on a page of Warden's own origin, http://localhost:<port>, as an app's page would: its cookies are Warden's
// and WebAuthn's rp id is `localhost`. Chromium's virtual authenticator (the DevTools protocol's WebAuthn domain) is
// the laptop's.
//
// The modules are the ones in interop/node_modules, unbundled: Playwright answers requests under /__test/ on Warden's
// origin with their files, each bare import rewritten to the path of the file the package's "exports" name for it
// (and `process.env.NODE_ENV` replaced), so the browser runs the same code an app's bundler would give it.
//
// A user signs up, adds a named passkey (and is refused the same authenticator again), lists, renames and watches
// their passkeys through the client's `useListPasskeys` store, signs out and signs in with `signIn.passkey()`, which
// `getSession()` and `useSession` then show; deleted, the passkey no longer signs in.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { addVirtualAuthenticator, launchChromium, watchedSteps } from "./chromium.mjs";
import { PASSWORD } from "./helpers.mjs";
import {
  Cleanup,
  freePort,
  scratchDatabase,
  scratchRedisPrefix,
  showLogs,
  startWarden,
  wardenEnv,
} from "./processes.mjs";

const INTEROP = fileURLToPath(new URL("..", import.meta.url));
const NODE_MODULES = path.join(INTEROP, "node_modules");
/** Where the page finds node_modules' files, on Warden's origin; nothing there reaches Warden. */
const MODULES = "/__test/node_modules/";
/** The export conditions of a browser bundler, in order. */
const CONDITIONS = ["browser", "import", "module", "default"];

const cleanup = new Cleanup();
const services = [];
let base;
let page;
let cdp;
let authenticatorId;
const run = watchedSteps();
const { step, watchedPage } = run;

const email = `katherine-${randomBytes(4).toString("hex")}@example.com`;

// ---- node_modules for the browser ----

/** The target a package's `exports` entry names under CONDITIONS, or null. */
function exportTarget(entry) {
  if (typeof entry === "string") return entry;
  if (Array.isArray(entry)) return entry.map(exportTarget).find(Boolean) ?? null;
  if (entry && typeof entry === "object") {
    for (const [condition, value] of Object.entries(entry)) {
      const target = CONDITIONS.includes(condition) ? exportTarget(value) : null;
      if (target) return target;
    }
  }
  return null;
}

/** The file a bare specifier imported from `importer` names: the nearest node_modules' package, by its exports. */
async function resolveBare(specifier, importer) {
  const parts = specifier.split("/");
  const name = parts.slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
  const subpath = `.${specifier.slice(name.length)}`;
  for (let dir = path.dirname(importer); ; dir = path.dirname(dir)) {
    const root = path.join(dir, "node_modules", name);
    if (existsSync(path.join(root, "package.json"))) {
      const manifest = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
      let { exports } = manifest;
      if (exports === undefined) {
        return path.join(root, subpath === "." ? manifest.module ?? manifest.main ?? "index.js" : subpath);
      }
      if (typeof exports === "string" || Array.isArray(exports) || !Object.keys(exports)[0]?.startsWith(".")) {
        exports = { ".": exports };
      }
      const exact = exportTarget(exports[subpath]);
      if (exact) return path.join(root, exact);
      for (const [key, value] of Object.entries(exports)) {
        const [prefix, suffix] = key.split("*");
        if (suffix === undefined || !subpath.startsWith(prefix) || !subpath.endsWith(suffix)) continue;
        const target = exportTarget(value);
        const middle = subpath.slice(prefix.length, subpath.length - suffix.length);
        if (target) return path.join(root, target.replace("*", middle));
      }
      throw new Error(`${name} exports no ${subpath}`);
    }
    if (dir === path.dirname(dir)) throw new Error(`cannot find ${specifier} from ${importer}`);
  }
}

const urlOf = (file) => MODULES + path.relative(NODE_MODULES, file).split(path.sep).join("/");

/**
 * `source` as a bundler would hand it to the browser: each bare specifier of its static and dynamic imports and
 * re-exports made a path under MODULES, and `process.env.NODE_ENV` (which nanostores reads) an app's production build.
 */
async function bundled(source, importer) {
  const pattern = /(\b(?:import|export)\s*(?:[\w*${}\s,]+?\s*from\s*)?|\bimport\s*\(\s*)(["'])([^"'./][^"':]*)\2/g;
  const specifiers = new Set([...source.matchAll(pattern)].map((match) => match[3]));
  const resolved = new Map();
  for (const specifier of specifiers) resolved.set(specifier, urlOf(await resolveBare(specifier, importer)));
  return source
    .replace(pattern, (_, lead, quote, specifier) => `${lead}${quote}${resolved.get(specifier)}${quote}`)
    .replaceAll("process.env.NODE_ENV", JSON.stringify("production"));
}

/** Answers the page's requests under /__test/: a blank page, and node_modules' files as ES modules. */
async function serveTestFiles(route) {
  const { pathname } = new URL(route.request().url());
  if (pathname === "/__test/") {
    await route.fulfill({ contentType: "text/html; charset=utf-8", body: "<!doctype html><title>client</title>" });
    return;
  }
  const file = path.join(NODE_MODULES, decodeURIComponent(pathname.slice(MODULES.length)));
  if (!pathname.startsWith(MODULES) || !file.startsWith(NODE_MODULES + path.sep) || !existsSync(file)) {
    await route.fulfill({ status: 404, body: "" });
    return;
  }
  const body = await bundled(await readFile(file, "utf8"), file);
  await route.fulfill({ contentType: "text/javascript; charset=utf-8", body });
}

// ---- Warden, Chromium and the client ----

before(async () => {
  try {
    await startEverything();
  } catch (error) {
    run.failed = true;
    throw error;
  }
});

async function startEverything() {
  const gatewayPort = await freePort();
  base = `http://localhost:${gatewayPort}`;
  const env = await wardenEnv({
    databaseUrl: await scratchDatabase(cleanup, "passkey_client"),
    redisPrefix: scratchRedisPrefix(cleanup, "passkey-client"),
    gatewayPort,
    settings: { AUTH_SECRET: randomBytes(32).toString("base64"), BASE_URL: base },
  });
  await startWarden(env, services, cleanup);
  const browser = await launchChromium();
  cleanup.add(() => browser.close());
  page = await watchedPage(browser.context);
  await page.route(`${base}/__test/**`, serveTestFiles);
  ({ cdp, authenticatorId } = await addVirtualAuthenticator(page));
  await page.goto(`${base}/__test/`);
  const modules = {
    client: urlOf(await resolveBare("better-auth/client", path.join(INTEROP, "index.mjs"))),
    passkey: urlOf(await resolveBare("@better-auth/passkey/client", path.join(INTEROP, "index.mjs"))),
  };
  await page.evaluate(async ({ client, passkey }) => {
    const { createAuthClient } = await import(client);
    const { passkeyClient } = await import(passkey);
    window.authClient = createAuthClient({ baseURL: location.origin, plugins: [passkeyClient()] });
    // What the client's stores hold, as a view bound to them would see it.
    window.seen = { passkeys: null, session: null };
    window.authClient.useListPasskeys.subscribe((value) => {
      window.seen.passkeys = value;
    });
    window.authClient.useSession.subscribe((value) => {
      window.seen.session = value;
    });
  }, modules);
}

after(async () => {
  if (run.failed) showLogs(services);
  await cleanup.run();
});


/** Runs `authClient.<path>(...args)` in the page: `{ data, error }` with the error's code, message and status. */
async function call(pathName, ...args) {
  return page.evaluate(
    async ({ pathName: name, args: given }) => {
      const method = name.split(".").reduce((object, key) => object[key], window.authClient);
      const { data, error } = await method(...given);
      return { data, error: error && { code: error.code, message: error.message, status: error.status } };
    },
    { pathName, args },
  );
}

/** Polls a value of the page's `window.seen` until `check` accepts it; resolves to it. */
async function seenWhen(read, check, what) {
  const deadline = Date.now() + 10_000;
  let value = await page.evaluate(read);
  while (!check(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await page.evaluate(read);
  }
  assert.ok(check(value), `${what}: ${JSON.stringify(value)}`);
  return value;
}

const passkeysSeen = (check, what) => seenWhen(() => window.seen.passkeys, check, what);
const sessionSeen = (check, what) => seenWhen(() => window.seen.session, check, what);

async function credentialCount() {
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  return credentials.length;
}

describe("Better Auth's passkey client in the browser", () => {
  let user;
  let passkeyId;

  step("a new user adds a named passkey with passkey.addPasskey", async () => {
    const signedUp = await call("signUp.email", { name: "Katherine Johnson", email, password: PASSWORD });
    assert.equal(signedUp.error, null);
    ({ user } = signedUp.data);

    const added = await call("passkey.addPasskey", { name: "Work laptop" });
    assert.equal(added.error, null, "added");
    assert.equal(added.data.name, "Work laptop");
    assert.equal(added.data.userId, user.id);
    assert.equal(added.data.deviceType, "singleDevice");
    assert.equal(typeof added.data.credentialID, "string");
    passkeyId = added.data.id;
    assert.equal(await credentialCount(), 1, "the authenticator made one credential");
  });

  step("the same authenticator is refused a second passkey, in the client's words", async () => {
    const again = await call("passkey.addPasskey", { name: "Again" });
    assert.equal(again.data, null);
    assert.equal(again.error.code, "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED");
    assert.equal(again.error.message, "Previously registered");
    assert.equal(await credentialCount(), 1);
  });

  step("the passkeys are listed, renamed, and the useListPasskeys store follows", async () => {
    const listed = await call("passkey.listUserPasskeys");
    assert.equal(listed.error, null);
    assert.deepEqual(listed.data.map(({ id, name }) => ({ id, name })), [{ id: passkeyId, name: "Work laptop" }]);
    await passkeysSeen((seen) => seen?.data?.[0]?.name === "Work laptop", "the store lists the passkey");

    const renamed = await call("passkey.updatePasskey", { id: passkeyId, name: "Katherine’s laptop" });
    assert.equal(renamed.error, null);
    assert.equal(renamed.data.passkey.name, "Katherine’s laptop");
    await passkeysSeen((seen) => seen?.data?.[0]?.name === "Katherine’s laptop", "the store follows the rename");
  });

  step("signed out, signIn.passkey signs in without an email address; getSession and useSession show the user", async () => {
    assert.equal((await call("signOut")).error, null);
    assert.equal((await call("getSession")).data, null, "signed out");
    await sessionSeen((seen) => seen?.data === null && !seen.isPending, "the session store is empty");

    const signedIn = await call("signIn.passkey");
    assert.equal(signedIn.error, null, "signed in");
    assert.equal(signedIn.data.user.id, user.id);
    assert.equal(signedIn.data.user.email, email);
    assert.equal(typeof signedIn.data.session.token, "string");

    const { data } = await call("getSession");
    assert.equal(data.user.id, user.id);
    assert.equal(data.user.name, "Katherine Johnson");
    await sessionSeen((seen) => seen?.data?.user?.email === email, "the session store has the user");
  });

  step("deleted, the passkey no longer signs in", async () => {
    const deleted = await call("passkey.deletePasskey", { id: passkeyId });
    assert.equal(deleted.error, null);
    assert.deepEqual(deleted.data, { status: true });
    await passkeysSeen((seen) => Array.isArray(seen?.data) && seen.data.length === 0, "the store is empty");

    assert.equal((await call("signOut")).error, null);
    assert.equal(await credentialCount(), 1, "the device still offers it");
    const refused = await call("signIn.passkey");
    assert.equal(refused.data, null);
    assert.deepEqual(refused.error, { code: "PASSKEY_NOT_FOUND", message: "Passkey not found", status: 401 });
    assert.equal((await call("getSession")).data, null, "not signed in");
  });
});
