// The web UI's social sign-in in Chromium, against a Warden of its own whose Google is a real OpenID Connect provider
// (panva's oidc-provider, `../providers/oidc.mjs`, through GOOGLE_ISSUER) and whose GitHub is the GitHub stand-in of
// `../providers/github.mjs` (through GITHUB_BASE_URL; GitHub is not OpenID Connect, so there is no certified server to
// run in its place). Both have Warden's callback URLs registered, as a deployment registers them with the real ones.
//
// From the sign-in page, "Continue with Google" goes through the provider's own login and consent pages and back to
// the dashboard, signed in; signing out and in again the same way reaches the same user. On the account page GitHub
// is linked through the stand-in's Authorize page, listed, and unlinked, and unlinking the last way to sign in is
// refused in words. Refusals that come back from a provider (`?error=`) read as sentences on the sign-in page.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { startGithub } from "../providers/github.mjs";
import { startOidcProvider } from "../providers/oidc.mjs";
import { TIMEOUT, launchChromium, watchedSteps } from "./chromium.mjs";
import { PASSWORD } from "./helpers.mjs";
import {
  Cleanup,
  freePort,
  rows,
  scratchDatabase,
  scratchRedisPrefix,
  showLogs,
  startWarden,
  wardenEnv,
} from "./processes.mjs";

const GOOGLE = { clientId: "warden-google", clientSecret: randomBytes(16).toString("hex") };
const GITHUB = { clientId: "warden-github", clientSecret: randomBytes(16).toString("hex") };
const CANCELLED = "The sign-in was cancelled at the provider. Nothing was changed.";
const NOT_LINKED =
  "An account with this email address already exists, and that provider is not linked to it. "
  + "Sign in with your password, then link the provider on your account page.";
const GENERIC = "Signing in with that provider did not work. Please try again, or sign in another way.";
const LAST_ACCOUNT = "This is your only way to sign in, so it cannot be unlinked. Link another one first.";

const cleanup = new Cleanup();
const services = [];
let base;
/** The OpenID Connect provider standing in for Google. */
let googleIssuer;
let databaseUrl;
let browser;
let page;
const run = watchedSteps();
const { step, watchedPage } = run;

before(async () => {
  const gatewayPort = await freePort();
  base = `http://127.0.0.1:${gatewayPort}`;
  const [google, github] = await Promise.all([
    startOidcProvider({ clients: [{ ...GOOGLE, redirectUris: [`${base}/api/auth/callback/google`] }] }),
    startGithub({ clients: [{ ...GITHUB, redirectUris: [`${base}/api/auth/callback/github`] }] }),
  ]);
  googleIssuer = google.issuer;
  cleanup.add(() => google.stop());
  cleanup.add(() => github.stop());
  databaseUrl = await scratchDatabase(cleanup, "social_ui");
  const env = await wardenEnv({
    databaseUrl,
    redisPrefix: scratchRedisPrefix(cleanup, "social-ui"),
    gatewayPort,
    settings: {
      AUTH_SECRET: randomBytes(32).toString("base64"),
      BASE_URL: base,
      GOOGLE_CLIENT_ID: GOOGLE.clientId,
      GOOGLE_CLIENT_SECRET: GOOGLE.clientSecret,
      GOOGLE_ISSUER: google.issuer,
      GITHUB_CLIENT_ID: GITHUB.clientId,
      GITHUB_CLIENT_SECRET: GITHUB.clientSecret,
      GITHUB_BASE_URL: github.baseUrl,
    },
  });
  await startWarden(env, services, cleanup);
  browser = await launchChromium();
  cleanup.add(() => browser.close());
  page = await watchedPage(browser.context);
});

after(async () => {
  if (run.failed) showLogs(services);
  await cleanup.run();
});


const heading = (name) => page.getByRole("heading", { level: 1, name });
const onWarden = (url) => url.origin === base;
const mainNav = () => page.getByRole("navigation", { name: "Main" });
const signInForm = () => page.locator("#sign-in-form");

/** The provider's login form, then its consent page ("Allow" or "Deny"); a fresh browser profile always sees both. */
async function atGoogle(email, password, decision = "Allow") {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: decision }).click();
}

async function continueWithGoogle() {
  await heading("Sign in").waitFor();
  const leaving = page.waitForURL((url) => !onWarden(url));
  await page.locator("#sign-in").getByRole("button", { name: "Continue with Google" }).click();
  await leaving;
}

/** Signs out of Warden and forgets the providers' sessions, so the next round shows their pages again. */
async function signOutEverywhere() {
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading("Sign in").waitFor();
  await browser.context.clearCookies();
}

async function currentUser() {
  return page.evaluate(async () => {
    const response = await fetch("/api/auth/get-session", { credentials: "same-origin" });
    return (await response.json())?.user ?? null;
  });
}

const linkedNames = () => page.locator("#linked-list .linked-provider").allTextContents();

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

async function accountsOf(email) {
  return rows(
    databaseUrl,
    `select a."providerId" as provider, a."accountId" as account from account a join "user" u on u.id = a."userId"
     where u.email = $1 order by a."createdAt"`,
    [email],
  );
}

