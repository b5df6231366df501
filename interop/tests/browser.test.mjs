// The web UI in a real browser: Debian's Chromium, driven by playwright-core, against the Warden at WARDEN_URL.
// A user signs up, manages tasks, signs out and back in; a wrong password is shown in words; "Load more" pages; the
// dashboard fits a phone. An administrator finds, bans, unbans, creates and removes users on the admin page, which
// no one else sees, and resets the second factor of a user who lost their phone; a forgotten password is reset through
// the development mail outbox. Screenshots land in target/
// for people to look at.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { TIMEOUT, launchChromium } from './chromium.mjs';
import { CookieJar, run, totpCode } from './helpers.mjs';

const BASE_URL = process.env.WARDEN_URL;
if (!BASE_URL) throw new Error('WARDEN_URL must name the Warden under test, e.g. http://127.0.0.1:8080');

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOT = path.join(REPO_ROOT, 'target', 'ui-dashboard.png');
const PHONE_SCREENSHOT = path.join(REPO_ROOT, 'target', 'ui-dashboard-phone.png');
const ADMIN_SCREENSHOT = path.join(REPO_ROOT, 'target', 'ui-admin.png');
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a quite new passphrase';
const BANNED = 'You have been banned from this application. Please contact support if you believe this is an error.';
const SESSION_ENDED = 'Your session has ended. Please sign in again.';

/** Browsers with a profile of their own each: `context` for most tests, more for a second user at the same time. */
const browsers = [];
let context;

async function launchBrowser() {
  const browser = await launchChromium();
  browsers.push(browser);
  return browser.context;
}

before(async () => {
  context = await launchBrowser();
});

after(async () => {
  for (const browser of browsers) await browser.close();
});

