// The API docs page (/docs) in a real browser: Debian's Chromium, driven by playwright-core, against the Warden at
// WARDEN_URL. The page lists every operation of the served /api/openapi.json, the filter narrows the list, and "Try
// it" sends real requests with the browser's own session cookie: a user signs up, creates a task and finds it listed;
// an opened operation fits a phone. No request leaves the page's origin, and no script error or Content-Security-Policy
// violation is logged. Screenshots land in target/ for people to look at.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { launchChromium } from './chromium.mjs';
import { PASSWORD, uniqueEmail, wardenUrl } from './helpers.mjs';

const BASE_URL = wardenUrl();
const ORIGIN = new URL(BASE_URL).origin;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOT = path.join(REPO_ROOT, 'target', 'ui-docs.png');
const PHONE_SCREENSHOT = path.join(REPO_ROOT, 'target', 'ui-docs-phone.png');
const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'options', 'head', 'trace'];
const SIGN_UP = 'POST /api/auth/sign-up/email';
const OK = 'GET /api/auth/ok';

/** The document the gateway serves, read once; the page must list what it holds, whatever that is. */
const described = await (async () => {
  const response = await fetch(`${BASE_URL}/api/openapi.json`);
  assert.equal(response.status, 200);
  return response.json();
})();

let browser;
let context;

before(async () => {
  browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
  context = browser.context;
});

after(async () => {
  await browser?.close();
});

