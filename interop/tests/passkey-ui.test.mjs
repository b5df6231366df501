// The web UI's passkeys in Chromium, against a Warden of its own called by a host name (http://localhost:<port>, since
// WebAuthn takes no IP address as rp id), with Chromium's virtual authenticator standing in for a laptop's platform
// authenticator (the DevTools protocol's WebAuthn domain: internal, resident keys, user verification).
//
// A user adds a named passkey on the account page, renames it, and cannot add the same authenticator twice; signed
// out, "Sign in with a passkey" signs them in without an email address. Deleted, the passkey no longer signs in, and
// the refusal reads as a sentence; so do a device that fails to verify its user, the same passkey used from a
// security key that cannot verify users (which Warden refuses: it requires user verification), and a prompt with no
// passkey to offer. The passkey parts are not shown in a browser without WebAuthn, at an IP address, nor by a Warden
// that does not serve the plugin.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { PLATFORM_AUTHENTICATOR, TIMEOUT, addVirtualAuthenticator, launchChromium, watchedSteps } from "./chromium.mjs";
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

const SCREENSHOT = fileURLToPath(new URL("../../target/ui-account-passkeys.png", import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL("../../docs/ui-account-passkeys.png", import.meta.url));
const NOT_REGISTERED =
  "That passkey is not registered here: it may have been deleted from your account. Sign in another way.";
const NOT_VERIFIED =
  "That passkey could not sign you in. Your device must check that it is you, with your fingerprint, face, PIN or "
  + "screen lock. Please try again.";
const PROMPT_CLOSED = "The passkey prompt was closed.";
const ADDED_ALREADY = "This device has a passkey for your account already.";
/** A laptop's built-in authenticator that checks its user (a fingerprint, say), and needs no touch in a test. */
const cleanup = new Cleanup();
const services = [];
/** Warden with every plugin, and one without the passkey plugin; both on localhost. */
let base;
let baseWithout;
let browser;
let page;
/** The DevTools session of `page`, and its virtual authenticator. */
let cdp;
let authenticatorId;
const run = watchedSteps();
const { step, watchedPage } = run;

const email = `grace-${randomBytes(4).toString("hex")}@example.com`;

before(async () => {
  try {
    await startEverything();
  } catch (error) {
    run.failed = true;
    throw error;
  }
});

async function startWardenOnLocalhost(label, settings = {}) {
  const gatewayPort = await freePort();
  const origin = `http://localhost:${gatewayPort}`;
  const env = await wardenEnv({
    databaseUrl: await scratchDatabase(cleanup, label.replaceAll("-", "_")),
    redisPrefix: scratchRedisPrefix(cleanup, label),
    gatewayPort,
    settings: { AUTH_SECRET: randomBytes(32).toString("base64"), BASE_URL: origin, ...settings },
  });
  await startWarden(env, services, cleanup);
  return origin;
}

async function startEverything() {
  [base, baseWithout] = await Promise.all([
    startWardenOnLocalhost("passkey-ui"),
    startWardenOnLocalhost("passkey-ui-off", { PLUGINS: "admin,jwt,two-factor" }),
  ]);
  browser = await launchChromium();
  cleanup.add(() => browser.close());
  page = await watchedPage(browser.context);
  ({ cdp, authenticatorId } = await addVirtualAuthenticator(page));
}

after(async () => {
  if (run.failed) showLogs(services);
  await cleanup.run();
});



const heading = (on, name) => on.getByRole("heading", { level: 1, name });
const mainNav = (on) => on.getByRole("navigation", { name: "Main" });
const passkeyButton = (on) => on.getByRole("button", { name: "Sign in with a passkey" });
const passkeySignInAlert = (on) => on.locator("#sign-in-passkey > [role='alert']");
const section = (on) => on.locator("#passkeys-group");

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

const sessionOf = async (on) => (await fetchIn(on, "/api/auth/get-session")).body;

/** The user's passkeys as the server lists them: `{ name, deviceType }`. */
async function serverPasskeys(on) {
  const { status, body } = await fetchIn(on, "/api/auth/passkey/list-user-passkeys");
  assert.equal(status, 200);
  return body.map(({ name, deviceType }) => ({ name, deviceType }));
}

/** The passkeys the account page lists: `{ name, meta }`. */
async function listedPasskeys(on) {
  return on.locator("#passkey-list > li").evaluateAll((items) =>
    items.map((item) => ({
      name: item.querySelector(".passkey-name").textContent,
      meta: item.querySelector(".passkey-meta").textContent,
    })),
  );
}

async function storedCredentials() {
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  return credentials;
}

async function signInWithPassword(on) {
  await heading(on, "Sign in").waitFor();
  const form = on.locator("#sign-in-form");
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Sign in" }).click();
  await heading(on, "Your tasks").waitFor();
}

async function signOut(on) {
  await on.getByRole("button", { name: "Sign out" }).click();
  await heading(on, "Sign in").waitFor();
}

async function openAccount(on) {
  await mainNav(on).getByRole("link", { name: "Account" }).click();
  await heading(on, "Your account").waitFor();
}

/** Adds a passkey named `name` on the account page, and waits until it is listed. */
async function addPasskey(on, name) {
  const form = on.getByRole("form", { name: "Add a passkey" });
  await form.getByLabel(/Name/).fill(name);
  const verified = on.waitForResponse((response) => response.url().endsWith("/api/auth/passkey/verify-registration"));
  await form.getByRole("button", { name: "Add a passkey" }).click();
  assert.equal((await verified).status(), 200, "the server accepts the new passkey");
  await eventually(() => on.locator("#status").textContent(), `Added the passkey “${name}”.`, "announced");
}

/** Clicks "Sign in with a passkey"; the answer to verify-authentication. */
async function signInWithPasskey(on) {
  await heading(on, "Sign in").waitFor();
  const answer = on.waitForResponse((response) => response.url().endsWith("/api/auth/passkey/verify-authentication"));
  await passkeyButton(on).click();
  return answer;
}

describe("passkeys in the web UI", () => {
  step("a new user adds a named passkey on the account page, and it is listed", async () => {
    await page.goto(base);
    await page.getByRole("button", { name: "Create an account" }).click();
    const form = page.locator("#sign-up-form");
    await form.getByLabel("Name").fill("Grace Hopper");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Password").fill(PASSWORD);
    await form.getByRole("button", { name: "Create account" }).click();
    await heading(page, "Your tasks").waitFor();

    await openAccount(page);
    await section(page).getByRole("heading", { name: "Passkeys" }).waitFor();
    await eventually(() => page.locator("#passkeys-empty").isVisible(), true, "no passkeys yet");
    assert.deepEqual(await listedPasskeys(page), []);

    await addPasskey(page, "Work laptop");
    const listed = await listedPasskeys(page);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].name, "Work laptop");
    assert.match(listed[0].meta, /^Added \S+ · (synced across your devices|kept on one device)$/);
    assert.equal(await page.locator("#passkeys-empty").isVisible(), false);
    assert.equal(await section(page).getByRole("form", { name: "Add a passkey" }).getByLabel(/Name/).inputValue(), "");

    const [stored] = await serverPasskeys(page);
    assert.equal(stored.name, "Work laptop");
    // Chromium's virtual authenticator makes device-bound credentials.
    assert.equal(stored.deviceType, "singleDevice");
    assert.equal(listed[0].meta.endsWith("kept on one device"), true);
    const credentials = await storedCredentials();
    assert.equal(credentials.length, 1, "the authenticator holds one credential");
    assert.equal(credentials[0].isResidentCredential, true, "a discoverable one: it can name the account itself");
  });

  step("a passkey is renamed, and an empty name is refused without a change", async () => {
    const item = page.locator("#passkey-list > li");
    await item.getByRole("button", { name: "Rename Work laptop" }).click();
    const rename = item.locator(".passkey-rename");
    assert.equal(await rename.getByLabel("Name").inputValue(), "Work laptop", "the form starts with the name");
    await rename.getByLabel("Name").fill("   ");
    await rename.getByRole("button", { name: "Save name" }).click();
    await eventually(
      () => rename.locator(":scope > [role='alert']").textContent(),
      "Please enter a name for the passkey.",
      "refused in words",
    );
    await rename.getByRole("button", { name: "Cancel" }).click();
    assert.equal(await rename.isVisible(), false);
    assert.deepEqual(await serverPasskeys(page), [{ name: "Work laptop", deviceType: "singleDevice" }]);

    await item.getByRole("button", { name: "Rename Work laptop" }).click();
    await rename.getByLabel("Name").fill("Grace’s laptop");
    await rename.getByRole("button", { name: "Save name" }).click();
    await eventually(() => item.locator(".passkey-name").textContent(), "Grace’s laptop", "the new name is shown");
    assert.equal(await rename.isVisible(), false, "the form closes");
    assert.equal(await page.locator("#status").textContent(), "Renamed the passkey to “Grace’s laptop”.");
    assert.deepEqual(await serverPasskeys(page), [{ name: "Grace’s laptop", deviceType: "singleDevice" }]);
  });

  step("the same authenticator cannot be added twice, and the page says so", async () => {
    const form = page.getByRole("form", { name: "Add a passkey" });
    await form.getByLabel(/Name/).fill("Again");
    await form.getByRole("button", { name: "Add a passkey" }).click();
    await eventually(() => form.locator(":scope > [role='alert']").textContent(), ADDED_ALREADY, "in words");
    assert.equal((await serverPasskeys(page)).length, 1, "nothing was added");
    assert.equal((await storedCredentials()).length, 1);
  });

  step("the passkey section fits a phone, and is pictured", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.reload();
    await heading(page, "Your account").waitFor();
    await eventually(async () => (await listedPasskeys(page)).length, 1, "listed after a reload");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the account page is ${overflow}px wider than the screen`);
    await page.setViewportSize({ width: 1100, height: 820 });
    await page.evaluate(() => document.activeElement?.blur());
    await mkdir(fileURLToPath(new URL("../../target/", import.meta.url)), { recursive: true });
    await section(page).screenshot({ path: SCREENSHOT });
    await copyFile(SCREENSHOT, DOCS_SCREENSHOT);
  });

  step("signed out, the passkey signs in without an email address", async () => {
    const { user } = await sessionOf(page);
    await signOut(page);
    assert.equal(await page.locator("#sign-in-form").getByLabel("Email").inputValue(), "", "nothing typed");

    const answer = await signInWithPasskey(page);
    assert.equal(answer.status(), 200);
    await heading(page, "Your tasks").waitFor();
    assert.equal(await page.locator("#account-name").textContent(), "Grace Hopper");
    await openAccount(page);
    assert.equal(await page.locator("#current-email").textContent(), email);
    const session = await sessionOf(page);
    assert.equal(session.user.id, user.id, "signed in as the passkey's user");
    assert.equal((await storedCredentials())[0].signCount > 0, true, "the authenticator signed");
  });

  step("deleting the passkey asks first; then it no longer signs in, and the page says why", async () => {
    const item = page.locator("#passkey-list > li");
    await eventually(async () => (await listedPasskeys(page)).length, 1, "listed");
    await item.getByRole("button", { name: "Delete Grace’s laptop" }).click();
    assert.equal(
      await item.locator(".confirm-text").textContent(),
      "Delete “Grace’s laptop”? You can no longer sign in with it here. Remove it from your device or password "
        + "manager too.",
    );
    await item.getByRole("button", { name: "Cancel" }).click();
    assert.equal(await item.locator(".confirm").isVisible(), false);
    assert.equal((await serverPasskeys(page)).length, 1, "kept");

    await item.getByRole("button", { name: "Delete Grace’s laptop" }).click();
    await item.getByRole("button", { name: "Delete passkey" }).click();
    await eventually(() => page.locator("#passkeys-empty").isVisible(), true, "no passkeys left");
    assert.equal(await page.locator("#status").textContent(), "Deleted the passkey “Grace’s laptop”.");
    assert.deepEqual(await serverPasskeys(page), []);

    await signOut(page);
    assert.equal((await storedCredentials()).length, 1, "the device still offers it");
    const answer = await signInWithPasskey(page);
    assert.equal(answer.status(), 401);
    await eventually(() => passkeySignInAlert(page).textContent(), NOT_REGISTERED, "refused in words");
    assert.equal(await heading(page, "Sign in").isVisible(), true);
    assert.equal(await sessionOf(page), null, "not signed in");
  });

  step("a device that fails to verify its user signs no one in", async () => {
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    await signInWithPassword(page);
    await openAccount(page);
    await addPasskey(page, "Phone");
    await signOut(page);

    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    try {
      const asked = [];
      const note = (request) => asked.push(new URL(request.url()).pathname);
      page.on("request", note);
      await passkeyButton(page).click();
      await eventually(() => passkeySignInAlert(page).textContent(), PROMPT_CLOSED, "in words");
      page.off("request", note);
      assert.deepEqual(asked, ["/api/auth/passkey/generate-authenticate-options"], "nothing was signed to send");
      assert.equal(await sessionOf(page), null, "not signed in");
    } finally {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
    }
  });

  step("a passkey used without user verification is refused: Warden requires it", async () => {
    // The same credential in an authenticator that cannot verify its user (no PIN, no fingerprint): its signature
    // says so, and the server refuses it. Chromium offers such an authenticator's credentials only when the options
    // name them, so the test adds the credential to the options, as the server does for a signed-in caller.
    const [credential] = await storedCredentials();
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { ...PLATFORM_AUTHENTICATOR, hasUserVerification: false, isUserVerified: false },
    }));
    await cdp.send("WebAuthn.addCredential", { authenticatorId, credential });
    const id = Buffer.from(credential.credentialId, "base64").toString("base64url");
    const options = "**/api/auth/passkey/generate-authenticate-options";
    await page.route(options, async (route) => {
      const response = await route.fetch();
      const json = { ...(await response.json()), allowCredentials: [{ type: "public-key", id }] };
      await route.fulfill({ response, json });
    });
    try {
      const refused = await signInWithPasskey(page);
      assert.equal(refused.status(), 400);
      await eventually(() => passkeySignInAlert(page).textContent(), NOT_VERIFIED, "refused in words");
      assert.equal(await sessionOf(page), null, "not signed in");
    } finally {
      await page.unroute(options);
    }

    // Back in the laptop, which verifies its user, the same passkey signs in.
    const [used] = await storedCredentials();
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", { options: PLATFORM_AUTHENTICATOR }));
    await cdp.send("WebAuthn.addCredential", { authenticatorId, credential: used });
    const answer = await signInWithPasskey(page);
    assert.equal(answer.status(), 200, "verified, the same passkey signs in");
    await heading(page, "Your tasks").waitFor();
    await signOut(page);
    assert.equal(await passkeySignInAlert(page).textContent(), "", "the old refusal is gone");
  });

  step("a prompt that ends without a passkey reads as a sentence", async () => {
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    await heading(page, "Sign in").waitFor();
    await passkeyButton(page).click();
    await eventually(() => passkeySignInAlert(page).textContent(), PROMPT_CLOSED, "in words");
    assert.equal(await sessionOf(page), null, "not signed in");
  });

  step("a browser without WebAuthn is not offered passkeys", async () => {
    const plain = await watchedPage(browser.context);
    try {
      await plain.addInitScript(() => {
        delete window.PublicKeyCredential;
      });
      await plain.goto(base);
      await heading(plain, "Sign in").waitFor();
      assert.equal(await plain.evaluate(() => typeof PublicKeyCredential), "undefined");
      assert.equal(await passkeyButton(plain).isVisible(), false);
      await signInWithPassword(plain);
      await openAccount(plain);
      await plain.locator("#session-list > li").first().waitFor();
      assert.equal(await section(plain).isVisible(), false);
    } finally {
      await plain.close();
    }
  });

  step("at an IP address, where WebAuthn works for no site, passkeys are not offered", async () => {
    const plain = await watchedPage(browser.context);
    try {
      await plain.goto(base.replace("localhost", "127.0.0.1"));
      await heading(plain, "Sign in").waitFor();
      assert.equal(await plain.locator("#sign-in-passkey").isHidden(), true);
    } finally {
      await plain.close();
    }
  });

  step("a Warden without the passkey plugin shows no passkey parts", async () => {
    // Cookies do not tell ports apart: this Warden would be sent the other one's.
    await browser.context.clearCookies();
    const elsewhere = await watchedPage(browser.context);
    try {
      await elsewhere.goto(baseWithout);
      await heading(elsewhere, "Sign in").waitFor();
      assert.equal(await elsewhere.locator("#sign-in-passkey").isHidden(), true);
      assert.equal(await elsewhere.locator("#sign-in-form").isVisible(), true);
      await elsewhere.getByRole("button", { name: "Create an account" }).click();
      const form = elsewhere.locator("#sign-up-form");
      await form.getByLabel("Name").fill("Grace Hopper");
      await form.getByLabel("Email").fill(email);
      await form.getByLabel("Password").fill(PASSWORD);
      await form.getByRole("button", { name: "Create account" }).click();
      await heading(elsewhere, "Your tasks").waitFor();
      await openAccount(elsewhere);
      await elsewhere.locator("#session-list > li").first().waitFor();
      assert.equal(await section(elsewhere).isVisible(), false);
      assert.equal(await elsewhere.locator("#two-factor-settings").isVisible(), true, "the other plugins are there");
    } finally {
      await elsewhere.close();
    }
  });
});
