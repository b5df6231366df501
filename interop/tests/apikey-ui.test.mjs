// The web UI's API keys in Chromium, against a Warden of its own with the api-key and admin plugins (and one without
// the api-key plugin).
//
// A user creates a named key on the account page, which shows it once in a read-only field with a Copy button; the
// copy, read back from the clipboard, lists the user's tasks on the task API as `x-api-key`. The list shows the key's
// name and first characters, never the key again. A key that would last less than a day, or more than a year, is
// refused in words; revoked (after a confirmation) a key is gone from the list and the task API answers it 401.
// An administrator creates a service account (no password) on the admin page, issues it a read-only key with a rate
// limit of its own, which lists tasks but may not create one (403) and is stopped by its limit (429), and revokes it;
// the same Keys view shows any user's keys. A Warden without the plugin shows none of these parts.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir } from "node:fs/promises";
import { after, before, describe } from "node:test";
import { fileURLToPath } from "node:url";

import { TIMEOUT, launchChromium, watchedSteps } from "./chromium.mjs";
import { PASSWORD } from "./helpers.mjs";
import {
  Cleanup,
  freePort,
  scratchDatabase,
  scratchRedisPrefix,
  showLogs,
  sql,
  startWarden,
  wardenEnv,
} from "./processes.mjs";

const SCREENSHOT = fileURLToPath(new URL("../../target/ui-account-api-keys.png", import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL("../../docs/ui-account-api-keys.png", import.meta.url));
const ADMIN_SCREENSHOT = fileURLToPath(new URL("../../target/ui-admin-api-keys.png", import.meta.url));
const TOO_SHORT =
  "A key must last at least a day. Enter from 1 to 365 days, or leave it empty for a key that never expires.";
const TOO_LONG =
  "A key can last at most 365 days. Enter from 1 to 365 days, or leave it empty for a key that never expires.";
const LIMIT_NOTE = "A key may make 10 requests a day. Administrators can set other limits for service accounts.";

const cleanup = new Cleanup();
const services = [];
/** Warden with the api-key plugin, and one without it; each with its database, to make an administrator in. */
let base;
let baseWithout;
let databaseUrl;
let databaseWithout;
/** The user's browser, and the administrator's beside it (one session cookie each). */
let browser;
let adminBrowser;
let page;
let adminPage;
const run = watchedSteps();
const { step, watchedPage } = run;

const tag = randomBytes(4).toString("hex");
const email = `linus-${tag}@example.com`;
const adminEmail = `root-${tag}@example.com`;
const serviceEmail = `exporter-${tag}@example.com`;
/** What the steps pass on: the user's key (from their clipboard), the service account's id, key and key id. */
const keys = {};

before(async () => {
  try {
    await startEverything();
  } catch (error) {
    run.failed = true;
    throw error;
  }
});

async function startOneWarden(label, plugins) {
  const gatewayPort = await freePort();
  const origin = `http://127.0.0.1:${gatewayPort}`;
  const url = await scratchDatabase(cleanup, label.replaceAll("-", "_"));
  const env = await wardenEnv({
    databaseUrl: url,
    redisPrefix: scratchRedisPrefix(cleanup, label),
    gatewayPort,
    settings: { AUTH_SECRET: randomBytes(32).toString("base64"), BASE_URL: origin, PLUGINS: plugins },
  });
  await startWarden(env, services, cleanup);
  return { origin, url };
}

async function startEverything() {
  const [on, off] = await Promise.all([
    startOneWarden("apikey-ui", "admin,jwt,api-key"),
    startOneWarden("apikey-ui-off", "admin,jwt"),
  ]);
  ({ origin: base, url: databaseUrl } = on);
  ({ origin: baseWithout, url: databaseWithout } = off);
  browser = await launchChromium();
  cleanup.add(() => browser.close());
  adminBrowser = await launchChromium();
  cleanup.add(() => adminBrowser.close());
  // The Copy button writes the clipboard, and the test reads it back.
  for (const { context } of [browser, adminBrowser]) {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  }
  page = await watchedPage(browser.context);
  adminPage = await watchedPage(adminBrowser.context);
}

after(async () => {
  if (run.failed) showLogs(services);
  await cleanup.run();
});

const heading = (on, name) => on.getByRole("heading", { level: 1, name });
const mainNav = (on) => on.getByRole("navigation", { name: "Main" });
const section = (on) => on.locator("#api-keys-group");
const createForm = (on) => on.getByRole("form", { name: "Create an API key" });
const alertOf = (locator) => locator.locator(':scope > [role="alert"]');
const statusText = (on) => on.locator("#status").textContent();

/** Polls `read` until it deep-equals `expected`, then asserts, so a failure shows the last value seen. */
async function eventually(read, expected, what) {
  const deadline = Date.now() + TIMEOUT;
  let actual = await read();
  while (JSON.stringify(actual) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    actual = await read();
  }
  assert.deepEqual(actual, expected, what);
}

/** GET `path` with the page's own cookie: `{ status, body }`. */
async function fetchIn(on, path) {
  return on.evaluate(async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }, path);
}