function uniqueEmail(label) {
  return `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** A fresh, signed-out page that fails the test on script errors and Content-Security-Policy violations. */
async function freshPage(browserContext = context) {
  await browserContext.clearCookies();
  const page = await browserContext.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`CSP: ${message.text()}`);
    }
  });
  page.problems = problems;
  await page.goto(BASE_URL);
  return page;
}

async function closePage(page) {
  const { problems } = page;
  await page.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}

/** Polls `read` until it deep-equals `expected`, then asserts, so a failure shows the last value seen. */
async function eventually(read, expected, what) {
  const deadline = Date.now() + TIMEOUT;
  let actual = await read();
  while (!isDeepEqual(actual, expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    actual = await read();
  }
  assert.deepEqual(actual, expected, what);
}

function isDeepEqual(a, b) {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

const taskItems = (page) => page.locator('#task-list > li');
const titles = (page) => page.locator('#task-list .task-title').allTextContents();
const heading = (page, name) => page.getByRole('heading', { level: 1, name });

/**
 * Submits a sign-in or sign-up form and returns the server's answer. Better Auth allows 3 of each per 10 s from one
 * address, and every test here comes from 127.0.0.1, so a 429 is waited out (the page shows its message meanwhile).
 */
async function submitCredentials(page, form, buttonName) {
  for (let attempt = 1; ; attempt += 1) {
    const answer = page.waitForResponse(
      (response) => response.request().method() === 'POST' && /\/api\/auth\/sign-(in|up)\/email$/.test(response.url()),
    );
    await form.getByRole('button', { name: buttonName }).click();
    const response = await answer;
    if (response.status() !== 429 || attempt === 5) return response;
    const seconds = Number(response.headers()['x-retry-after']) || 10;
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 250));
  }
}

async function fillSignUp(page, { name, email }) {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await heading(page, 'Create your account').waitFor();
  const form = page.locator('#sign-up-form');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  return form;
}

async function signUp(page, user) {
  const form = await fillSignUp(page, user);
  const response = await submitCredentials(page, form, 'Create account');
  assert.equal(response.status(), 200, 'sign-up succeeds');
  await heading(page, 'Your tasks').waitFor();
}

async function signIn(page, email, password) {
  await heading(page, 'Sign in').waitFor();
  const form = page.locator('#sign-in-form');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  return submitCredentials(page, form, 'Sign in');
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading(page, 'Sign in').waitFor();
}

async function addTask(page, title, description = '') {
  const before = await taskItems(page).count();
  const form = page.getByRole('form', { name: 'New task' });
  await form.getByLabel('Title').fill(title);
  if (description) await form.getByLabel('Description').fill(description);
  await form.getByRole('button', { name: 'Add task' }).click();
  await eventually(() => taskItems(page).count(), before + 1, `"${title}" is listed`);
}

async function showOnly(page, filter, expectedTitles) {
  await page.getByRole('radio', { name: filter }).check();
  await eventually(() => titles(page), expectedTitles, `the ${filter} filter`);
}

/** Creates tasks through the REST API from inside the page, with its cookie, as the UI itself does. */
async function createTasksInPage(page, count) {
  await page.evaluate(async (n) => {
    for (let i = 1; i <= n; i += 1) {
      const response = await fetch('/api/v1/tasks', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: `Task ${String(i).padStart(2, '0')}` }),
      });
      if (response.status !== 201) throw new Error(`creating a task answered ${response.status}`);
    }
  }, count);
}

test('a user signs up, manages three tasks, signs out and finds the two that remain', async () => {
  const page = await freshPage();
  const email = uniqueEmail('ui');

  await signUp(page, { name: 'Ada Lovelace', email });
  await page.getByText('No tasks yet').waitFor();
  assert.equal(await page.locator('#account-name').textContent(), 'Ada Lovelace');

  await addTask(page, 'Book the venue', 'Ask for the room with the projector');
  await addTask(page, 'Buy milk');
  await addTask(page, 'Write the quarterly report', 'Numbers from finance are due Thursday');
  assert.deepEqual(await titles(page), ['Write the quarterly report', 'Buy milk', 'Book the venue']);

  await page.getByRole('checkbox', { name: 'Book the venue' }).check();
  await eventually(() => page.locator('#task-list > li.done .task-title').allTextContents(), ['Book the venue'], 'done');

  await page.getByRole('button', { name: 'Edit Write the quarterly report' }).click();
  const editor = page.locator('#task-list .task-edit:visible');
  await editor.getByLabel('Title').fill('Send the quarterly report');
  await editor.getByRole('button', { name: 'Save' }).click();
  await eventually(() => titles(page), ['Send the quarterly report', 'Buy milk', 'Book the venue'], 'renamed');

  await showOnly(page, 'Done', ['Book the venue']);
  await showOnly(page, 'Open', ['Send the quarterly report', 'Buy milk']);
  await showOnly(page, 'All', ['Send the quarterly report', 'Buy milk', 'Book the venue']);

  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.locator('#new-task-form input[name="title"]').blur();
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  await page.getByRole('button', { name: 'Delete Buy milk' }).click();
  await eventually(() => titles(page), ['Send the quarterly report', 'Book the venue'], 'deleted');

  await signOut(page);
  assert.equal(await taskItems(page).count(), 0, 'no tasks are left on the page after signing out');
  await page.reload();
  await heading(page, 'Sign in').waitFor();

  assert.equal((await signIn(page, email, PASSWORD)).status(), 200);
  await heading(page, 'Your tasks').waitFor();
  await eventually(() => titles(page), ['Send the quarterly report', 'Book the venue'], 'after signing in again');
  assert.equal(await page.getByRole('checkbox', { name: 'Book the venue' }).isChecked(), true);
  assert.equal(await page.getByRole('checkbox', { name: 'Send the quarterly report' }).isChecked(), false);

  await closePage(page);
});

test('a wrong password and a taken email are shown in words next to their forms', async () => {
  const page = await freshPage();
  const email = uniqueEmail('mistakes');
  await signUp(page, { name: 'Grace Hopper', email });
  await signOut(page);

  const wrong = await signIn(page, email, 'not the password');

  assert.equal(wrong.status(), 401);
  const signInAlert = page.locator('#sign-in-form').getByRole('alert');
  await eventually(() => signInAlert.textContent(), 'Invalid email or password', 'the sign-in message');
  assert.equal(await heading(page, 'Sign in').isVisible(), true, 'still on the sign-in form');
  assert.equal(await page.locator('#dashboard').isVisible(), false);

  const form = await fillSignUp(page, { name: 'Someone Else', email });
  const taken = await submitCredentials(page, form, 'Create account');

  assert.equal(taken.status(), 422);
  await eventually(
    () => form.getByRole('alert').textContent(),
    'User already exists. Use another email.',
    'the sign-up message',
  );
  assert.equal(await page.locator('#dashboard').isVisible(), false);

  await closePage(page);
});

test('the dashboard works from the keyboard alone', async () => {
  const page = await freshPage();
  const email = uniqueEmail('keyboard');
  await signUp(page, { name: 'Keys', email });

  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'title', 'Tab reaches the new task title');
  await page.keyboard.type('Typed, not clicked');
  await page.keyboard.press('Enter');
  await eventually(() => titles(page), ['Typed, not clicked'], 'Enter adds the task');

  await page.locator('#task-list .task-done').focus();
  await page.keyboard.press('Space');
  await eventually(() => page.locator('#task-list > li.done').count(), 1, 'Space completes it');
  await eventually(
    () => page.evaluate(() => document.activeElement.classList.contains('task-done')),
    true,
    'focus stays on the checkbox',
  );
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Edit');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'title', 'the editor takes focus');
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Edit', 'Escape returns to Edit');

  await closePage(page);
});

test('"Load more" fetches the next page until every task is shown', async () => {
  const page = await freshPage();
  await signUp(page, { name: 'Pager', email: uniqueEmail('pages') });
  await createTasksInPage(page, 23);
  await page.reload();
  await heading(page, 'Your tasks').waitFor();

  await eventually(() => taskItems(page).count(), 20, 'the first page');
  const loadMore = page.getByRole('button', { name: 'Load more' });
  assert.equal(await loadMore.isVisible(), true);
  await loadMore.click();

  await eventually(() => taskItems(page).count(), 23, 'every task');
  assert.equal(await loadMore.isVisible(), false, 'no more pages');
  const shown = await titles(page);
  assert.equal(new Set(shown).size, 23, 'no task twice');
  assert.equal(shown[0], 'Task 23', 'newest first');

  await closePage(page);
});

test('the dashboard fits a phone without sideways scrolling', async () => {
  const page = await freshPage();
  await page.setViewportSize({ width: 375, height: 740 });
  await signUp(page, { name: 'Pocket', email: uniqueEmail('phone') });
  await addTask(page, 'Check the mail', 'And the long description wraps instead of pushing the page wider than the screen');
  await addTask(page, 'Water the plants');
  await page.getByRole('checkbox', { name: 'Check the mail' }).check();
  await eventually(() => page.locator('#task-list > li.done').count(), 1, 'done');

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await page.locator('#new-task-form input[name="title"]').blur();
  await page.screenshot({ path: PHONE_SCREENSHOT, fullPage: true });

  await closePage(page);
});

// ---- administrators, and the mail outbox ----

/** Lowercase letters shared by the emails of one test, so a search finds exactly that test's users. */
function runTag() {
  return Array.from({ length: 6 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
}

/**
 * Makes a user an administrator as an operator would, in the database: interop/run exports the DATABASE_URL its
 * Warden uses.
 */
async function promoteToAdmin(email) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through interop/run');
  assert.match(email, /^[a-z0-9.@-]+$/, 'a plain email, safe to quote in SQL');
  const sql = `update "user" set role = 'admin' where email = '${email}' returning id`;
  const { code, stdout, stderr } = await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql]);
  assert.equal(code, 0, `psql failed: ${stderr}`);
  assert.notEqual(stdout.trim(), '', `no user ${email} to promote`);
}

/** Signs a new user up, makes them an administrator and signs them in again, which reads their new role. */
async function signInAsAdmin(page, user) {
  await signUp(page, user);
  await signOut(page);
  await promoteToAdmin(user.email);
  assert.equal((await signIn(page, user.email, PASSWORD)).status(), 200);
  await heading(page, 'Your tasks').waitFor();
}

const mainNav = (page) => page.getByRole('navigation', { name: 'Main' });
const userEmails = (page) => page.locator('#user-table .user-email').allTextContents();
const userRow = (page, email) =>
  page.locator('#user-table tbody.user').filter({ has: page.locator('.user-email').getByText(email, { exact: true }) });
const userPanel = (page, email) => page.getByRole('region', { name: email });
const userRange = (page) => page.locator('#user-range').textContent();

async function openAdmin(page) {
  await mainNav(page).getByRole('link', { name: 'Admin' }).click();
  await heading(page, 'Users').waitFor();
}

/** Searches the user table and waits until it shows exactly `expected` emails, in order. */
async function searchUsers(page, text, expected, sort) {
  const form = page.getByRole('search', { name: 'Find users' });
  if (sort) await form.getByLabel('Sort by').selectOption({ label: sort });
  await form.getByLabel('Search by email').fill(text);
  await form.getByRole('button', { name: 'Search' }).click();
  await eventually(() => userEmails(page), expected, `the users found for "${text}"`);
}

async function manage(page, email) {
  await page.getByRole('button', { name: `Manage ${email}` }).click();
  const panel = userPanel(page, email);
  await panel.waitFor();
  return panel;
}

async function createUserInForm(page, { name, email, role = 'User' }) {
  const form = page.getByRole('form', { name: 'Create a user' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByLabel('Role').selectOption({ label: role });
  await form.getByRole('button', { name: 'Create user' }).click();
  await eventually(() => page.locator('#status').textContent(), `Created ${email}.`, `${email} is created`);
}

test('an administrator finds a user by email, bans them out of their live session and lets them back in', async () => {
  const tag = runTag();
  const admin = { name: 'Ada Admin', email: `ada.${tag}@example.com` };
  const mallory = { name: 'Mallory Quinn', email: `mallory.${tag}@example.com` };

  const other = await launchBrowser();
  const victim = await freshPage(other);
  await signUp(victim, mallory);
  assert.equal(await mainNav(victim).getByRole('link', { name: 'Admin' }).count(), 0, 'no admin link for Mallory');

  const page = await freshPage();
  await signInAsAdmin(page, admin);
  await openAdmin(page);
  assert.equal(await mainNav(page).getByRole('link', { name: 'Admin' }).getAttribute('aria-current'), 'page');

  await createUserInForm(page, { name: 'Grace Hopper', email: `grace.${tag}@example.com` });
  await createUserInForm(page, { name: 'Katherine Johnson', email: `katherine.${tag}@example.com`, role: 'Admin' });
  await searchUsers(
    page,
    tag,
    [admin.email, `grace.${tag}@example.com`, `katherine.${tag}@example.com`, mallory.email],
    'Email, A to Z',
  );
  assert.equal(await userRange(page), 'Users 1–4 of 4');
  assert.equal(await userRow(page, `katherine.${tag}@example.com`).locator('.user-role').textContent(), 'admin');
  await page.getByRole('search', { name: 'Find users' }).getByLabel('Sort by').selectOption({ label: 'Email, Z to A' });
  await eventually(
    () => userEmails(page),
    [mallory.email, `katherine.${tag}@example.com`, `grace.${tag}@example.com`, admin.email],
    'sorted the other way as soon as the sort changes',
  );

  await searchUsers(page, `mallory.${tag}`, [mallory.email]);
  const panel = await manage(page, mallory.email);
  await eventually(() => panel.locator('.session-count').textContent(), '1 active session.', 'her sign-up session');
  await panel.getByLabel('Reason').fill('Spam in shared tasks');
  await panel.getByLabel('Duration').selectOption({ label: '7 days' });
  await panel.getByRole('button', { name: 'Ban user' }).click();

  const row = userRow(page, mallory.email);
  await eventually(async () => (await row.locator('.user-status').textContent()).startsWith('Banned until'), true, 'banned');
  assert.match(await panel.locator('.ban-details').textContent(), /Reason: Spam in shared tasks\.$/);
  assert.equal(await panel.locator('.session-count').textContent(), 'No active sessions.');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Unban user', 'focus moves to Unban');

  // Mallory's next request finds her session gone, and signing in again is refused in words.
  await victim.locator('#new-task-form').getByLabel('Title').fill('One more spam task');
  await victim.getByRole('button', { name: 'Add task' }).click();
  await heading(victim, 'Sign in').waitFor();
  const victimAlert = victim.locator('#sign-in-form').getByRole('alert');
  await eventually(() => victimAlert.textContent(), SESSION_ENDED, 'signed out by the ban');
  assert.equal((await signIn(victim, mallory.email, PASSWORD)).status(), 403);
  await eventually(() => victimAlert.textContent(), BANNED, 'the ban, in words');

  await searchUsers(
    page,
    tag,
    [admin.email, `grace.${tag}@example.com`, `katherine.${tag}@example.com`, mallory.email],
    'Email, A to Z',
  );
  await manage(page, mallory.email);
  await mkdir(path.dirname(ADMIN_SCREENSHOT), { recursive: true });
  await page.screenshot({ path: ADMIN_SCREENSHOT, fullPage: true });

  await userPanel(page, mallory.email).getByRole('button', { name: 'Unban user' }).click();
  await eventually(() => userRow(page, mallory.email).locator('.user-status').textContent(), 'Active', 'unbanned');

  assert.equal((await signIn(victim, mallory.email, PASSWORD)).status(), 200);
  await heading(victim, 'Your tasks').waitFor();

  await closePage(victim);
  await closePage(page);
});

test('an administrator resets the second factor of a user who lost their phone', async () => {
  const tag = runTag();
  const admin = { name: 'Ada Admin', email: `reset-admin.${tag}@example.com` };
  const lost = { name: 'Lin Lost', email: `lin.${tag}@example.com` };

  // Lin turns on two-factor over HTTP, as any client would.
  const jar = new CookieJar();
  const call = async (path, body) => {
    const response = await jar.fetch(BASE_URL)(`${BASE_URL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  assert.equal((await call('/api/auth/sign-up/email', { ...lost, password: PASSWORD })).status, 200);
  const { body: enabled } = await call('/api/auth/two-factor/enable', { password: PASSWORD });
  assert.equal((await call('/api/auth/two-factor/verify-totp', { code: totpCode(enabled.totpURI) })).status, 200);
  const challenged = await call('/api/auth/sign-in/email', { email: lost.email, password: PASSWORD });
  assert.equal(challenged.body.twoFactorRedirect, true, 'her password alone is not enough');

  const page = await freshPage();
  await signInAsAdmin(page, admin);
  await openAdmin(page);
  await searchUsers(page, `lin.${tag}`, [lost.email]);
  const panel = await manage(page, lost.email);
  assert.match(await panel.locator('.two-factor-status').textContent(), /^On\./);
  await panel.getByRole('button', { name: 'Reset two-factor' }).click();
  await eventually(() => panel.locator('.two-factor-status').textContent(), 'Off.', 'reset');
  assert.equal(await panel.getByRole('button', { name: 'Reset two-factor' }).isVisible(), false);
  assert.equal(await panel.locator('.session-count').textContent(), 'No active sessions.');

  // Her sessions ended, and her password signs her in again; she can set up her new phone.
  const session = await jar.fetch(BASE_URL)(`${BASE_URL}/api/auth/get-session`);
  assert.equal(await session.json(), null, 'her sessions ended');
  const signedIn = await call('/api/auth/sign-in/email', { email: lost.email, password: PASSWORD });
  assert.equal(signedIn.status, 200);
  assert.equal(signedIn.body.user.twoFactorEnabled, false);
  assert.equal(signedIn.body.twoFactorRedirect, undefined);
  await closePage(page);
});

