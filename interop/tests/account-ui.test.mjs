// The web UI's account page in Chromium, against a Warden of its own: a user edits their profile, changes their
// email address (and verifies the new one through the development mail outbox) and their password, then manages
// where they are signed in. A second browser signs in beside the first; the account page lists both sessions with
// this device marked, signs the other one out (whose next request finds itself signed out), and signs out every
// other session at once. Then two-factor authentication: set up on the account page (the QR code checked against the
// URI the server answered, the key read off the page into an authenticator computed here), asked for at sign-in in
// the second browser with the app's code, a backup code or a mailed one, trusted devices, new backup codes, turned
// off. Refusals read as sentences and change nothing.

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { TIMEOUT, launchChromium, watchedSteps } from "./chromium.mjs";
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

const NEW_PASSWORD = "a quite new passphrase";
const SESSION_ENDED = "Your session has ended. Please sign in again.";
const SCREENSHOT = fileURLToPath(new URL("../../target/ui-account.png", import.meta.url));
const TWO_FACTOR_SCREENSHOT = fileURLToPath(new URL("../../target/ui-account-two-factor.png", import.meta.url));

const cleanup = new Cleanup();
const services = [];
let base;
/** The browser the user manages their account in, and a second one signed in beside it. */
let first;
let second;
let page;
let other;
const run = watchedSteps();
const { step, watchedPage } = run;

const email = `ada-${randomBytes(4).toString("hex")}@example.com`;
const newEmail = `ada.king-${randomBytes(4).toString("hex")}@example.com`;

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
  base = `http://127.0.0.1:${gatewayPort}`;
  const env = await wardenEnv({
    databaseUrl: await scratchDatabase(cleanup, "account_ui"),
    redisPrefix: scratchRedisPrefix(cleanup, "account-ui"),
    gatewayPort,
    settings: { AUTH_SECRET: randomBytes(32).toString("base64"), BASE_URL: base },
  });
  await startWarden(env, services, cleanup);
  first = await launchChromium();
  cleanup.add(() => first.close());
  second = await launchChromium();
  cleanup.add(() => second.close());
  page = await watchedPage(first.context);
  other = await watchedPage(second.context);
}

after(async () => {
  if (run.failed) showLogs(services);
  await cleanup.run();
});



const heading = (on, name) => on.getByRole("heading", { level: 1, name });
const mainNav = (on) => on.getByRole("navigation", { name: "Main" });
const alertIn = (on, selector) => on.locator(selector).locator(':scope > [role="alert"]');
const noticeIn = (on, selector) => on.locator(selector).locator(':scope > [role="status"]');

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

/** get-session as the page's own cookie sees it: `{ session, user }`, or null. */
async function sessionOf(on) {
  return on.evaluate(async () => {
    const response = await fetch("/api/auth/get-session", { credentials: "same-origin" });
    return response.json();
  });
}

async function signIn(on, address, password) {
  await heading(on, "Sign in").waitFor();
  const form = on.locator("#sign-in-form");
  await form.getByLabel("Email").fill(address);
  await form.getByLabel("Password").fill(password);
  const answer = on.waitForResponse((response) => response.url().endsWith("/api/auth/sign-in/email"));
  await form.getByRole("button", { name: "Sign in" }).click();
  return answer;
}

/** Signs out with the top bar's button, and waits until it has. */
async function signOut(on) {
  await on.getByRole("button", { name: "Sign out" }).click();
  await heading(on, "Sign in").waitFor();
}

async function openAccount(on) {
  await mainNav(on).getByRole("link", { name: "Account" }).click();
  await heading(on, "Your account").waitFor();
}

/** The sessions the account page lists, in order: `{ id, here }`, `here` when marked as this device. */
async function listedSessions(on) {
  return on.locator("#session-list > li").evaluateAll((items) =>
    items.map((item) => ({
      id: item.dataset.id,
      here: !item.querySelector(".session-this").hidden,
    })),
  );
}

/** The account page's list once it shows `count` sessions. */
async function sessionsShown(on, count) {
  await eventually(async () => (await listedSessions(on)).length, count, `${count} sessions listed`);
  return listedSessions(on);
}