/**
 * What a machine does with a key: `method` on the task API from the page, with `key` as `x-api-key` (when given) and
 * no cookie at all, so only the key counts. `{ status, body }`.
 */
async function withKey(on, method, path, key) {
  return on.evaluate(
    async ([method, url, key]) => {
      const headers = { Accept: "application/json" };
      if (key) headers["x-api-key"] = key;
      let body;
      if (method === "POST") {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify({ title: "Made by a key" });
      }
      const response = await fetch(url, { method, headers, body, credentials: "omit" });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    [method, path, key],
  );
}

const readClipboard = (on) => on.evaluate(() => navigator.clipboard.readText());

/** The keys a list shows: `{ name, start, meta }`, and `limits` when shown (the admin page's). */
async function listedKeys(list) {
  return list.locator(":scope > li").evaluateAll((items) =>
    items.map((item) => {
      const limits = item.querySelector(".api-key-limits");
      return {
        name: item.querySelector(".api-key-name").textContent,
        start: item.querySelector(".api-key-start").textContent,
        meta: item.querySelector(".api-key-meta").textContent,
        ...(limits.hidden ? {} : { limits: limits.textContent }),
      };
    }),
  );
}

/** The user's keys as the server lists them. */
async function serverKeys(on) {
  const { status, body } = await fetchIn(on, "/api/auth/api-key/list");
  assert.equal(status, 200);
  return body.apiKeys;
}

async function signUp(on, name, address) {
  await on.getByRole("button", { name: "Create an account" }).click();
  const form = on.locator("#sign-up-form");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Email").fill(address);
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Create account" }).click();
  await heading(on, "Your tasks").waitFor();
}

async function signIn(on, address) {
  await heading(on, "Sign in").waitFor();
  const form = on.locator("#sign-in-form");
  await form.getByLabel("Email").fill(address);
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Sign in" }).click();
  await heading(on, "Your tasks").waitFor();
}

async function signOut(on) {
  await on.getByRole("button", { name: "Sign out", exact: true }).click();
  await heading(on, "Sign in").waitFor();
}

/** Signs a new user up, makes them an administrator in the database as an operator would, and signs them in again. */
async function signUpAsAdmin(on, name, address, url) {
  await signUp(on, name, address);
  await signOut(on);
  const { rowCount } = await sql(url, `update "user" set role = 'admin' where email = $1`, [address]);
  assert.equal(rowCount, 1, `${address} promoted`);
  await signIn(on, address);
}

async function openAccount(on) {
  await mainNav(on).getByRole("link", { name: "Account" }).click();
  await heading(on, "Your account").waitFor();
}

async function openAdmin(on) {
  await mainNav(on).getByRole("link", { name: "Admin" }).click();
  await heading(on, "Users").waitFor();
}

/** Creates a key on the account page: the server's answer (with the key itself). */
async function createKey(on, name, days = "") {
  const form = createForm(on);
  await form.getByLabel("Name").fill(name);
  await form.getByLabel(/Expires after/).fill(days);
  const answer = on.waitForResponse((response) => response.url().endsWith("/api/auth/api-key/create"));
  await form.getByRole("button", { name: "Create key" }).click();
  const response = await answer;
  assert.equal(response.status(), 200, `the server makes “${name}”`);
  const created = await response.json();
  await eventually(
    () => statusText(on),
    `Created the API key “${name}”. Copy it now: it will not be shown again.`,
    "announced",
  );
  return created;
}

/** Copies the key shown in `box` with its Copy button, and reads it back from the clipboard. */
async function copyShownKey(on, box) {
  await box.getByRole("button", { name: "Copy" }).click();
  await eventually(() => box.locator('[role="status"]').textContent(), "Copied to the clipboard.", "copied");
  return readClipboard(on);
}

describe("API keys in the web UI", () => {
  step("a user creates a key on the account page, sees it once in a read-only field and copies it", async () => {
    await page.goto(base);
    await signUp(page, "Linus Torvalds", email);
    await openAccount(page);
    await section(page).getByRole("heading", { name: "API keys" }).waitFor();
    await eventually(() => page.locator("#api-keys-empty").isVisible(), true, "no keys yet");
    assert.equal(await page.getByText(LIMIT_NOTE).isVisible(), true, "the default limit is told by the form");

    const created = await createKey(page, "Deploy script", "30");
    assert.match(created.key, /^[A-Za-z0-9_-]{64,}$/);
    assert.equal(created.name, "Deploy script");
    const days = (Date.parse(created.expiresAt) - Date.parse(created.createdAt)) / 86_400_000;
    assert.ok(Math.abs(days - 30) < 0.01, `expires in 30 days, not ${days}`);

    const box = page.locator("#api-key-new");
    assert.equal(await box.isVisible(), true);
    assert.equal(await box.getByRole("heading").textContent(), "Your new key “Deploy script”");
    assert.match(await box.textContent(), /it will not be shown again/);
    const field = box.getByRole("textbox", { name: "API key" });
    assert.equal(await field.inputValue(), created.key, "the key is shown");
    assert.equal(await field.isEditable(), false, "read-only");

    keys.user = await copyShownKey(page, box);
    assert.equal(keys.user, created.key, "the clipboard holds the key");

    const listed = await listedKeys(page.locator("#api-key-list"));
    assert.equal(listed.length, 1);
    assert.equal(listed[0].name, "Deploy script");
    assert.equal(listed[0].start, `${created.key.slice(0, 6)}…`, "its first characters tell it apart");
    assert.match(listed[0].meta, /^Created \S+ · not used yet · expires \S+$/);
    assert.equal(await page.locator("#api-keys-empty").isVisible(), false);
    assert.equal(await createForm(page).getByLabel("Name").inputValue(), "", "the form is emptied");
  });

  step("the copied key lists the user's tasks on the task API as x-api-key, and is never shown again", async () => {
    const listed = await withKey(page, "GET", "/api/v1/tasks", keys.user);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(listed.body.tasks, []);
    assert.equal((await withKey(page, "GET", "/api/v1/tasks", "")).status, 401, "without it, nothing");

    // Leaving the page takes the key off it; the list never carries it.
    await mainNav(page).getByRole("link", { name: "Tasks" }).click();
    await heading(page, "Your tasks").waitFor();
    assert.equal(await page.locator("#api-key-new .new-key-value").inputValue(), "");
    await openAccount(page);
    await eventually(async () => (await listedKeys(page.locator("#api-key-list"))).length, 1, "listed again");
    assert.equal(await page.locator("#api-key-new").isVisible(), false, "the key is not shown again");
    const [stored] = await serverKeys(page);
    assert.equal(stored.name, "Deploy script");
    assert.equal("key" in stored, false, "the list has no key");
    assert.equal(await page.getByText(keys.user).count(), 0);
  });

  step("a key that would last less than a day, or more than a year, is refused in words", async () => {
    const form = createForm(page);
    await form.getByLabel("Name").fill("Too short");
    await form.getByLabel(/Expires after/).fill("0.5");
    const answer = page.waitForResponse((response) => response.url().endsWith("/api/auth/api-key/create"));
    await form.getByRole("button", { name: "Create key" }).click();
    const response = await answer;
    assert.equal(response.status(), 400);
    assert.equal((await response.json()).code, "EXPIRES_IN_IS_TOO_SMALL");
    await eventually(() => alertOf(form).textContent(), TOO_SHORT, "in words");

    // No time at all would read as no expiry: the page refuses it alike, before asking.
    await form.getByLabel(/Expires after/).fill("0");
    await form.getByRole("button", { name: "Create key" }).click();
    await eventually(() => alertOf(form).textContent(), TOO_SHORT, "zero days, refused alike");

    await form.getByLabel(/Expires after/).fill("400");
    await form.getByRole("button", { name: "Create key" }).click();
    await eventually(() => alertOf(form).textContent(), TOO_LONG, "over a year");

    assert.equal(await page.locator("#api-key-new").isVisible(), false);
    assert.deepEqual((await serverKeys(page)).map((key) => key.name), ["Deploy script"], "nothing was made");
  });

  step("a key that never expires is listed so; the section is photographed for the docs", async () => {
    await createKey(page, "Nightly backup");
    const box = page.locator("#api-key-new");
    await copyShownKey(page, box);
    await eventually(async () => (await listedKeys(page.locator("#api-key-list"))).length, 2, "two keys");
    const [newest, older] = await listedKeys(page.locator("#api-key-list"));
    assert.equal(newest.name, "Nightly backup", "the newest first");
    assert.match(newest.meta, /^Created \S+ · not used yet · never expires$/);
    assert.equal(older.name, "Deploy script");
    assert.equal(await alertOf(createForm(page)).textContent(), "", "the earlier refusal is gone");

    await mkdir(fileURLToPath(new URL("../../target/", import.meta.url)), { recursive: true });
    await section(page).screenshot({ path: SCREENSHOT });
    await copyFile(SCREENSHOT, DOCS_SCREENSHOT);

    await box.getByRole("button", { name: "Done" }).click();
    assert.equal(await box.isVisible(), false, "Done takes the key away");
    assert.equal(await box.locator(".new-key-value").inputValue(), "");
  });

  step("revoking asks first, takes the key off the list, and the task API then answers it 401", async () => {
    const item = page.locator("#api-key-list > li").filter({ hasText: "Deploy script" });
    await item.getByRole("button", { name: "Revoke Deploy script" }).click();
    assert.equal(
      await item.locator(".key-confirm-text").textContent(),
      "Revoke “Deploy script”? Programs that use it stop working at once. This cannot be undone.",
    );
    await item.getByRole("button", { name: "Cancel" }).click();
    assert.equal(await item.locator(".key-confirm").isVisible(), false);
    assert.equal((await serverKeys(page)).length, 2, "nothing revoked");

    await item.getByRole("button", { name: "Revoke Deploy script" }).click();
    const answer = page.waitForResponse((response) => response.url().endsWith("/api/auth/api-key/delete"));
    await item.getByRole("button", { name: "Revoke key" }).click();
    assert.equal((await answer).status(), 200);
    await eventually(
      async () => (await listedKeys(page.locator("#api-key-list"))).map((key) => key.name),
      ["Nightly backup"],
      "gone from the list",
    );
    assert.equal(await statusText(page), "Revoked the API key “Deploy script”.");
    assert.deepEqual((await serverKeys(page)).map((key) => key.name), ["Nightly backup"]);

    const refused = await withKey(page, "GET", "/api/v1/tasks", keys.user);
    assert.equal(refused.status, 401, "a revoked key opens nothing");
  });

  step("an administrator creates a service account, with no password, on the admin page", async () => {
    await adminPage.goto(base);
    await signUpAsAdmin(adminPage, "Root", adminEmail, databaseUrl);
    await openAdmin(adminPage);
    const accounts = adminPage.locator("#service-accounts");
    assert.equal(await accounts.getByRole("heading", { name: "Service accounts" }).isVisible(), true);

    const form = adminPage.getByRole("form", { name: "Create a service account" });
    await form.getByLabel("Name").fill("Nightly exporter");
    await form.getByLabel("Email").fill(serviceEmail);
    assert.equal(await form.getByLabel("Role").inputValue(), "service", "a service role by default");
    const answer = adminPage.waitForResponse((response) => response.url().endsWith("/api/auth/admin/create-user"));
    await form.getByRole("button", { name: "Create service account" }).click();
    const response = await answer;
    assert.equal(response.status(), 200);
    assert.deepEqual(Object.keys(response.request().postDataJSON()).sort(), ["email", "name", "role"], "no password");
    const { user } = await response.json();
    keys.serviceId = user.id;
    assert.equal(user.role, "service");
    await eventually(
      () => statusText(adminPage),
      `Created the service account ${serviceEmail}. Issue it an API key below.`,
      "announced",
    );

    // The list shows the new account alone, its keys open for a first one.
    await eventually(() => adminPage.locator("#user-table .user-email").allTextContents(), [serviceEmail], "found");
    const row = adminPage.locator("#user-table tbody.user");
    assert.equal(await row.locator(".user-role").textContent(), "service");
    const keysButton = adminPage.getByRole("button", { name: `API keys of ${serviceEmail}` });
    assert.equal(await keysButton.getAttribute("aria-expanded"), "true");
    const region = adminPage.getByRole("region", { name: `API keys of ${serviceEmail}` });
    await eventually(() => region.getByText("No API keys.").isVisible(), true, "none yet");
    const accountRows = await sql(databaseUrl, `select count(*)::int as n from account where "userId" = $1`, [user.id]);
    assert.equal(accountRows.rows[0].n, 0, "no account, so no password to sign in with");
  });

  step("the administrator issues it a read-only key with a rate limit of its own, shown once, and copies it", async () => {
    const region = adminPage.getByRole("region", { name: `API keys of ${serviceEmail}` });
    const form = region.getByRole("form", { name: "Issue an API key" });
    await form.getByLabel("Name").fill("exporter");
    await form.getByRole("checkbox", { name: "Read" }).check();
    await form.getByRole("radio", { name: "A limit of its own" }).check();
    await form.getByLabel("Requests", { exact: true }).fill("3");
    await form.getByLabel("Every (seconds)", { exact: true }).fill("30");
    const answer = adminPage.waitForResponse((response) =>
      response.url().endsWith("/api/warden/admin/create-api-key"));
    await form.getByRole("button", { name: "Issue key" }).click();
    const response = await answer;
    assert.equal(response.status(), 200);
    assert.deepEqual(response.request().postDataJSON(), {
      userId: keys.serviceId,
      name: "exporter",
      permissions: { task: ["read"] },
      rateLimitEnabled: true,
      rateLimitMax: 3,
      rateLimitTimeWindow: 30_000,
    });
    const created = await response.json();
    assert.equal(created.referenceId, keys.serviceId, "the service account's key");
    keys.serviceKeyId = created.id;
    assert.deepEqual(created.permissions, { task: ["read"] });
    assert.equal(created.rateLimitMax, 3);
    assert.equal(created.rateLimitTimeWindow, 30_000);
    await eventually(
      () => statusText(adminPage),
      `Issued the API key “exporter” for ${serviceEmail}. Copy it now: it will not be shown again.`,
      "announced",
    );

    const box = region.locator(".new-key");
    assert.equal(await box.getByRole("heading").textContent(), `New key “exporter” for ${serviceEmail}`);
    assert.equal(await box.getByRole("textbox", { name: "API key" }).inputValue(), created.key);
    assert.equal(await box.getByRole("textbox", { name: "API key" }).isEditable(), false);
    keys.service = await copyShownKey(adminPage, box);
    assert.equal(keys.service, created.key);

    const listed = await listedKeys(region.locator(".key-list"));
    assert.equal(listed.length, 1);
    assert.equal(listed[0].name, "exporter");
    assert.equal(listed[0].start, `${created.key.slice(0, 6)}…`);
    assert.match(listed[0].meta, /^Created \S+ · not used yet · never expires$/);
    assert.equal(listed[0].limits, "Tasks: read · 3 requests every 30 seconds");
    assert.equal(await form.getByLabel("Name").inputValue(), "", "the form is emptied");
    assert.equal(await form.getByRole("radio", { name: /The default/ }).isChecked(), true);
    await mkdir(fileURLToPath(new URL("../../target/", import.meta.url)), { recursive: true });
    await adminPage.locator("#user-table").screenshot({ path: ADMIN_SCREENSHOT });
  });

  step("the service account's key lists tasks, may not create one (403), and is held to its limit (429)", async () => {
    const listed = await withKey(adminPage, "GET", "/api/v1/tasks", keys.service);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const created = await withKey(adminPage, "POST", "/api/v1/tasks", keys.service);
    assert.equal(created.status, 403, JSON.stringify(created.body));
    assert.equal(created.body.code, "INSUFFICIENT_API_KEY_PERMISSIONS");

    // Three requests in 30 seconds: those two, perhaps one more, then 429.
    const statuses = [];
    for (let call = 0; call < 3 && !statuses.includes(429); call += 1) {
      statuses.push((await withKey(adminPage, "GET", "/api/v1/tasks", keys.service)).status);
    }
    assert.equal(statuses.at(-1), 429, `the limit holds: ${statuses}`);
    assert.ok(statuses.slice(0, -1).every((status) => status === 200), `${statuses}`);
  });

  step("the administrator revokes the key after a confirmation, and it no longer opens anything", async () => {
    const region = adminPage.getByRole("region", { name: `API keys of ${serviceEmail}` });
    const item = region.locator(".key-list > li");
    await item.getByRole("button", { name: "Revoke exporter" }).click();
    assert.equal(
      await item.locator(".key-confirm-text").textContent(),
      `Revoke “exporter” of ${serviceEmail}? Programs that use it stop working at once. This cannot be undone.`,
    );
    const answer = adminPage.waitForResponse((response) =>
      response.url().endsWith("/api/warden/admin/delete-api-key"));
    await item.getByRole("button", { name: "Revoke key" }).click();
    const response = await answer;
    assert.equal(response.status(), 200);
    assert.deepEqual(response.request().postDataJSON(), { keyId: keys.serviceKeyId, userId: keys.serviceId });
    await eventually(() => region.locator(".key-list > li").count(), 0, "gone from the list");
    assert.equal(await region.getByText("No API keys.").isVisible(), true);
    assert.equal(await statusText(adminPage), `Revoked the API key “exporter” of ${serviceEmail}.`);
    const listed = await fetchIn(adminPage, `/api/warden/admin/list-api-keys?userId=${keys.serviceId}`);
    assert.deepEqual(listed.body, { apiKeys: [], total: 0 });

    const refused = await withKey(adminPage, "GET", "/api/v1/tasks", keys.service);
    assert.equal(refused.status, 401, "a revoked key opens nothing");
  });

  step("the Keys view shows any user's keys, with their rights and limits", async () => {
    const search = adminPage.getByRole("search", { name: "Find users" });
    await search.getByLabel("Search by email").fill(email);
    await search.getByRole("button", { name: "Search" }).click();
    await eventually(() => adminPage.locator("#user-table .user-email").allTextContents(), [email], "found");
    await adminPage.getByRole("button", { name: `API keys of ${email}` }).click();
    const region = adminPage.getByRole("region", { name: `API keys of ${email}` });
    await eventually(async () => (await listedKeys(region.locator(".key-list"))).length, 1, "the user's key");
    const [listed] = await listedKeys(region.locator(".key-list"));
    assert.equal(listed.name, "Nightly backup");
    assert.equal(listed.limits, "All of the account’s rights · 10 requests a day");

    // The view fits a phone.
    await adminPage.setViewportSize({ width: 375, height: 740 });
    const overflow = await adminPage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the admin page is ${overflow}px wider than the screen`);
    await adminPage.setViewportSize({ width: 1100, height: 820 });
    await adminPage.getByRole("button", { name: `API keys of ${email}` }).focus();

    await adminPage.keyboard.press("Escape");
    assert.equal(await region.isVisible(), false, "Escape closes the view");
    assert.equal(
      await adminPage.getByRole("button", { name: `API keys of ${email}` }).getAttribute("aria-expanded"),
      "false",
    );
  });

  step("a Warden without the api-key plugin shows no API key parts", async () => {
    // Cookies do not tell ports apart: this Warden would be sent the other one's.
    await browser.context.clearCookies();
    const elsewhere = await watchedPage(browser.context);
    try {
      await elsewhere.goto(baseWithout);
      await heading(elsewhere, "Sign in").waitFor();
      await signUpAsAdmin(elsewhere, "Linus Torvalds", email, databaseWithout);
      assert.equal((await fetchIn(elsewhere, "/api/auth/api-key/list")).status, 404, "the plugin is off");

      await openAccount(elsewhere);
      await elsewhere.locator("#session-list > li").first().waitFor();
      assert.equal(await section(elsewhere).isVisible(), false);

      await openAdmin(elsewhere);
      await elsewhere.locator("#user-table tbody.user").first().waitFor();
      assert.equal(await elsewhere.locator("#service-accounts").isVisible(), false);
      assert.equal(await elsewhere.getByRole("button", { name: /^API keys of/ }).count(), 0, "no Keys buttons");
      assert.equal(await elsewhere.getByRole("form", { name: "Create a user" }).isVisible(), true, "the rest stays");
    } finally {
      await elsewhere.close();
    }
  });
});