test('an administrator creates, promotes and removes a user, pages through users and is told what failed', async () => {
  const tag = runTag();
  const admin = { name: 'Root', email: `root.${tag}@example.com` };
  const page = await freshPage();
  await signInAsAdmin(page, admin);
  await page.reload();
  await heading(page, 'Your tasks').waitFor();
  await openAdmin(page);

  // The server's refusals appear next to the control that asked.
  await searchUsers(page, admin.email, [admin.email]);
  const own = await manage(page, admin.email);
  await own.getByRole('button', { name: 'Ban user' }).click();
  await eventually(() => own.locator('.ban-form').getByRole('alert').textContent(), 'You cannot ban yourself', 'ban');
  await own.getByRole('button', { name: 'Remove user…' }).click();
  await own.getByRole('button', { name: 'Remove permanently' }).click();
  await eventually(() => own.locator('.remove-group > [role="alert"]').textContent(), 'You cannot remove yourself', 'rm');
  await createUserInForm(page, { name: 'Temp Worker', email: `temp.${tag}@example.com` });
  const create = page.getByRole('form', { name: 'Create a user' });
  await create.getByLabel('Name').fill('Again');
  await create.getByLabel('Email').fill(`temp.${tag}@example.com`);
  await create.getByLabel('Password').fill(PASSWORD);
  await create.getByRole('button', { name: 'Create user' }).click();
  await eventually(() => create.getByRole('alert').textContent(), 'User already exists. Use another email.', 'taken');

  // Promote, end sessions, then remove with a confirmation step, from the keyboard.
  await searchUsers(page, `temp.${tag}`, [`temp.${tag}@example.com`]);
  const panel = await manage(page, `temp.${tag}@example.com`);
  await panel.getByLabel('Role').selectOption({ label: 'Admin' });
  await panel.getByRole('button', { name: 'Save role' }).click();
  await eventually(() => userRow(page, `temp.${tag}@example.com`).locator('.user-role').textContent(), 'admin', 'role');
  await panel.getByRole('button', { name: 'Revoke all sessions' }).click();
  await eventually(() => page.locator('#status').textContent(), `Ended every session of temp.${tag}@example.com.`, 'ok');

  await panel.getByRole('button', { name: 'Remove user…' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'the confirmation takes focus');
  assert.match(await panel.locator('.confirm-text').textContent(), /cannot be undone/);
  await page.keyboard.press('Escape');
  assert.equal(await panel.locator('.confirm').isVisible(), false, 'Escape takes the question back');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Remove user…');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Remove permanently');
  await page.keyboard.press('Enter');
  await eventually(() => userEmails(page), [], 'removed');
  assert.equal(await userRange(page), 'No users');
  assert.equal(await page.getByText('No users match.').isVisible(), true);

  // Eleven more users make two pages of ten.
  await page.evaluate(async (suffix) => {
    for (let i = 1; i <= 11; i += 1) {
      const response = await fetch('/api/auth/admin/create-user', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: `Pager ${i}`, email: `pager${String(i).padStart(2, '0')}.${suffix}@example.com`, password: 'correct horse battery' }),
      });
      if (!response.ok) throw new Error(`create-user answered ${response.status}`);
    }
  }, tag);
  const pagers = Array.from({ length: 11 }, (_, i) => `pager${String(i + 1).padStart(2, '0')}.${tag}@example.com`);
  await searchUsers(page, tag, pagers.slice(0, 10), 'Email, A to Z');
  assert.equal(await userRange(page), 'Users 1–10 of 12');
  const previous = page.getByRole('button', { name: 'Previous' });
  const next = page.getByRole('button', { name: 'Next' });
  assert.equal(await previous.getAttribute('aria-disabled'), 'true');
  await next.click();
  await eventually(() => userEmails(page), [pagers[10], admin.email], 'the second page');
  assert.equal(await userRange(page), 'Users 11–12 of 12');
  assert.equal(await next.getAttribute('aria-disabled'), 'true');
  await next.focus();
  await page.keyboard.press('Enter');
  assert.equal(await userRange(page), 'Users 11–12 of 12', 'Next does nothing on the last page');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'users-next', 'and keeps the focus');
  await previous.click();
  await eventually(() => userEmails(page), pagers.slice(0, 10), 'back to the first page');

  // The page fits a phone, with a user's actions open.
  await page.setViewportSize({ width: 375, height: 740 });
  await manage(page, pagers[0]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the admin page is ${overflow}px wider than the screen`);

  await closePage(page);
});

test('a user who is not an administrator never sees the admin page, and the server refuses them', async () => {
  const page = await freshPage();
  await signUp(page, { name: 'Plain User', email: uniqueEmail('plain') });
  const nav = mainNav(page);
  assert.equal(await nav.getByRole('link', { name: 'Tasks' }).isVisible(), true);
  assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0);

  await page.goto(`${BASE_URL}/#admin`);
  await page.reload();
  await heading(page, 'Your tasks').waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0, 'not after a reload either');
  assert.equal(await page.locator('#admin').isVisible(), false);
  const status = await page.evaluate(async () => (await fetch('/api/auth/admin/list-users')).status);
  assert.equal(status, 403);

  await closePage(page);
});