/** Signs in through the REST API without a browser; the session's cookie header. */
async function signInByHttp(address, password) {
  const response = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email: address, password }),
  });
  assert.equal(response.status, 200, "signed in without a browser");
  return response.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
}

async function sessionByCookie(cookie) {
  const response = await fetch(`${base}/api/auth/get-session`, { headers: { cookie } });
  return response.json();
}

describe("the account page", () => {
  step("a new user finds the account page with their profile filled in", async () => {
    await page.goto(base);
    await page.getByRole("button", { name: "Create an account" }).click();
    const form = page.locator("#sign-up-form");
    await form.getByLabel("Name").fill("Ada Lovelace");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Password").fill(PASSWORD);
    await form.getByRole("button", { name: "Create account" }).click();
    await heading(page, "Your tasks").waitFor();

    await openAccount(page);
    assert.equal(await mainNav(page).getByRole("link", { name: "Account" }).getAttribute("aria-current"), "page");
    const profile = page.getByRole("form", { name: "Profile" });
    assert.equal(await profile.getByLabel("Name").inputValue(), "Ada Lovelace");
    assert.equal(await profile.getByLabel(/Picture/).inputValue(), "");
    assert.equal(await page.locator("#current-email").textContent(), email);
    assert.equal(await page.locator("#email-verified").textContent(), "Not verified");
  });

  step("the profile's name and picture are saved, and an empty name is refused without a change", async () => {
    const profile = page.getByRole("form", { name: "Profile" });
    await profile.getByLabel("Name").fill("Ada King");
    await profile.getByLabel(/Picture/).fill("https://example.com/ada.png");
    await profile.getByRole("button", { name: "Save profile" }).click();

    await eventually(() => noticeIn(page, "#profile-form").textContent(), "Your profile has been saved.", "saved");
    assert.equal(await page.locator("#account-name").textContent(), "Ada King", "the top bar follows");
    let { user } = await sessionOf(page);
    assert.equal(user.name, "Ada King");
    assert.equal(user.image, "https://example.com/ada.png");

    await profile.getByLabel("Name").fill("   ");
    await profile.getByRole("button", { name: "Save profile" }).click();
    await eventually(() => alertIn(page, "#profile-form").textContent(), "Please enter your name.", "refused");
    assert.equal((await sessionOf(page)).user.name, "Ada King", "the name is unchanged");

    await profile.getByLabel("Name").fill("Ada King");
    await profile.getByLabel(/Picture/).fill("");
    await profile.getByRole("button", { name: "Save profile" }).click();
    await eventually(() => alertIn(page, "#profile-form").textContent(), "", "the refusal is gone");
    await eventually(async () => (await sessionOf(page)).user.image, null, "the picture is removed");
    ({ user } = await sessionOf(page));
    assert.equal(user.name, "Ada King");
  });

  step("an unverified address changes at once, and its verification link comes back to the account page", async () => {
    const form = page.getByRole("form", { name: "Email address" });
    await form.getByLabel("New email address").fill(email.toUpperCase());
    await form.getByRole("button", { name: "Change email" }).click();
    await eventually(() => alertIn(page, "#email-form").textContent(), "That is your email address already.", "same");

    await form.getByLabel("New email address").fill(newEmail);
    await form.getByRole("button", { name: "Change email" }).click();
    await eventually(
      () => noticeIn(page, "#email-form").textContent(),
      `Your email address is now ${newEmail}. We sent it a link to verify it. In development, read it in the mail `
        + "outbox.",
      "what the server did, in words",
    );
    assert.equal(await alertIn(page, "#email-form").textContent(), "");
    assert.equal(await page.locator("#current-email").textContent(), newEmail);
    assert.equal((await sessionOf(page)).user.email, newEmail);

    await noticeIn(page, "#email-form").getByRole("link", { name: "mail outbox" }).click();
    await heading(page, "Mail outbox").waitFor();
    const mail = page.locator("#mail-list > li").filter({ has: page.locator(".mail-to").getByText(newEmail) });
    const deadline = Date.now() + TIMEOUT;
    while ((await mail.count()) === 0 && Date.now() < deadline) {
      await page.getByRole("button", { name: "Refresh" }).click();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await mail.getByRole("link", { name: /\/api\/auth\/verify-email/ }).click();
    await heading(page, "Your account").waitFor();
    assert.equal(new URL(page.url()).search, "", "the view parameter is taken off the address");
    await eventually(() => page.locator("#email-verified").textContent(), "Verified", "the new address is verified");
    assert.equal((await sessionOf(page)).user.emailVerified, true);
  });

  step("a verified address changes only when the link mailed to the new one is opened", async () => {
    const pending = `ada.elsewhere-${randomBytes(4).toString("hex")}@example.com`;
    const form = page.getByRole("form", { name: "Email address" });
    await form.getByLabel("New email address").fill(pending);
    await form.getByRole("button", { name: "Change email" }).click();
    await eventually(
      () => noticeIn(page, "#email-form").textContent(),
      `We sent a link to ${pending}. Your email address changes when you open it, within an hour. In development, `
        + "read it in the mail outbox.",
      "what the server did, in words",
    );
    assert.equal(await page.locator("#current-email").textContent(), newEmail, "not changed yet");
    assert.equal((await sessionOf(page)).user.email, newEmail);
    const subjects = await page.evaluate(async (to) => {
      const mails = await (await fetch("/api/dev/outbox")).json();
      return mails.filter((mail) => mail.to === to).map((mail) => mail.subject);
    }, pending);
    assert.deepEqual(subjects, ["Confirm your new email address"]);
  });

  step("a wrong current password changes nothing; the new password works and the old one no longer does", async () => {
    const form = page.getByRole("form", { name: "Password" });
    await form.getByLabel("Current password").fill("not the password");
    await form.getByLabel("New password").fill(NEW_PASSWORD);
    await form.getByRole("button", { name: "Change password" }).click();
    await eventually(
      () => alertIn(page, "#password-form").textContent(),
      "That password is not right. Nothing was changed.",
      "the refusal in words",
    );

    await form.getByLabel("Current password").fill(PASSWORD);
    await form.getByLabel("New password").fill(NEW_PASSWORD);
    assert.equal(await form.getByLabel("Sign out on every other device").isChecked(), true, "the default");
    await form.getByRole("button", { name: "Change password" }).click();
    await eventually(
      () => noticeIn(page, "#password-form").textContent(),
      "Your password has been changed, and you are signed out everywhere else.",
      "changed",
    );
    assert.equal(await alertIn(page, "#password-form").textContent(), "");
    assert.equal(await form.getByLabel("Current password").inputValue(), "", "the form is emptied");
    assert.notEqual(await sessionOf(page), null, "this browser stays signed in");

    await other.goto(base);
    const refused = await signIn(other, newEmail, PASSWORD);
    assert.equal(refused.status(), 401, "the old password is refused");
    await eventually(
      () => other.locator("#sign-in-form").getByRole("alert").textContent(),
      "Invalid email or password",
      "in words",
    );
    const accepted = await signIn(other, newEmail, NEW_PASSWORD);
    assert.equal(accepted.status(), 200, "the new password works");
    await heading(other, "Your tasks").waitFor();
  });

  step("both browsers' sessions are listed with this device marked, and the other one is signed out", async () => {
    const mine = (await sessionOf(page)).session.id;
    const theirs = (await sessionOf(other)).session.id;
    assert.notEqual(mine, theirs);

    await mainNav(page).getByRole("link", { name: "Tasks" }).click();
    await openAccount(page);
    const listed = await sessionsShown(page, 2);
    assert.deepEqual(listed, [{ id: mine, here: true }, { id: theirs, here: false }], "this device first, marked");
    const item = page.locator(`#session-list > li[data-id="${theirs}"]`);
    assert.match(await item.locator(".session-device").textContent(), /^Chrome on Linux$/);
    assert.match(await item.locator(".session-meta").textContent(), /^IP address 127\.0\.0\.1 · signed in \S/);
    assert.match(await item.locator(".session-agent").textContent(), /HeadlessChrome\//);
    assert.equal(
      await page.locator(`#session-list > li[data-id="${mine}"]`).getByRole("button").isVisible(),
      false,
      "this device is signed out with the top bar's button, not from the list",
    );

    await item.getByRole("button", { name: "Sign out Chrome on Linux at 127.0.0.1" }).click();
    await eventually(() => listedSessions(page), [{ id: mine, here: true }], "only this device is left");
    assert.equal(await page.locator("#revoke-others").isVisible(), false, "nothing else to sign out");
    assert.equal(await page.locator("#status").textContent(), "Signed out Chrome on Linux.");

    assert.equal(await sessionOf(other), null, "the other browser's session is gone");
    const title = other.locator("#new-task-form").getByLabel("Title");
    await title.fill("Written after being signed out");
    await other.getByRole("button", { name: "Add task" }).click();
    await heading(other, "Sign in").waitFor();
    await eventually(() => other.locator("#sign-in-form").getByRole("alert").textContent(), SESSION_ENDED, "told");
    assert.notEqual(await sessionOf(page), null, "this browser is still signed in");
  });

  step("signing out everywhere else ends every other session and keeps this one", async () => {
    assert.equal((await signIn(other, newEmail, NEW_PASSWORD)).status(), 200);
    await heading(other, "Your tasks").waitFor();
    const cookie = await signInByHttp(newEmail, NEW_PASSWORD);
    const mine = (await sessionOf(page)).session.id;

    await mainNav(page).getByRole("link", { name: "Tasks" }).click();
    await openAccount(page);
    const listed = await sessionsShown(page, 3);
    assert.deepEqual(listed.map(({ here }) => here), [true, false, false]);
    assert.equal(listed[0].id, mine);

    await page.getByRole("button", { name: "Sign out everywhere else" }).click();
    await eventually(() => listedSessions(page), [{ id: mine, here: true }], "only this device is left");
    assert.equal(await page.locator("#status").textContent(), "Signed out everywhere else.");
    assert.equal(await sessionOf(other), null, "the second browser is signed out");
    assert.equal(await sessionByCookie(cookie), null, "so is the client without a browser");
    assert.equal((await sessionOf(page)).session.id, mine, "this session is the same one");
  });

  step("the account page fits a phone", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.reload();
    await heading(page, "Your account").waitFor();
    await sessionsShown(page, 1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the account page is ${overflow}px wider than the screen`);
    await page.setViewportSize({ width: 1100, height: 820 });
    await mkdir(fileURLToPath(new URL("../../target/", import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});

// ---- two-factor authentication ----

const QR_ENCODER = new URL("../../gateway/ui/qrcode.mjs", import.meta.url);
const WRONG_PASSWORD = "That password is not right. Nothing was changed.";
const WRONG_APP_CODE =
  "That code is not right. Enter the code the app shows now; if it keeps failing, check that the time on your phone "
  + "is right.";

/** RFC 4648 base32, as an otpauth URI's `secret` holds the key. */
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let value = 0;
  let bits = 0;
  const bytes = [];
  for (const char of text.replace(/=+$/, "").toUpperCase()) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226's HOTP with SHA-1 and 6 digits, which TOTP is at counter ⌊time / 30 s⌋. */
function hotp(key, counter) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac("sha1", key).update(message).digest();
  const offset = digest[digest.length - 1] & 15;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * An authenticator app for one key. Each code it gives is for a time step after the last one given (this one or
 * the next, which the server's window of one step accepts), so no code is used twice; when both are spent it waits
 * for the next step.
 */
class Authenticator {
  #key;
  #last = -Infinity;

  constructor(secret) {
    this.#key = base32Decode(secret);
  }

  async code() {
    for (;;) {
      const now = Math.floor(Date.now() / 30_000);
      const step = [now, now + 1].find((candidate) => candidate > this.#last);
      if (step !== undefined) {
        this.#last = step;
        return hotp(this.#key, step);
      }
      await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() % 30_000) + 100));
    }
  }

  /** Six digits the server cannot take now: no code of the steps around this one. */
  wrongCode() {
    const now = Math.floor(Date.now() / 30_000);
    const valid = new Set([-2, -1, 0, 1, 2].map((offset) => hotp(this.#key, now + offset)));
    let code = "123456";
    while (valid.has(code)) code = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    return code;
  }
}

/** The dark modules of the page's QR code, as "x,y" in its own quiet-zone coordinates. */
async function drawnModules(on) {
  const d = await on.locator("#totp-qr svg path").getAttribute("d");
  return new Set([...d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)].map(([, x, y]) => `${x},${y}`));
}

/** What the vendored encoder draws for `text`, in the same coordinates (a quiet zone of 4). */
async function expectedModules(text) {
  const { default: qrcode } = await import(QR_ENCODER);
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const modules = new Set();
  for (let row = 0; row < qr.getModuleCount(); row += 1) {
    for (let column = 0; column < qr.getModuleCount(); column += 1) {
      if (qr.isDark(row, column)) modules.add(`${column + 4},${row + 4}`);
    }
  }
  return modules;
}

const twoFactorSection = () => page.getByRole("region", { name: "Two-factor authentication" });
const twoFactorEnabled = async (on) => (await sessionOf(on))?.user?.twoFactorEnabled;
const cookieNames = async (context) => (await context.cookies()).map(({ name }) => name);

/** Signs in with the password in the second browser and waits for the second step. */
async function reachSecondStep() {
  await other.goto(base);
  const answer = await signIn(other, newEmail, NEW_PASSWORD);
  assert.equal(answer.status(), 200);
  const body = await answer.json();
  assert.equal(body.twoFactorRedirect, true);
  assert.ok(body.twoFactorMethods.includes("totp"), "the app is offered");
  await heading(other, "Two-factor authentication").waitFor();
}

async function enterSecondFactor(code, { trust = false } = {}) {
  const form = other.locator("#two-factor-form");
  await form.getByRole("textbox").fill(code);
  if (trust) await form.getByLabel("Trust this device for 30 days").check();
  await form.getByRole("button", { name: "Verify" }).click();
}

const secondStepAlert = () => other.locator("#two-factor-form").getByRole("alert");

/** A sign-in without a browser up to the second step, then a backup code: the status it answers. */
async function backupCodeByHttp(code) {
  const signIn = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email: newEmail, password: NEW_PASSWORD }),
  });
  assert.equal(signIn.status, 200);
  assert.equal((await signIn.json()).twoFactorRedirect, true);
  const cookie = signIn.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
  const verify = await fetch(`${base}/api/auth/two-factor/verify-backup-code`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base, cookie },
    body: JSON.stringify({ code }),
  });
  return verify.status;
}

describe("two-factor authentication, set up on the account page and asked for at sign-in", () => {
  let authenticator;
  let backupCodes;

  step("turning it on asks for the password, then shows the QR code, the key and the backup codes once", async () => {
    await page.goto(`${base}/#accounts`);
    await heading(page, "Your account").waitFor();
    const section = twoFactorSection();
    await section.waitFor();
    assert.match(await page.locator("#two-factor-status").textContent(), /^Off\./);

    const enable = page.getByRole("form", { name: "Turn on two-factor authentication" });
    await enable.getByLabel("Password").fill("not the password");
    await enable.getByRole("button", { name: "Set up two-factor" }).click();
    await eventually(() => alertIn(page, "#two-factor-enable-form").textContent(), WRONG_PASSWORD, "refused");
    assert.equal(await page.locator("#totp-setup").isVisible(), false);

    await enable.getByLabel("Password").fill(NEW_PASSWORD);
    const answered = page.waitForResponse((response) => response.url().endsWith("/api/auth/two-factor/enable"));
    await enable.getByRole("button", { name: "Set up two-factor" }).click();
    const answer = await (await answered).json();
    assert.equal(answer.method, "totp");
    await page.locator("#totp-setup").waitFor();

    const secret = new URL(answer.totpURI).searchParams.get("secret");
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.equal(await page.getByTestId("totp-secret").textContent(), secret, "the key as text");
    assert.deepEqual(await drawnModules(page), await expectedModules(answer.totpURI), "the QR code is the URI's");
    assert.equal(await page.getByRole("img", { name: "QR code for your authenticator app" }).isVisible(), true);
    backupCodes = answer.backupCodes;
    assert.equal(backupCodes.length, 10);
    assert.deepEqual(await page.locator("#backup-codes > li").allTextContents(), backupCodes);
    assert.equal(await twoFactorEnabled(page), false, "not on until the app's first code");
    await page.locator("#two-factor-settings").screenshot({ path: TWO_FACTOR_SCREENSHOT });
    authenticator = new Authenticator(secret);
  });

  step("a wrong code leaves it off; the app's code turns it on, and the backup codes are not shown again", async () => {
    const confirm = page.getByRole("form", { name: "Confirm two-factor authentication" });
    await confirm.getByLabel("Code from the app").fill(authenticator.wrongCode());
    await confirm.getByRole("button", { name: "Verify and turn on" }).click();
    await eventually(() => alertIn(page, "#totp-verify-form").textContent(), WRONG_APP_CODE, "refused in words");
    assert.equal(await twoFactorEnabled(page), false);
    assert.notEqual(await sessionOf(page), null, "a wrong code does not sign out");

    await confirm.getByLabel("Code from the app").fill(await authenticator.code());
    await confirm.getByRole("button", { name: "Verify and turn on" }).click();
    await eventually(
      async () => (await page.locator("#two-factor-status").textContent()).startsWith("On."),
      true,
      "the page says it is on",
    );
    assert.equal(await twoFactorEnabled(page), true);
    assert.equal(await page.locator("#totp-setup").isVisible(), false);
    assert.equal(await page.locator("#totp-qr svg").count(), 0, "the key is taken off the page");
    assert.equal(await page.locator("#backup-codes-box").isVisible(), true, "still there to be saved");

    await mainNav(page).getByRole("link", { name: "Tasks" }).click();
    await openAccount(page);
    assert.equal(await page.locator("#backup-codes-box").isVisible(), false, "shown once");
    assert.equal(await page.locator("#backup-codes > li").count(), 0);
  });

  step("signing in opens no session until the second step; a backup code works once", async () => {
    await second.context.clearCookies();
    await reachSecondStep();
    assert.equal(await sessionOf(other), null, "no session yet");
    assert.ok((await cookieNames(second.context)).includes("better-auth.two_factor"));
    assert.equal(await other.locator("#two-factor-label").textContent(), "Code from the app");

    await enterSecondFactor(authenticator.wrongCode());
    await eventually(() => secondStepAlert().textContent(), "That code is not right. Please try again.", "refused");
    assert.equal(await sessionOf(other), null);

    await other.getByRole("button", { name: "Use a backup code instead" }).click();
    assert.equal(await other.locator("#two-factor-label").textContent(), "Backup code");
    await enterSecondFactor(backupCodes[0]);
    await heading(other, "Your tasks").waitFor();
    assert.equal((await sessionOf(other)).user.email, newEmail);

    await signOut(other);
    await reachSecondStep();
    await other.getByRole("button", { name: "Use a backup code instead" }).click();
    await enterSecondFactor(backupCodes[0]);
    await eventually(
      () => secondStepAlert().textContent(),
      "That backup code is not right, or it has been used already.",
      "a used backup code",
    );
    assert.equal(await sessionOf(other), null);
  });

  step("a second step whose time has run out goes back to the sign-in form, in words", async () => {
    // The two-factor cookie gone is what the server sees once its 10 minutes have passed.
    await second.context.clearCookies({ name: "better-auth.two_factor" });
    await other.getByRole("button", { name: "Use your authenticator app instead" }).click();
    await enterSecondFactor(authenticator.wrongCode());
    await heading(other, "Sign in").waitFor();
    await eventually(
      () => other.locator("#sign-in-form").getByRole("alert").textContent(),
      "Signing in took too long: the code is needed within 10 minutes of the password. Please sign in again.",
      "told to sign in again",
    );
    assert.equal(await sessionOf(other), null);
  });

  step("five wrong codes end the attempt", async () => {
    await reachSecondStep();
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await enterSecondFactor(authenticator.wrongCode());
      await eventually(() => secondStepAlert().textContent(), "That code is not right. Please try again.", `${attempt}`);
      await other.evaluate(() => {
        document.querySelector("#two-factor-form [role=alert]").textContent = "";
      });
    }
    await enterSecondFactor(await authenticator.code());
    await heading(other, "Sign in").waitFor();
    await eventually(
      () => other.locator("#sign-in-form").getByRole("alert").textContent(),
      "There were too many wrong codes. Please sign in again.",
      "the sixth try is refused even with the right code",
    );
    assert.equal(await sessionOf(other), null);
  });

  step("a code by email signs in, and a wrong one is refused in words", async () => {
    await reachSecondStep();
    await other.getByRole("button", { name: "Email me a code instead" }).click();
    await eventually(() => other.locator("#two-factor-label").textContent(), "Code from the email", "asked by email");
    assert.match(await other.locator("#two-factor-notice").textContent(), /^We sent a code to your email address\./);
    let code = "";
    const deadline = Date.now() + TIMEOUT;
    while (!code && Date.now() < deadline) {
      code = await page.evaluate(async (to) => {
        const mails = await (await fetch("/api/dev/outbox")).json();
        const mail = mails.find((one) => one.to === to && one.subject === "Your sign-in code");
        return mail?.text.match(/code is (\d{6})/)?.[1] ?? "";
      }, newEmail);
    }
    assert.match(code, /^\d{6}$/, "the mailed code");

    await enterSecondFactor(code.replace(/\d$/, (digit) => String((Number(digit) + 1) % 10)));
    await eventually(
      () => secondStepAlert().textContent(),
      "That code is not right. Check the email and try again.",
      "refused",
    );
    assert.equal(await sessionOf(other), null);
    await enterSecondFactor(code);
    await heading(other, "Your tasks").waitFor();
    assert.equal((await sessionOf(other)).user.email, newEmail);
    await signOut(other);
  });

  step("the app's code with 'trust this device' signs in, and the next sign-in there asks for no code", async () => {
    await reachSecondStep();
    await enterSecondFactor(await authenticator.code(), { trust: true });
    await heading(other, "Your tasks").waitFor();
    assert.ok((await cookieNames(second.context)).includes("better-auth.trust_device"));

    await signOut(other);
    const answer = await signIn(other, newEmail, NEW_PASSWORD);
    assert.equal((await answer.json()).twoFactorRedirect, undefined, "no second step on a trusted device");
    await heading(other, "Your tasks").waitFor();
  });

  step("new backup codes ask for the password and replace the old ones", async () => {
    const form = page.getByRole("form", { name: "New backup codes" });
    await form.getByLabel("Password").fill("not the password");
    await form.getByRole("button", { name: "Make new backup codes" }).click();
    await eventually(() => alertIn(page, "#backup-codes-form").textContent(), WRONG_PASSWORD, "refused");
    assert.equal(await backupCodeByHttp(backupCodes[1]), 200, "the old codes still work after the refusal");

    await form.getByLabel("Password").fill(NEW_PASSWORD);
    await form.getByRole("button", { name: "Make new backup codes" }).click();
    await eventually(async () => (await page.locator("#backup-codes > li").count()), 10, "ten new codes");
    const fresh = await page.locator("#backup-codes > li").allTextContents();
    assert.equal(fresh.filter((code) => backupCodes.includes(code)).length, 0, "all new");
    assert.equal(await backupCodeByHttp(backupCodes[2]), 401, "an old code no longer works");
    assert.equal(await backupCodeByHttp(fresh[0]), 200, "a new one does");
  });

  step("turning it off asks for the password; afterwards signing in asks for the password only", async () => {
    const form = page.getByRole("form", { name: "Turn off" });
    await form.getByLabel("Password").fill("not the password");
    await form.getByRole("button", { name: "Turn off two-factor" }).click();
    await eventually(() => alertIn(page, "#two-factor-disable-form").textContent(), WRONG_PASSWORD, "refused");
    assert.equal(await twoFactorEnabled(page), true, "still on");

    await form.getByLabel("Password").fill(NEW_PASSWORD);
    await form.getByRole("button", { name: "Turn off two-factor" }).click();
    await eventually(
      async () => (await page.locator("#two-factor-status").textContent()).startsWith("Off."),
      true,
      "the page says it is off",
    );
    assert.equal(await twoFactorEnabled(page), false);
    assert.equal(await page.getByRole("form", { name: "Turn on two-factor authentication" }).isVisible(), true);

    await second.context.clearCookies();
    await other.goto(base);
    const answer = await signIn(other, newEmail, NEW_PASSWORD);
    assert.ok((await answer.json()).user, "a session at once");
    await heading(other, "Your tasks").waitFor();
  });
});