describe("social sign-in in the web UI", () => {
  let adaId;

  step("the sign-in and sign-up pages offer each configured provider", async () => {
    await page.goto(base);
    await heading("Sign in").waitFor();
    const buttons = page.locator("#sign-in .social-button");
    assert.deepEqual(await buttons.allTextContents(), ["Continue with Google", "Continue with GitHub"]);

    await page.getByRole("button", { name: "Create an account" }).click();
    await heading("Create your account").waitFor();
    assert.deepEqual(
      await page.locator("#sign-up .social-button").allTextContents(),
      ["Continue with Google", "Continue with GitHub"],
    );
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  });

  step("Continue with Google goes through the provider's login and consent and lands signed in", async () => {
    await continueWithGoogle();
    assert.equal(new URL(page.url()).origin, googleIssuer, "at the provider");
    await atGoogle("ada@example.com", "ada password");

    await page.waitForURL((url) => onWarden(url));
    await heading("Your tasks").waitFor();
    assert.equal(await page.locator("#account-name").textContent(), "Ada Lovelace");
    const user = await currentUser();
    assert.equal(user.email, "ada@example.com");
    assert.equal(user.emailVerified, true, "Google vouched for the address");
    adaId = user.id;
    assert.deepEqual(await accountsOf("ada@example.com"), [{ provider: "google", account: "ada" }]);
  });

  step("signing out and in again with Google reaches the same user", async () => {
    await signOutEverywhere();
    await continueWithGoogle();
    await atGoogle("ada@example.com", "ada password");

    await heading("Your tasks").waitFor();
    assert.equal((await currentUser()).id, adaId);
    assert.equal((await accountsOf("ada@example.com")).length, 1, "no second account row");
  });

  step("the account page lists Google and links GitHub through its Authorize page", async () => {
    await mainNav().getByRole("link", { name: "Account" }).click();
    await heading("Your account").waitFor();
    await eventually(linkedNames, ["Google"], "Google is listed");
    assert.match(await page.locator("#linked-list .linked-since").first().textContent(), /^Since \S/);
    const linkButtons = page.locator("#link-buttons .social-button");
    assert.deepEqual(await linkButtons.allTextContents(), ["Link GitHub"], "only what is not linked yet");

    const leaving = page.waitForURL((url) => !onWarden(url));
    await page.getByRole("button", { name: "Link GitHub" }).click();
    await leaving;
    await page.getByRole("heading", { name: "Sign in to GitHub" }).waitFor();
    await page.getByLabel("Username or email address").fill("ada");
    await page.getByLabel("Password").fill("ada password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Authorize" }).click();

    await page.waitForURL((url) => onWarden(url));
    await heading("Your account").waitFor();
    await eventually(linkedNames, ["Google", "GitHub"], "GitHub is listed after Google");
    assert.equal(new URL(page.url()).search, "", "the view parameter is taken off the address");
    assert.equal(new URL(page.url()).hash, "#accounts");
    assert.equal(await page.locator("#link-group").isHidden(), true, "nothing left to link");
    assert.equal((await currentUser()).id, adaId, "linking kept the same session and user");
    assert.deepEqual(await accountsOf("ada@example.com"), [
      { provider: "google", account: "ada" },
      { provider: "github", account: "1001" },
    ]);
  });

  step("GitHub is unlinked, and unlinking the last way to sign in is refused in words", async () => {
    await page.getByRole("button", { name: "Unlink GitHub" }).click();
    await eventually(linkedNames, ["Google"], "GitHub is gone");
    assert.deepEqual(await page.locator("#link-buttons .social-button").allTextContents(), ["Link GitHub"]);
    assert.deepEqual(await accountsOf("ada@example.com"), [{ provider: "google", account: "ada" }]);

    await page.getByRole("button", { name: "Unlink Google" }).click();
    const refusal = page.locator("#linked-list .linked").filter({ hasText: "Google" }).getByRole("alert");
    await eventually(() => refusal.textContent(), LAST_ACCOUNT, "the refusal in words");
    assert.deepEqual(await linkedNames(), ["Google"]);
    assert.equal((await accountsOf("ada@example.com")).length, 1);
  });

  step("a sign-in cancelled at the provider comes back as a sentence on the sign-in page", async () => {
    await signOutEverywhere();
    await continueWithGoogle();
    await atGoogle("ada@example.com", "ada password", "Deny");

    await page.waitForURL((url) => onWarden(url));
    await heading("Sign in").waitFor();
    await eventually(() => signInForm().getByRole("alert").textContent(), CANCELLED, "access_denied in words");
    assert.equal(new URL(page.url()).search, "", "the error is taken off the address");
    assert.equal(await currentUser(), null);
  });

  step("an address that exists without that provider is not linked, and the page says what to do", async () => {
    const email = "grace@example.com";
    const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ name: "Grace", email, password: PASSWORD }),
    });
    assert.equal(signUp.status, 200);

    // The provider still remembers Ada from the last case.
    await browser.context.clearCookies();
    await page.goto(base);
    await continueWithGoogle();
    await atGoogle(email, "grace password");

    await page.waitForURL((url) => onWarden(url));
    await heading("Sign in").waitFor();
    await eventually(() => signInForm().getByRole("alert").textContent(), NOT_LINKED, "account_not_linked in words");
    assert.equal(await currentUser(), null);
    const accounts = await accountsOf(email);
    assert.deepEqual(accounts.map(({ provider }) => provider), ["credential"], "Google was not linked");
  });

  step("an unknown error code gets the general sentence and is never shown or parsed", async () => {
    await page.goto(`${base}/?error=${encodeURIComponent('<img src=x id="injected">')}`);
    await heading("Sign in").waitFor();

    await eventually(() => signInForm().getByRole("alert").textContent(), GENERIC, "the general sentence");
    assert.equal(await page.locator("#injected").count(), 0);
    assert.equal(new URL(page.url()).search, "");
  });
});