test('"Forgot password?" sends a mail to the outbox whose link sets a new password, once', async () => {
  const page = await freshPage();
  const email = uniqueEmail('forgetful');
  await signUp(page, { name: 'Forgetful', email });
  await signOut(page);

  await page.getByRole('button', { name: 'Forgot password?' }).click();
  await heading(page, 'Reset your password').waitFor();
  await page.locator('#forgot-form').getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.locator('#forgot-sent').getByText(`If an account uses ${email}`).waitFor();
  await page.locator('#forgot-sent').getByRole('link', { name: 'mail outbox' }).click();
  await heading(page, 'Mail outbox').waitFor();

  // Mail is sent off the request path, so it may take a moment to arrive.
  const mail = page.locator('#mail-list > li').filter({ has: page.locator('.mail-to').getByText(email, { exact: true }) });
  const deadline = Date.now() + TIMEOUT;
  while ((await mail.count()) === 0 && Date.now() < deadline) {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(await mail.count(), 1, 'one reset mail for this user');
  assert.equal(await mail.locator('.mail-subject').textContent(), 'Reset your password');
  const link = mail.getByRole('link', { name: /\/api\/auth\/reset-password\// });
  const href = await link.getAttribute('href');
  assert.equal(href, await link.textContent(), 'the link goes where its text says');
  assert.ok(href.startsWith(`${BASE_URL}/api/auth/reset-password/`), href);

  await link.click();
  await heading(page, 'Choose a new password').waitFor();
  assert.equal(new URL(page.url()).search, '', 'the token is taken off the address');
  await page.locator('#reset-form').getByLabel('New password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await heading(page, 'Sign in').waitFor();
  await eventually(
    () => page.locator('#sign-in-notice').textContent(),
    'Your password has been changed. Sign in with your new password.',
    'the reset is confirmed',
  );

  assert.equal((await signIn(page, email, PASSWORD)).status(), 401, 'the old password no longer works');
  assert.equal((await signIn(page, email, NEW_PASSWORD)).status(), 200, 'the new one does');
  await heading(page, 'Your tasks').waitFor();

  // The link worked once.
  await page.goto(href);
  await heading(page, 'Reset your password').waitFor();
  await eventually(
    () => page.locator('#forgot-form').getByRole('alert').textContent(),
    'This reset link is invalid or has expired. Ask for a new one below.',
    'a used link is refused in words',
  );

  await closePage(page);
});
