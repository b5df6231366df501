// The example Next.js app (examples/nextjs) on Warden, in headless Chromium. A Warden of the test's own starts with
// the app's origin as its BASE_URL, as in a deployment where browsers see Warden only through the app; the app is built
// against it with `next build` and served with `next start`. A user signs up with Better Auth's React client, is sent
// to the sign-in page by the middleware when signed out, sees the task list the server rendered, creates, completes
// and deletes tasks, signs out and is sent away again. Then the app runs again reading sessions from Warden's JWTs
// instead of get-session, and the trade-off between the two shows: a revoked session is refused by the get-session
// page at once, and by the JWT page only when its JWT expires, while the task API refuses it at once either way.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { launchChromium } from "./chromium.mjs";
import { CookieJar, PASSWORD, run, uniqueEmail } from "./helpers.mjs";
import {
  Cleanup,
  freePort,
  scratchDatabase,
  scratchRedisPrefix,
  showLogs,
  startService,
  startWarden,
  waitFor,
  wardenEnv,
} from "./processes.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLE = `${ROOT}examples/nextjs/`;
const PATCH = "examples/nextjs/from-better-auth.patch";
const GUIDE = "docs/migrating-from-better-auth.md";
const NEXT = `${EXAMPLE}node_modules/.bin/next`;
const SCREENSHOT = fileURLToPath(new URL("../../target/nextjs-tasks.png", import.meta.url));
const SESSION_COOKIE = "better-auth.session_token";
const JWT_COOKIE = "warden.session_jwt";

const cleanup = new Cleanup();
const services = [];
let appPort;
let appUrl;
let gatewayUrl;
let browser;
let app;

before(async () => {
  try {
    appPort = await freePort();
    appUrl = `http://127.0.0.1:${appPort}`;
    const gatewayPort = await freePort();
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const env = await wardenEnv({
      databaseUrl: await scratchDatabase(cleanup, "nextjs"),
      redisPrefix: scratchRedisPrefix(cleanup, "nextjs"),
      gatewayPort,
      settings: {
        AUTH_SECRET: randomBytes(32).toString("base64"),
        BASE_URL: appUrl,
        // The app's servers, whose forwarded X-Forwarded-For Warden believes (the app is on loopback here).
        TRUSTED_PROXIES: "127.0.0.1/32",
      },
    });
    await startWarden(env, services, cleanup);

    // Rewrites are fixed at build time, so the app is built against this Warden.
    const build = await run(NEXT, ["build"], {
      cwd: EXAMPLE,
      env: nextEnv({ WARDEN_URL: gatewayUrl }),
      timeout: 300_000,
    });
    assert.equal(build.code, 0, `next build failed:\n${build.stdout}\n${build.stderr}`);
    assert.doesNotMatch(build.stdout + build.stderr, /warn|deprecat/i, "next build is clean");

    browser = await launchChromium();
    cleanup.add(() => browser.close());
  } catch (error) {
    showLogs(services);
    await cleanup.run();
    throw error;
  }
});

after(async () => {
  await app?.stop();
  await cleanup.run();
});

function nextEnv(extra) {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NEXT_TELEMETRY_DISABLED: "1", ...extra };
}

/** (Re)starts `next start` on the app's port, reading sessions the way `session` says. */
async function startApp(session) {
  await app?.stop();
  const env = nextEnv({ WARDEN_URL: gatewayUrl, PUBLIC_URL: appUrl, WARDEN_SESSION: session });
  app = startService("next start", ["start", "--port", String(appPort), "--hostname", "127.0.0.1"], env, {
    file: NEXT,
    cwd: EXAMPLE,
  });
  await waitFor(`next start on ${appUrl}`, [app, ...services], async () => {
    const response = await fetch(`${appUrl}/sign-in`).catch(() => null);
    return response?.status === 200;
  });
}

/** Runs a test, printing the app's and Warden's logs when it fails. */
async function showingLogs(body) {
  try {
    await body();
  } catch (error) {
    showLogs([...services, ...(app ? [app] : [])]);
    throw error;
  }
}

/** A signed-out page of the app that fails the test on any script error. */
async function freshPage(t) {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  t.after(async () => {
    await page.close();
    assert.deepEqual(errors, [], "no script errors");
  });
  return page;
}

async function cookie(name) {
  return (await browser.context.cookies(appUrl)).find((each) => each.name === name);
}

/** The browser's cookies as a `cookie` header, for calling Warden directly as that browser. */
async function cookieHeader() {
  return (await browser.context.cookies(appUrl)).map(({ name, value }) => `${name}=${value}`).join("; ");
}