/** `METHOD /path` of every operation in the document. */
function documentedOperations() {
  return Object.entries(described.paths ?? {}).flatMap(([route, item]) =>
    METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${route}`));
}

/**
 * A fresh, signed-out docs page that records script errors, console errors (CSP violations among them) and every
 * request to another origin. The browser logs an answer of 4xx or 5xx to a page's own fetch as a console error too;
 * those are answers "Try it" shows, so they are not problems.
 */
async function docsPage() {
  await context.clearCookies();
  const page = await context.newPage();
  const problems = [];
  const elsewhere = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const answered = /^Failed to load resource: the server responded with a status of/.test(message.text());
    if (message.type() === 'error' && !answered) problems.push(`console: ${message.text()}`);
  });
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'data:' && url.origin !== ORIGIN) elsewhere.push(request.url());
  });
  page.problems = problems;
  page.elsewhere = elsewhere;
  await page.goto(`${BASE_URL}/docs`);
  await operationItems(page).first().waitFor();
  return page;
}

async function closePage(page) {
  const { problems, elsewhere } = page;
  await page.close();
  assert.deepEqual(problems, [], 'no script errors, console errors or CSP violations');
  assert.deepEqual(elsewhere, [], 'no request left the page’s origin');
}

const operationItems = (page) => page.locator('li[data-operation]');
const visibleOperations = (page) => page.locator('li[data-operation]:visible')
  .evaluateAll((items) => items.map((item) => item.dataset.operation));

/** Opens an operation by its button and returns its list item. */
async function open(page, operation) {
  const item = page.locator(`li[data-operation="${operation}"]`);
  const toggle = item.getByRole('button', { expanded: false });
  await toggle.click();
  await item.getByRole('form').waitFor();
  return item;
}

/** Presses "Send request" on an opened operation; resolves to its answer's status and parsed body. */
async function send(item) {
  const form = item.getByRole('form');
  const result = form.locator('.docs-result');
  await result.evaluate((element) => element.replaceChildren());
  await form.getByRole('button', { name: 'Send request' }).click();
  const status = form.locator('.docs-result-status .docs-status');
  await status.waitFor();
  const body = await form.locator('.docs-result-body').textContent();
  return { status: Number(await status.textContent()), body: body === '(empty)' ? null : JSON.parse(body) };
}

/** Rewrites an opened operation's body: `edit` is given the prefilled example and returns the body to send. */
async function writeBody(item, edit) {
  const textarea = item.getByRole('form').getByLabel('Body');
  const prefilled = JSON.parse(await textarea.inputValue());
  await textarea.fill(JSON.stringify(edit(prefilled), null, 2));
  return prefilled;
}

test('the page lists every operation of the served document, grouped, with its schemas', async () => {
  const page = await docsPage();

  const listed = await operationItems(page).evaluateAll((items) => items.map((item) => item.dataset.operation));
  assert.deepEqual([...listed].sort(), documentedOperations().sort());
  for (const operation of ['POST /api/v1/tasks', 'GET /api/v1/tasks', 'GET /api/v1/tasks/{id}']) {
    assert.ok(listed.includes(operation), `${operation} is listed`);
  }
  assert.ok(await page.getByRole('heading', { level: 2, name: 'TaskService' }).isVisible(), 'grouped by tag');
  assert.match(await page.locator('#docs-count').textContent(), new RegExp(`^${listed.length} operations\\.$`));

  // Opened with the keyboard: the toggle is a real button.
  const create = page.locator('li[data-operation="POST /api/v1/tasks"]');
  await create.getByRole('button', { expanded: false }).focus();
  await page.keyboard.press('Enter');
  await create.getByRole('form', { name: 'Try POST /api/v1/tasks' }).waitFor();
  const reference = create.locator('.docs-reference');
  assert.match(await reference.textContent(), /session cookie .* or bearer token/i);
  const titleLine = reference.locator('.docs-schema li').filter({ has: page.locator('code', { hasText: /^title$/ }) });
  assert.match(await titleLine.first().textContent(), /required/);
  const idLine = reference.locator('.docs-schema li').filter({ has: page.locator('code', { hasText: /^id$/ }) });
  assert.match(await idLine.first().textContent(), /read-only/);
  assert.match(await reference.textContent(), /201/);

  // The body is prefilled from the schema, without the fields the server sets.
  const example = JSON.parse(await create.getByRole('form').getByLabel('Body').inputValue());
  assert.equal(typeof example.title, 'string');
  for (const serverSet of ['id', 'ownerId', 'createdAt', 'updatedAt']) {
    assert.ok(!(serverSet in example), `${serverSet} is left out of the example`);
  }

  // A deprecated operation (the older clients' form of the task routes) says so.
  const deprecated = page.locator('li[data-operation="GET /api/{user_id}/tasks"]');
  assert.match(await deprecated.textContent(), /deprecated/);

  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await closePage(page);
});

test('the filter narrows the list by path or summary, and says when nothing matches', async () => {
  const page = await docsPage();
  const all = await visibleOperations(page);
  const filter = page.getByRole('searchbox', { name: 'Filter routes' });

  await filter.fill('tasks/{id}');
  const byPath = await visibleOperations(page);
  assert.ok(byPath.length > 0 && byPath.length < all.length, `${byPath.length} of ${all.length}`);
  assert.ok(byPath.every((operation) => operation.includes('tasks/{id}')), byPath.join(', '));
  assert.ok(byPath.includes('GET /api/v1/tasks/{id}'));
  assert.match(await page.locator('#docs-count').textContent(), new RegExp(`^${byPath.length} of ${all.length} `));

  const summary = described.paths['/api/v1/tasks'].post.summary;
  assert.ok(summary, 'the operation has a summary to find it by');
  await filter.fill(summary.toUpperCase());
  assert.ok((await visibleOperations(page)).includes('POST /api/v1/tasks'), `"${summary}" finds the operation`);

  await filter.fill('no route is called this');
  assert.deepEqual(await visibleOperations(page), []);
  assert.ok(await page.getByText('No route matches the filter.').isVisible());

  await filter.fill('');
  assert.deepEqual(await visibleOperations(page), all);
  await closePage(page);
});

test('"Try it" on GET /api/auth/ok shows 200 and its body', async () => {
  const page = await docsPage();

  const item = await open(page, OK);
  const answer = await send(item);

  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, { ok: true });
  assert.match(await item.locator('.docs-result-headers').textContent(), /content-type: application\/json/);
  await closePage(page);
});

test('"Try it" sends the browser’s cookie: 401 signed out; signed up, a task is created and listed', async () => {
  const page = await docsPage();
  const title = `Written from the docs ${Date.now()}`;

  const list = await open(page, 'GET /api/v1/tasks');
  const signedOut = await send(list);
  assert.equal(signedOut.status, 401);
  assert.equal(signedOut.body.code, 'UNAUTHORIZED');

  const user = { name: 'Grace Hopper', email: uniqueEmail('docs'), password: PASSWORD };
  const signUp = await open(page, SIGN_UP);
  await writeBody(signUp, () => user);
  const answer = await send(signUp);
  assert.equal(answer.status, 200, 'sign-up succeeds');

  const create = await open(page, 'POST /api/v1/tasks');
  await writeBody(create, (example) => ({ ...example, title }));
  const created = await send(create);
  assert.equal(created.status, 201);
  assert.equal(created.body.title, title);
  assert.match(await create.locator('.docs-result-headers').textContent(), /^location: \/api\/v1\/tasks\/\S+$/m);

  const listed = await send(list);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.tasks.map((task) => task.title), [title]);

  const one = await open(page, 'GET /api/v1/tasks/{id}');
  await one.getByRole('form').locator('input[name="path:id"]').fill(created.body.id);
  const read = await send(one);
  assert.equal(read.status, 200);
  assert.equal(read.body.id, created.body.id);
  await closePage(page);
});

test('an opened operation fits a phone without scrolling sideways', async () => {
  const page = await docsPage();
  await page.setViewportSize({ width: 390, height: 844 });

  const item = await open(page, 'PATCH /api/v1/tasks/{id}');
  await item.getByRole('form').locator('input[name="path:id"]').waitFor();
  const overflow = await page.evaluate(() => {
    const { scrollWidth, clientWidth } = document.documentElement;
    return scrollWidth - clientWidth;
  });

  assert.equal(overflow, 0, 'no horizontal scrolling');
  await mkdir(path.dirname(PHONE_SCREENSHOT), { recursive: true });
  await page.screenshot({ path: PHONE_SCREENSHOT, fullPage: true });
  await closePage(page);
});

test('a bearer token typed into the page is sent as Authorization by every "Try it"', async () => {
  const page = await docsPage();

  await page.getByLabel('Bearer token').fill('not-a-session-token');
  const list = await open(page, 'GET /api/v1/tasks');
  const requested = page.waitForRequest((request) => request.url().startsWith(`${ORIGIN}/api/v1/tasks`));
  const answer = await send(list);

  assert.equal((await requested).headers().authorization, 'Bearer not-a-session-token');
  assert.equal(answer.status, 401);
  await closePage(page);
});