/** Ends every session of the browser's user at Warden, as "sign out everywhere" from another device would. */
async function revokeSessionsElsewhere() {
  const response = await fetch(`${gatewayUrl}/api/auth/revoke-sessions`, {
    method: "POST",
    headers: { cookie: await cookieHeader(), origin: appUrl, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(response.status, 200);
}

/** Opens /tasks, expecting to be sent to the sign-in page with `next=/tasks`; the response that sent it there. */
async function expectSentToSignIn(page) {
  await page.goto(`${appUrl}/tasks`);
  const landed = new URL(page.url());
  assert.equal(landed.pathname, "/sign-in");
  assert.equal(landed.searchParams.get("next"), "/tasks");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
}

async function signUp(page, { name, email }) {
  await page.goto(`${appUrl}/sign-up`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${appUrl}/tasks`);
}

async function signIn(page, email, password = PASSWORD) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The app's own error message (Next.js adds a role="alert" route announcer of its own outside <main>). */
function alert(page) {
  return page.locator("main [role=alert]");
}

async function addTask(page, title) {
  await page.getByLabel("New task").fill(title);
  await page.getByRole("button", { name: "Add" }).click();
  await page.getByRole("listitem").filter({ hasText: title }).waitFor();
}

/** The task `title` in the HTML the server renders for the browser's session, before any script runs. */
async function serverRendered(title) {
  const response = await browser.context.request.get(`${appUrl}/tasks`, { maxRedirects: 0 });
  assert.equal(response.status(), 200);
  const html = await response.text();
  const item = html.match(new RegExp(`<li data-completed="(true|false)">(?:(?!</li>).)*?<span>${title}</span>`));
  return item && { completed: item[1] === "true" };
}

test("the example app on Warden: sign up, the middleware, server-rendered tasks, sign out", (t) =>
  showingLogs(async () => {
    await startApp("get-session");
    const page = await freshPage(t);

    // Signed out, the middleware sends /tasks to the sign-in page with a redirect of its own (no page ran).
    await expectSentToSignIn(page);
    const redirect = (await page.goto(`${appUrl}/tasks`)).request().redirectedFrom();
    assert.equal(redirect?.url(), `${appUrl}/tasks`);
    assert.equal((await redirect.response()).status(), 307);

    // Sign-up through Better Auth's React client, answered by Warden through the app's rewrite.
    const email = uniqueEmail("next");
    await signUp(page, { name: "Ada Lovelace", email });
    assert.equal(await page.getByTestId("user-name").textContent(), "Ada Lovelace");
    assert.equal(await page.getByTestId("user-email").textContent(), email);
    assert.equal(await page.getByTestId("session-source").textContent(), "get-session");
    await page.getByText("No tasks yet.").waitFor();
    const session = await cookie(SESSION_COOKIE);
    assert.ok(session?.httpOnly, "Warden's session cookie, set on the app's own origin");

    // Behind a load balancer that sets X-Forwarded-For, with the app's servers in TRUSTED_PROXIES, Warden records the
    // browser's address through the rewrite, not the app server's.
    const jar = new CookieJar();
    const elsewhere = await jar.fetch(appUrl)(`${appUrl}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.9" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    assert.equal(elsewhere.status, 200);
    const sessions = await (await jar.fetch(appUrl)(`${appUrl}/api/auth/list-sessions`)).json();
    assert.deepEqual(sessions.map((each) => each.ipAddress).sort(), ["127.0.0.1", "203.0.113.9"]);

    // Tasks created, completed and deleted in the client component, through the task API's rewrite.
    await addTask(page, "Buy milk");
    await addTask(page, "Write the report");
    await addTask(page, "Call the plumber");
    await page.getByLabel("Done: Buy milk").click();
    await page.locator('li[data-completed="true"]').filter({ hasText: "Buy milk" }).waitFor();
    await page.getByRole("button", { name: "Delete Call the plumber" }).click();
    await page.getByRole("listitem").filter({ hasText: "Call the plumber" }).waitFor({ state: "detached" });

    // The server component lists them from Warden: in the HTML itself, and after a reload.
    assert.deepEqual(await serverRendered("Buy milk"), { completed: true });
    assert.deepEqual(await serverRendered("Write the report"), { completed: false });
    assert.equal(await serverRendered("Call the plumber"), null);
    // A task created elsewhere (here: straight at Warden) shows on the next render.
    const created = await fetch(`${gatewayUrl}/api/v1/tasks`, {
      method: "POST",
      headers: { cookie: await cookieHeader(), origin: appUrl, "content-type": "application/json" },
      body: JSON.stringify({ title: "Added from another device" }),
    });
    assert.equal(created.status, 201);
    await page.reload();
    await page.getByRole("listitem").filter({ hasText: "Added from another device" }).waitFor();
    assert.equal(await page.getByRole("listitem").count(), 3);
    await mkdir(new URL("../../target/", import.meta.url), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Sign out: the cookie is gone, and the middleware sends /tasks away again.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${appUrl}/sign-in`);
    assert.equal(await cookie(SESSION_COOKIE), undefined);
    await expectSentToSignIn(page);

    // A wrong password is refused in words; the right one goes back to where the middleware came from.
    await signIn(page, email, "not the password");
    assert.equal(await alert(page).textContent(), "Invalid email or password");
    await signIn(page, email);
    await page.waitForURL(`${appUrl}/tasks`);
    await page.locator('li[data-completed="true"]').filter({ hasText: "Buy milk" }).waitFor();

    // Revoked elsewhere: the middleware still sees a cookie, but the page asks Warden and sends the browser away.
    await revokeSessionsElsewhere();
    assert.ok(await cookie(SESSION_COOKIE), "the browser still holds its cookie");
    await expectSentToSignIn(page);
  }));

test("the example app reading sessions from Warden's JWTs: bound to the session, valid until they expire", (t) =>
  showingLogs(async () => {
    await startApp("jwt");
    const page = await freshPage(t);
    await expectSentToSignIn(page);

    const ada = uniqueEmail("ada");
    await signUp(page, { name: "Ada", email: ada });
    assert.equal(await page.getByTestId("session-source").textContent(), "jwt");
    await addTask(page, "Plan the launch");
    assert.deepEqual(await serverRendered("Plan the launch"), { completed: false });
    const jwt = await cookie(JWT_COOKIE);
    assert.ok(jwt?.httpOnly, "the JWT is kept in an HTTP-only cookie");
    assert.ok(jwt.expires * 1000 - Date.now() <= 15 * 60 * 1000 + 5_000, "it lives as long as the JWT");

    // Signing out and in as someone else in the same browser: the page never speaks for the previous user.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${appUrl}/sign-in`);
    assert.ok(await cookie(JWT_COOKIE), "the old JWT cookie is still in the browser");
    const grace = uniqueEmail("grace");
    await page.goto(`${appUrl}/sign-up`);
    await signUp(page, { name: "Grace", email: grace });
    assert.equal(await page.getByTestId("user-email").textContent(), grace);
    await page.getByText("No tasks yet.").waitFor();
    assert.equal(await serverRendered("Plan the launch"), null);

    // A JWT cookie whose signature is not Warden's is not taken, even bound to the right session.
    const good = await cookie(JWT_COOKIE);
    const forged = good.value.slice(0, -6) + (good.value.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA");
    await browser.context.addCookies([{ name: JWT_COOKIE, value: forged, url: appUrl, httpOnly: true }]);
    await expectSentToSignIn(page);
    await signIn(page, grace);
    await page.waitForURL(`${appUrl}/tasks`);
    assert.equal(await page.getByTestId("user-email").textContent(), grace);

    // Revoked elsewhere: the page goes on accepting the JWT until it expires (the documented delay), but the task API
    // behind it refuses the session at once.
    await revokeSessionsElsewhere();
    await page.reload();
    assert.equal(await page.getByTestId("user-email").textContent(), grace);
    await page.getByLabel("New task").fill("Too late");
    await page.getByRole("button", { name: "Add" }).click();
    await alert(page).waitFor();
    assert.equal(await serverRendered("Too late"), null);

    // Signing out drops the session cookie, and the middleware drops the JWT cookie as it sends the browser away.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${appUrl}/sign-in`);
    await expectSentToSignIn(page);
    assert.equal(await cookie(SESSION_COOKIE), undefined);
    assert.equal(await cookie(JWT_COOKIE), undefined);
  }));

test("the cut-over patch leads from the app's Better Auth version to this one, and the guide shows it", async () => {
  const args = ["apply", "--check", "--reverse", "--directory=examples/nextjs", PATCH];
  const check = await run("git", args, { cwd: ROOT });
  assert.equal(check.code, 0, `${PATCH} no longer matches examples/nextjs:\n${check.stderr}`);
  const patch = await readFile(`${ROOT}${PATCH}`, "utf8");
  for (const gone of ["app/api/auth/[...all]/route.ts", "lib/auth.ts"]) {
    assert.match(patch, new RegExp(`^deleted file mode .*\\n.*\\n--- a/${gone.replace(/[[\].]/g, "\\$&")}$`, "m"));
  }
  const guide = await readFile(`${ROOT}${GUIDE}`, "utf8");
  assert.ok(guide.includes(`\`\`\`diff\n${patch}\`\`\``), `${GUIDE} shows ${PATCH} as it is`);
});
