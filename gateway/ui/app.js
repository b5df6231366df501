// Warden's web UI: sign-up, sign-in (with a password or a configured provider), password reset, a task dashboard,
// an account page listing the ways to sign in, an admin page for administrators and, in development, the mail
// outbox; all speaking the gateway's REST routes with the session cookie like any other client.
// The cookie is HttpOnly, so nothing is kept in the page: whether someone is signed in is asked of
// /api/auth/get-session. Text from the server is only ever set as textContent, links included.

const PAGE_SIZE = 20;
const USERS_PAGE_SIZE = 10;
/** The `completed` query parameter for each filter. */
const FILTERS = { all: null, open: 'false', done: 'true' };
const EMPTY_TEXT = {
  all: 'No tasks yet. Add your first one above.',
  open: 'Nothing open. Nice work!',
  done: 'No finished tasks yet.',
};
const SESSION_ENDED = 'Your session has ended. Please sign in again.';
const INVALID_RESET_LINK = 'This reset link is invalid or has expired. Ask for a new one below.';
const OUTBOX_GONE = 'The mail outbox is only there in development, for a browser on the server’s own machine.';
/** The forms of signing in and out: which section, its page title. */
const AUTH_VIEWS = {
  'sign-in': 'Sign in',
  'sign-up': 'Create account',
  forgot: 'Reset password',
  reset: 'New password',
};
const VIEWS = ['loading', ...Object.keys(AUTH_VIEWS), 'dashboard', 'accounts', 'admin', 'outbox'];
/** Where a provider sends the browser back to: the dashboard, or the account page after linking. */
const HOME_URL = '/';
const ACCOUNTS_URL = '/?view=accounts';
/**
 * Better Auth's `?error=` codes of a sign-in or link that came back from a provider, in words. Any other code gets
 * SOCIAL_ERROR: the code itself is never shown, since anyone can put one in a link.
 */
const SOCIAL_ERRORS = {
  access_denied: 'The sign-in was cancelled at the provider. Nothing was changed.',
  account_not_linked: 'An account with this email address already exists, and that provider is not linked to it. '
    + 'Sign in with your password, then link the provider on your account page.',
  signup_disabled: 'New accounts cannot be created with that provider. Sign in with an account you already have.',
  banned: 'You have been banned from this application. Please contact support if you believe this is an error.',
  BANNED_USER: 'You have been banned from this application. Please contact support if you believe this is an error.',
  state_mismatch: 'That sign-in expired or was started in another browser. Please try again.',
  state_not_found: 'That sign-in expired or was started in another browser. Please try again.',
  email_not_found: 'The provider did not share an email address, which is needed to sign in.',
  unable_to_create_user: 'Your account could not be created. Please try again.',
  unable_to_link_account: 'That provider account could not be linked. The provider must confirm its email address, '
    + 'and you must still be signed in here.',
  email_does_not_match: 'That provider account has a different email address from yours, so it was not linked.',
  account_already_linked_to_different_user: 'That provider account is already linked to another user.',
};
const SOCIAL_ERROR = 'Signing in with that provider did not work. Please try again, or sign in another way.';
/** Refusals of unlink-account, in words. */
const UNLINK_ERRORS = {
  FAILED_TO_UNLINK_LAST_ACCOUNT: 'This is your only way to sign in, so it cannot be unlinked. Link another one first.',
  SESSION_NOT_FRESH: 'For your safety, sign out and in again before unlinking a sign-in method.',
};

const state = {
  /** The signed-in user as the server last described them, or null. */
  user: null,
  /** The social providers offered, `{ id, name }`, as GET /api/warden/providers lists them. */
  providers: [],
  /** Whether GET /api/dev/outbox answers (development, on this machine). */
  outbox: false,
  /** The token of the reset link the page was opened with, taken off the address bar. */
  resetToken: '',
  filter: 'all',
  nextPageToken: '',
  /** Task JSON by id, as last read from the server. */
  tasks: new Map(),
  /** Incremented on every list load, so a slow, outdated answer is dropped. */
  listLoads: 0,
  users: {
    search: '',
    sort: 'createdAt:desc',
    offset: 0,
    total: 0,
    /** User JSON by id, as last read from the server. */
    byId: new Map(),
    loads: 0,
  },
  outboxLoads: 0,
  accountLoads: 0,
};

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// ---- talking to the server ----

/** Drops validation path prefixes (`[body.email] Invalid email address`) and starts with a capital. */
function readable(message) {
  const words = message.replace(/\[[^\]]*\]\s*/g, '').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function errorFrom(response, data) {
  const { status } = response;
  const seconds = Number(response.headers.get('X-Retry-After'));
  if (status === 429 && seconds > 0) {
    return new ApiError(status, '', `Too many attempts. Please try again in ${seconds} second${seconds === 1 ? '' : 's'}.`);
  }
  const message = data && typeof data.message === 'string' && data.message
    ? readable(data.message)
    : `The server answered ${status}. Please try again.`;
  return new ApiError(status, data?.code ?? '', message);
}

/** One JSON request with the session cookie; resolves to the parsed body, or throws an ApiError. */
async function api(method, path, { body, etag } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (etag) headers['If-Match'] = `"${etag}"`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Could not reach the server. Check your connection and try again.');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw errorFrom(response, data);
  return data;
}

const taskPath = (id) => `/api/v1/tasks/${encodeURIComponent(id)}`;

/** Whether one of the user's comma-separated roles is `admin`. The server decides for itself on every call. */
function isAdmin(user) {
  return String(user?.role ?? '').split(',').some((role) => role.trim() === 'admin');
}

// ---- small view helpers ----

function setText(element, text) {
  element.textContent = text;
}

function announce(text) {
  setText($('status'), text);
}

function alertOf(container) {
  return container.querySelector(':scope > [role="alert"]');
}

/**
 * Runs `action` for a form or group of controls once at a time, showing its failure in the group's own alert
 * unless `onError` handles it (returns true).
 */
async function working(group, action, onError = () => false) {
  if (group.getAttribute('aria-busy') === 'true') return;
  const alert = alertOf(group);
  setText(alert, '');
  group.setAttribute('aria-busy', 'true');
  try {
    await action();
  } catch (error) {
    if (!onError(error)) setText(alert, error.message);
  } finally {
    group.removeAttribute('aria-busy');
  }
}

function submitting(form, action, onError) {
  return working(form, () => action(new FormData(form)), onError);
}

function showOnly(id) {
  for (const view of VIEWS) $(view).hidden = view !== id;
  document.body.dataset.view = id;
  updateChrome(id);
}

function dateText(iso, withTime = false) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return '';
  return withTime ? date.toLocaleString() : date.toLocaleDateString();
}

/** The top bar for the view shown: who is signed in, and links to the views they may open. */
function updateChrome(view) {
  const { user } = state;
  $('account').hidden = !user;
  setText($('account-name'), user ? user.name || user.email : '');
  $('nav').hidden = !user && !state.outbox;
  setText($('nav-home'), user ? 'Tasks' : 'Sign in');
  $('nav-accounts').hidden = !user;
  $('nav-admin').hidden = !isAdmin(user);
  $('nav-outbox').hidden = !state.outbox;
  const current = {
    dashboard: 'nav-home',
    'sign-in': 'nav-home',
    accounts: 'nav-accounts',
    admin: 'nav-admin',
    outbox: 'nav-outbox',
  }[view];
  for (const id of ['nav-home', 'nav-accounts', 'nav-admin', 'nav-outbox']) {
    if (id === current) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  }
}

// ---- which view: the address's #fragment ----

const routeName = () => location.hash.replace(/^#\/?/, '');

/** Shows the view the address names, as far as the signed-in user (if any) may see it. */
async function route() {
  const view = routeName();
  if (view === 'outbox' && state.outbox) await showOutbox();
  else if (!state.user) showAuth('sign-in');
  else if (view === 'accounts') await showAccounts();
  else if (view === 'admin' && isAdmin(state.user)) await showAdmin();
  else await showDashboard();
}

/** Opens `#view` (or the start page for ''), as a new history entry when the address changes. */
function goTo(view) {
  const hash = view ? `#${view}` : '';
  if (location.hash !== hash) history.pushState(null, '', hash || location.pathname);
  return route();
}

function onNavClick(event) {
  const link = event.target.closest('a[href^="#"]');
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  goTo(link.getAttribute('href').slice(1));
}

// ---- signing in and out, and resetting a password ----

function showAuth(mode, message = '', notice = '') {
  showOnly(mode);
  setText($('account-error'), '');
  document.title = `${AUTH_VIEWS[mode]} · Warden`;
  setText(alertOf($(`${mode}-form`)), message);
  setText($('sign-in-notice'), mode === 'sign-in' ? notice : '');
  for (const id of ['sign-in-social', 'sign-up-social']) setText(alertOf($(id)), '');
  if (mode === 'forgot') $('forgot-sent').replaceChildren();
  $(`${mode}-heading`).focus();
}

async function signedIn(user) {
  state.user = user;
  await route();
}

async function signIn(data) {
  const { user } = await api('POST', '/api/auth/sign-in/email', {
    body: { email: data.get('email'), password: data.get('password') },
  });
  $('sign-in-form').reset();
  await signedIn(user);
}

async function signUp(data) {
  const { user } = await api('POST', '/api/auth/sign-up/email', {
    body: { name: data.get('name'), email: data.get('email'), password: data.get('password') },
  });
  $('sign-up-form').reset();
  await signedIn(user);
}

function signedOut(message = '', notice = '') {
  state.user = null;
  clearDashboard();
  clearAccounts();
  clearUsers();
  showAuth('sign-in', message, notice);
}

async function signOut() {
  setText($('account-error'), '');
  try {
    await api('POST', '/api/auth/sign-out', { body: {} });
  } catch (error) {
    setText($('account-error'), error.message);
    return;
  }
  if (location.hash) history.pushState(null, '', location.pathname);
  signedOut();
  announce('Signed out.');
}

/** A call answered 401: the session is gone, so back to the sign-in form. Returns whether it was handled. */
function sessionEnded(error) {
  if (error.status !== 401) return false;
  signedOut(SESSION_ENDED);
  return true;
}

async function requestReset(data) {
  const email = String(data.get('email'));
  await api('POST', '/api/auth/request-password-reset', { body: { email, redirectTo: '/' } });
  $('forgot-form').reset();
  const sent = document.createElement('p');
  sent.className = 'notice';
  sent.append(`If an account uses ${email}, a link to choose a new password is on its way. It works once, for one hour.`);
  if (state.outbox) {
    const link = document.createElement('a');
    link.href = '#outbox';
    link.textContent = 'mail outbox';
    sent.append(' In development, read it in the ', link, '.');
  }
  $('forgot-sent').replaceChildren(sent);
}

async function resetPassword(data) {
  try {
    await api('POST', '/api/auth/reset-password', {
      body: { newPassword: data.get('password'), token: state.resetToken },
    });
  } catch (error) {
    if (error.code === 'INVALID_TOKEN') {
      state.resetToken = '';
      showAuth('forgot', INVALID_RESET_LINK);
      return;
    }
    throw error;
  }
  state.resetToken = '';
  $('reset-form').reset();
  // A reset ends the account's sessions; whoever else this browser was signed in as stays so.
  const session = await api('GET', '/api/auth/get-session').catch(() => null);
  if (session?.user) {
    state.user = session.user;
    await route();
    announce('Your password has been changed.');
  } else {
    signedOut('', 'Your password has been changed. Sign in with your new password.');
  }
}

// ---- other providers: "Continue with …" and the account page ----

/** Sends the browser to a provider's authorization page, which must be an http(s) address. */
function leaveFor(url) {
  const href = safeHref(String(url ?? ''));
  if (!href) throw new ApiError(0, '', 'The server answered with an address this page cannot open.');
  location.assign(href);
}

const providerName = (id) => state.providers.find((provider) => provider.id === id)?.name ?? id;

/** One button per provider, `label(name)` its text and `data-provider` its id. */
function providerButtons(container, providers, label) {
  container.replaceChildren(...providers.map(({ id, name }) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button secondary wide social-button';
    button.dataset.provider = id;
    button.textContent = label(name);
    return button;
  }));
}

/** The sign-in and sign-up pages' buttons, for the providers the server offers (none: no buttons at all). */
function showProviderButtons() {
  for (const id of ['sign-in-social', 'sign-up-social']) {
    const group = $(id);
    providerButtons(group.querySelector('.social-buttons'), state.providers, (name) => `Continue with ${name}`);
    group.hidden = state.providers.length === 0;
  }
}

async function loadProviders() {
  try {
    const { providers } = await api('GET', '/api/warden/providers');
    state.providers = Array.isArray(providers) ? providers : [];
  } catch {
    // Without the list the password forms still work; the buttons just do not appear.
    state.providers = [];
  }
  showProviderButtons();
}

/** Starts a sign-in with a provider; a failure there comes back to this page as `?error=`. */
async function continueWith(provider, signUp) {
  const body = { provider, callbackURL: HOME_URL, errorCallbackURL: HOME_URL };
  if (signUp) body.requestSignUp = true;
  const { url } = await api('POST', '/api/auth/sign-in/social', { body });
  leaveFor(url);
}

function onProviderClick(event, signUp) {
  const button = event.target.closest('button[data-provider]');
  if (button) working(event.currentTarget, () => continueWith(button.dataset.provider, signUp));
}

/** A `?error=` code from a provider's round trip, in words. */
function socialErrorText(code) {
  return Object.hasOwn(SOCIAL_ERRORS, code) ? SOCIAL_ERRORS[code] : SOCIAL_ERROR;
}

async function showAccounts(message = '') {
  showOnly('accounts');
  document.title = 'Account · Warden';
  $('accounts-heading').focus();
  await loadAccounts();
  setText($('accounts-error'), message);
}

function clearAccounts() {
  state.accountLoads += 1;
  $('linked-list').replaceChildren();
  $('link-group').hidden = true;
  setText($('accounts-error'), '');
}

async function loadAccounts() {
  const load = ++state.accountLoads;
  const list = $('linked-list');
  setText($('accounts-error'), '');
  list.setAttribute('aria-busy', 'true');
  try {
    const accounts = await api('GET', '/api/auth/list-accounts');
    if (load !== state.accountLoads) return;
    const shown = Array.isArray(accounts) ? accounts : [];
    list.replaceChildren(...shown.map(linkedItem));
    const linked = new Set(shown.map((account) => account.providerId));
    const linkable = state.providers.filter((provider) => !linked.has(provider.id));
    providerButtons($('link-buttons'), linkable, (name) => `Link ${name}`);
    $('link-group').hidden = linkable.length === 0;
  } catch (error) {
    if (load === state.accountLoads && !sessionEnded(error)) setText($('accounts-error'), error.message);
  } finally {
    if (load === state.accountLoads) list.removeAttribute('aria-busy');
  }
}

function linkedItem(account) {
  const item = $('linked-template').content.firstElementChild.cloneNode(true);
  item.dataset.id = String(account.id ?? '');
  const name = account.providerId === 'credential' ? 'Email and password' : providerName(String(account.providerId));
  item.dataset.provider = String(account.providerId ?? '');
  setText(item.querySelector('.linked-provider'), name);
  const since = dateText(account.createdAt);
  setText(item.querySelector('.linked-since'), since ? `Since ${since}` : '');
  item.querySelector('.unlink').setAttribute('aria-label', `Unlink ${name}`);
  return item;
}

/** Links a provider to the signed-in user; the provider sends the browser back to this page. */
async function linkProvider(provider) {
  const { url } = await api('POST', '/api/auth/link-social', {
    body: { provider, callbackURL: ACCOUNTS_URL, errorCallbackURL: ACCOUNTS_URL },
  });
  leaveFor(url);
}

async function unlink(item) {
  const name = item.querySelector('.linked-provider').textContent;
  try {
    await api('POST', '/api/auth/unlink-account', { body: { accountId: item.dataset.id } });
  } catch (error) {
    if (Object.hasOwn(UNLINK_ERRORS, error.code)) throw new ApiError(error.status, error.code, UNLINK_ERRORS[error.code]);
    throw error;
  }
  await loadAccounts();
  $('accounts-heading').focus();
  announce(`Unlinked ${name}.`);
}

function onAccountsClick(event) {
  const button = event.target.closest('button');
  if (!button) return;
  if (button.matches('.unlink')) working(button.closest('.linked'), () => unlink(button.closest('.linked')), sessionEnded);
  else if (button.dataset.provider) working($('link-group'), () => linkProvider(button.dataset.provider), sessionEnded);
}

// ---- the dashboard ----

async function showDashboard() {
  showOnly('dashboard');
  document.title = 'Tasks · Warden';
  $('dashboard-heading').focus();
  await loadTasks();
}

function clearDashboard() {
  state.tasks.clear();
  state.nextPageToken = '';
  state.listLoads += 1;
  $('task-list').replaceChildren();
  setText($('list-error'), '');
  $('load-more').hidden = true;
  $('empty').hidden = true;
}

function matchesFilter(task) {
  const wanted = FILTERS[state.filter];
  return wanted === null || String(task.completed) === wanted;
}

function updateEmpty() {
  const empty = $('task-list').children.length === 0;
  $('empty').hidden = !empty;
  setText($('empty'), EMPTY_TEXT[state.filter]);
}

/** Loads the first page for the current filter, or with `more` the next page after those shown. */
async function loadTasks({ more = false } = {}) {
  const load = ++state.listLoads;
  const query = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
  const completed = FILTERS[state.filter];
  if (completed !== null) query.set('completed', completed);
  if (more) query.set('pageToken', state.nextPageToken);
  setText($('list-error'), '');
  $('task-list').setAttribute('aria-busy', 'true');
  try {
    const page = await api('GET', `/api/v1/tasks?${query}`);
    if (load !== state.listLoads) return;
    if (!more) {
      state.tasks.clear();
      $('task-list').replaceChildren();
    }
    $('task-list').append(...page.tasks.map(taskItem));
    state.nextPageToken = page.nextPageToken;
    $('load-more').hidden = !page.nextPageToken;
    updateEmpty();
  } catch (error) {
    if (load === state.listLoads && !sessionEnded(error)) setText($('list-error'), error.message);
  } finally {
    if (load === state.listLoads) $('task-list').removeAttribute('aria-busy');
  }
}

async function loadMore() {
  const count = $('task-list').children.length;
  await loadTasks({ more: true });
  // Keyboard users continue where the new tasks begin.
  const first = $('task-list').children[count];
  if (first) first.querySelector('.task-done').focus();
  else if ($('load-more').hidden) $('dashboard-heading').focus();
}

async function createTask(data) {
  const task = await api('POST', '/api/v1/tasks', {
    body: { title: data.get('title'), description: data.get('description') },
  });
  const form = $('new-task-form');
  form.reset();
  form.elements.title.focus();
  if (matchesFilter(task)) $('task-list').prepend(taskItem(task));
  updateEmpty();
  announce(matchesFilter(task) ? `Added “${task.title}”.` : `Added “${task.title}”; it is not shown under this filter.`);
}

// ---- one task ----

function taskItem(task) {
  const item = $('task-template').content.firstElementChild.cloneNode(true);
  item.dataset.id = task.id;
  fillTask(item, task);
  return item;
}

function fillTask(item, task) {
  state.tasks.set(task.id, task);
  const checkbox = item.querySelector('.task-done');
  checkbox.id = `done-${task.id}`;
  checkbox.checked = task.completed;
  const title = item.querySelector('.task-title');
  title.htmlFor = checkbox.id;
  setText(title, task.title);
  const description = item.querySelector('.task-description');
  setText(description, task.description);
  description.hidden = !task.description;
  item.classList.toggle('done', task.completed);
  item.querySelector('.edit').setAttribute('aria-label', `Edit ${task.title}`);
  item.querySelector('.delete').setAttribute('aria-label', `Delete ${task.title}`);
}

const taskOf = (item) => state.tasks.get(item.dataset.id);

/** Takes a task off the list, moving focus to a neighbour so keyboard users are not dropped at the page top. */
function removeItem(item) {
  const neighbour = item.nextElementSibling ?? item.previousElementSibling;
  const hadFocus = item.contains(document.activeElement);
  state.tasks.delete(item.dataset.id);
  item.remove();
  updateEmpty();
  if (!hadFocus) return;
  if (neighbour) neighbour.querySelector('.task-done').focus();
  else $('new-task-form').elements.title.focus();
}

/** Shows the new version, or drops it from the list when it no longer matches the filter. */
function showUpdated(item, task) {
  if (matchesFilter(task)) fillTask(item, task);
  else removeItem(item);
}

/** A failed write: a changed task is read again and shown as it now is, with the server's words. */
async function writeFailed(item, error, alert) {
  if (sessionEnded(error)) return;
  if (error.status === 404) {
    removeItem(item);
    announce(error.message);
    return;
  }
  if (error.status === 412) {
    try {
      fillTask(item, await api('GET', taskPath(item.dataset.id)));
    } catch {
      // The message below still says what happened.
    }
  }
  setText(alert, error.message);
}

async function toggleTask(item, checkbox) {
  const task = taskOf(item);
  const alert = alertOf(item);
  setText(alert, '');
  item.setAttribute('aria-busy', 'true');
  try {
    const updated = await api('PATCH', taskPath(task.id), { body: { completed: checkbox.checked }, etag: task.etag });
    showUpdated(item, updated);
    announce(`“${updated.title}” marked ${updated.completed ? 'done' : 'open'}.`);
  } catch (error) {
    checkbox.checked = task.completed;
    await writeFailed(item, error, alert);
  } finally {
    item.removeAttribute('aria-busy');
  }
}

async function deleteTask(item) {
  const task = taskOf(item);
  const alert = alertOf(item);
  setText(alert, '');
  try {
    await api('DELETE', taskPath(task.id));
    removeItem(item);
    announce(`Deleted “${task.title}”.`);
  } catch (error) {
    await writeFailed(item, error, alert);
  }
}

function openEditor(item) {
  const task = taskOf(item);
  const form = item.querySelector('.task-edit');
  form.elements.title.value = task.title;
  form.elements.description.value = task.description;
  setText(alertOf(form), '');
  setText(alertOf(item), '');
  item.querySelector('.task-view').hidden = true;
  form.hidden = false;
  form.elements.title.focus();
}

function closeEditor(item) {
  item.querySelector('.task-edit').hidden = true;
  item.querySelector('.task-view').hidden = false;
  item.querySelector('.edit').focus();
}

async function saveEdit(item, data) {
  const task = taskOf(item);
  const updated = await api('PATCH', taskPath(task.id), {
    body: { title: data.get('title'), description: data.get('description') },
    etag: task.etag,
  });
  fillTask(item, updated);
  closeEditor(item);
  announce(`Saved “${updated.title}”.`);
}

// ---- the admin page: the user table ----

async function showAdmin() {
  showOnly('admin');
  document.title = 'Users · Admin · Warden';
  $('admin-heading').focus();
  await loadUsers();
}

const userRows = () => [...$('user-table').tBodies];

function removeUserRows() {
  state.users.byId.clear();
  for (const row of userRows()) row.remove();
}

/** Forgets the users shown, and any answer still on its way. */
function clearUsers() {
  state.users.loads += 1;
  removeUserRows();
}

/** Loads the page of users at the current search, sort and offset. */
async function loadUsers() {
  const users = state.users;
  const load = ++users.loads;
  const [sortBy, sortDirection] = users.sort.split(':');
  const query = new URLSearchParams({ limit: String(USERS_PAGE_SIZE), sortBy, sortDirection });
  if (users.offset > 0) query.set('offset', String(users.offset));
  if (users.search) {
    query.set('searchValue', users.search);
    query.set('searchField', 'email');
    query.set('searchOperator', 'contains');
  }
  const alert = alertOf($('user-search-form'));
  setText(alert, '');
  $('user-table').setAttribute('aria-busy', 'true');
  try {
    const page = await api('GET', `/api/auth/admin/list-users?${query}`);
    if (load !== users.loads) return;
    if (page.users.length === 0 && users.offset > 0 && page.total > 0) {
      // The page emptied (users were removed meanwhile): show the last one that has users.
      users.offset = Math.floor((page.total - 1) / USERS_PAGE_SIZE) * USERS_PAGE_SIZE;
      await loadUsers();
      return;
    }
    removeUserRows();
    users.total = page.total;
    $('user-table').append(...page.users.map(userRow));
    updatePager();
  } catch (error) {
    if (load === users.loads && !sessionEnded(error)) setText(alert, error.message);
  } finally {
    if (load === users.loads) $('user-table').removeAttribute('aria-busy');
  }
}

function updatePager() {
  const { offset, total } = state.users;
  const shown = userRows().length;
  $('users-empty').hidden = shown > 0;
  $('user-table').hidden = shown === 0;
  setText(
    $('user-range'),
    total === 0 ? 'No users' : `Users ${offset + 1}–${offset + shown} of ${total}`,
  );
  $('users-previous').setAttribute('aria-disabled', String(offset === 0));
  $('users-next').setAttribute('aria-disabled', String(offset + shown >= total));
}

/** Previous or next page; the buttons stay focusable at either end, so keyboard focus is never dropped. */
function turnPage(step) {
  const button = step < 0 ? $('users-previous') : $('users-next');
  if (button.getAttribute('aria-disabled') === 'true') return;
  state.users.offset = Math.max(0, state.users.offset + step * USERS_PAGE_SIZE);
  loadUsers();
}

/** Shows the first page for the search and sort the form holds; failures show in the form's alert. */
function searchUsers(data) {
  state.users.search = String(data.get('search') ?? '').trim();
  state.users.sort = String(data.get('sort'));
  state.users.offset = 0;
  return loadUsers();
}

function userRow(user) {
  const row = $('user-template').content.firstElementChild.cloneNode(true);
  row.dataset.id = user.id;
  const panel = row.querySelector('.user-panel-row');
  panel.id = `user-panel-${user.id}`;
  row.querySelector('.manage').setAttribute('aria-controls', panel.id);
  fillUser(row, user);
  return row;
}

function banText(user) {
  const until = user.banExpires ? ` until ${dateText(user.banExpires, true)}` : '';
  return `Banned${until}. Reason: ${user.banReason || 'No reason'}.`;
}

function fillUser(row, user) {
  state.users.byId.set(user.id, user);
  const you = user.id === state.user?.id;
  setText(row.querySelector('.user-name'), `${user.name || '—'}${you ? ' (you)' : ''}`);
  setText(row.querySelector('.user-email'), user.email);
  setText(row.querySelector('.user-role'), user.role || 'user');
  const status = row.querySelector('.user-status');
  setText(status, user.banned ? `Banned${user.banExpires ? ` until ${dateText(user.banExpires)}` : ''}` : 'Active');
  status.classList.toggle('banned', Boolean(user.banned));
  const created = row.querySelector('.user-created');
  setText(created, dateText(user.createdAt));
  row.querySelector('.manage').setAttribute('aria-label', `Manage ${user.email}`);
  row.querySelector('.user-panel').setAttribute('aria-label', user.email);
  row.querySelector('.role-form').elements.role.value = isAdmin(user) ? 'admin' : 'user';
  row.querySelector('.ban-form').hidden = Boolean(user.banned);
  row.querySelector('.unban-group').hidden = !user.banned;
  setText(row.querySelector('.ban-details'), user.banned ? banText(user) : '');
  setText(
    row.querySelector('.confirm-text'),
    `Remove ${user.email}? Their account and sessions are deleted. This cannot be undone.`,
  );
}

const userOf = (row) => state.users.byId.get(row.dataset.id);

function setSessionCount(row, count) {
  const text = count === 0 ? 'No active sessions.' : `${count} active session${count === 1 ? '' : 's'}.`;
  setText(row.querySelector('.session-count'), text);
}

async function togglePanel(row) {
  const button = row.querySelector('.manage');
  const open = button.getAttribute('aria-expanded') !== 'true';
  button.setAttribute('aria-expanded', String(open));
  row.querySelector('.user-panel-row').hidden = !open;
  row.classList.toggle('open', open);
  if (!open) return;
  const group = row.querySelector('.sessions-group');
  setText(row.querySelector('.session-count'), 'Counting sessions…');
  await working(group, async () => {
    const { sessions } = await api('POST', '/api/auth/admin/list-user-sessions', { body: { userId: row.dataset.id } });
    setSessionCount(row, sessions.length);
  }, (error) => {
    setText(row.querySelector('.session-count'), '');
    return sessionEnded(error);
  });
}

/** The signed-in admin changed their own role: the page follows, and leaves when they are no longer an admin. */
function ownRoleChanged(user) {
  state.user = { ...state.user, role: user.role };
  if (isAdmin(state.user)) {
    updateChrome('admin');
    return;
  }
  goTo('');
  announce('You are no longer an administrator.');
}

async function setRole(row, data) {
  const { user } = await api('POST', '/api/auth/admin/set-role', {
    body: { userId: row.dataset.id, role: data.get('role') },
  });
  fillUser(row, user);
  announce(`${user.email} now has the role ${user.role}.`);
  if (user.id === state.user?.id) ownRoleChanged(user);
}

async function banUser(row, data) {
  const seconds = Number(data.get('duration'));
  const reason = String(data.get('reason') ?? '').trim();
  const { user } = await api('POST', '/api/auth/admin/ban-user', {
    body: {
      userId: row.dataset.id,
      banReason: reason || undefined,
      banExpiresIn: seconds > 0 ? seconds : undefined,
    },
  });
  row.querySelector('.ban-form').reset();
  fillUser(row, user);
  setSessionCount(row, 0);
  row.querySelector('.unban').focus();
  announce(`Banned ${user.email}; their sessions have ended.`);
}

async function unbanUser(row) {
  const { user } = await api('POST', '/api/auth/admin/unban-user', { body: { userId: row.dataset.id } });
  fillUser(row, user);
  row.querySelector('.ban-form').elements.reason.focus();
  announce(`Unbanned ${user.email}.`);
}

async function revokeSessions(row) {
  await api('POST', '/api/auth/admin/revoke-user-sessions', { body: { userId: row.dataset.id } });
  setSessionCount(row, 0);
  announce(`Ended every session of ${userOf(row).email}.`);
}

function askToRemove(row, asking) {
  row.querySelector('.confirm').hidden = !asking;
  const remove = row.querySelector('.remove');
  remove.hidden = asking;
  if (asking) row.querySelector('.cancel-remove').focus();
  else remove.focus();
}

async function removeUser(row) {
  const { email } = userOf(row);
  await api('POST', '/api/auth/admin/remove-user', { body: { userId: row.dataset.id } });
  const next = row.nextElementSibling ?? row.previousElementSibling;
  state.users.byId.delete(row.dataset.id);
  row.remove();
  state.users.total = Math.max(0, state.users.total - 1);
  updatePager();
  if (next) next.querySelector('.manage').focus();
  else $('user-search-form').elements.search.focus();
  announce(`Removed ${email}.`);
  if (!next && state.users.total > 0) loadUsers();
}

async function createUser(data) {
  const { user } = await api('POST', '/api/auth/admin/create-user', {
    body: {
      name: data.get('name'),
      email: data.get('email'),
      password: data.get('password'),
      role: data.get('role'),
    },
  });
  const form = $('create-user-form');
  form.reset();
  form.elements.name.focus();
  announce(`Created ${user.email}.`);
  // Not awaited: the form is free for the next user while the list reloads.
  loadUsers();
}

function onUserClick(event) {
  const row = event.target.closest('tbody.user');
  const button = event.target.closest('button');
  if (!row || !button) return;
  const group = button.closest('.panel-group');
  const onError = sessionEnded;
  if (button.matches('.manage')) togglePanel(row);
  else if (button.matches('.unban')) working(group, () => unbanUser(row), onError);
  else if (button.matches('.revoke')) working(group, () => revokeSessions(row), onError);
  else if (button.matches('.remove')) askToRemove(row, true);
  else if (button.matches('.cancel-remove')) askToRemove(row, false);
  else if (button.matches('.confirm-remove')) working(group, () => removeUser(row), onError);
}

function onUserSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const row = form.closest('tbody.user');
  if (form.matches('.role-form')) submitting(form, (data) => setRole(row, data), sessionEnded);
  else if (form.matches('.ban-form')) submitting(form, (data) => banUser(row, data), sessionEnded);
}

function onUserKeydown(event) {
  if (event.key !== 'Escape') return;
  const row = event.target.closest('tbody.user');
  if (!row) return;
  if (!row.querySelector('.confirm').hidden) askToRemove(row, false);
  else if (row.querySelector('.manage').getAttribute('aria-expanded') === 'true') {
    togglePanel(row);
    row.querySelector('.manage').focus();
  }
}

// ---- the development mail outbox ----

/** Whether the outbox answers: only in development, and only to a browser on the server's machine. */
async function outboxAvailable() {
  try {
    const response = await fetch('/api/dev/outbox', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    return response.ok;
  } catch {
    return false;
  }
}

async function showOutbox() {
  showOnly('outbox');
  document.title = 'Mail outbox · Warden';
  $('outbox-heading').focus();
  await loadOutbox();
}

async function loadOutbox() {
  const load = ++state.outboxLoads;
  const list = $('mail-list');
  setText($('outbox-error'), '');
  list.setAttribute('aria-busy', 'true');
  try {
    const mails = await api('GET', '/api/dev/outbox');
    if (load !== state.outboxLoads) return;
    const shown = Array.isArray(mails) ? mails : [];
    list.replaceChildren(...shown.map(mailItem));
    $('outbox-empty').hidden = shown.length > 0;
  } catch (error) {
    if (load !== state.outboxLoads) return;
    if (error.status === 404) {
      state.outbox = false;
      updateChrome('outbox');
      list.replaceChildren();
      setText($('outbox-error'), OUTBOX_GONE);
    } else {
      setText($('outbox-error'), error.message);
    }
  } finally {
    if (load === state.outboxLoads) list.removeAttribute('aria-busy');
  }
}

const LINK_PATTERN = /https?:\/\/[^\s<>"']+/g;

/** `text` as an http(s) URL to link to, or null. */
function safeHref(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Appends `text` to `container` as text nodes, with each http(s) URL in it an <a> whose text is the URL. */
function appendLinked(container, text) {
  let at = 0;
  for (const match of text.matchAll(LINK_PATTERN)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const href = safeHref(url);
    container.append(text.slice(at, match.index));
    if (href) {
      const link = document.createElement('a');
      link.href = href;
      link.textContent = url;
      container.append(link);
    } else {
      container.append(url);
    }
    at = match.index + url.length;
  }
  container.append(text.slice(at));
}

function mailItem(mail) {
  const item = $('mail-template').content.firstElementChild.cloneNode(true);
  setText(item.querySelector('.mail-subject'), String(mail.subject ?? ''));
  setText(item.querySelector('.mail-to'), String(mail.to ?? ''));
  const sentAt = String(mail.sentAt ?? mail.sent_at ?? '');
  const time = item.querySelector('.mail-time');
  time.dateTime = sentAt;
  setText(time, dateText(sentAt, true));
  appendLinked(item.querySelector('.mail-text'), String(mail.text ?? ''));
  return item;
}

// ---- wiring ----

function onTaskClick(event) {
  const item = event.target.closest('.task');
  if (!item) return;
  // One write per task at a time: a second toggle would carry an outdated etag.
  if (event.target.matches('.task-done') && item.getAttribute('aria-busy') === 'true') {
    event.preventDefault();
    return;
  }
  if (event.target.closest('.edit')) openEditor(item);
  else if (event.target.closest('.delete')) deleteTask(item);
  else if (event.target.closest('.cancel')) closeEditor(item);
}

function onTaskChange(event) {
  if (event.target.matches('.task-done')) toggleTask(event.target.closest('.task'), event.target);
}

function onTaskSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const item = form.closest('.task');
  submitting(form, (data) => saveEdit(item, data), (error) => {
    if (sessionEnded(error)) return true;
    if (error.status !== 412 && error.status !== 404) return false;
    writeFailed(item, error, alertOf(form));
    return true;
  });
}

function onTaskKeydown(event) {
  if (event.key !== 'Escape') return;
  const item = event.target.closest('.task');
  if (item && !item.querySelector('.task-edit').hidden) closeEditor(item);
}

function onFilterChange(event) {
  state.filter = event.target.value;
  loadTasks();
}

function handleSubmit(id, action, onError) {
  $(id).addEventListener('submit', (event) => {
    event.preventDefault();
    submitting(event.currentTarget, action, onError);
  });
}

function bindEvents() {
  handleSubmit('sign-in-form', signIn);
  handleSubmit('sign-up-form', signUp);
  handleSubmit('forgot-form', requestReset);
  handleSubmit('reset-form', resetPassword);
  handleSubmit('new-task-form', createTask, sessionEnded);
  // A new search or sort replaces one still loading (loadUsers drops the outdated answer), so no busy guard here.
  $('user-search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    searchUsers(new FormData(event.currentTarget));
  });
  handleSubmit('create-user-form', createUser, sessionEnded);
  $('show-sign-up').addEventListener('click', () => showAuth('sign-up'));
  $('show-sign-in').addEventListener('click', () => showAuth('sign-in'));
  $('show-forgot').addEventListener('click', () => showAuth('forgot'));
  $('forgot-to-sign-in').addEventListener('click', () => route());
  $('reset-to-sign-in').addEventListener('click', () => {
    state.resetToken = '';
    route();
  });
  $('sign-out').addEventListener('click', signOut);
  $('load-more').addEventListener('click', loadMore);
  $('filter').addEventListener('change', onFilterChange);
  const list = $('task-list');
  list.addEventListener('click', onTaskClick);
  list.addEventListener('change', onTaskChange);
  list.addEventListener('submit', onTaskSubmit);
  list.addEventListener('keydown', onTaskKeydown);
  $('user-search-form').elements.sort.addEventListener('change', () => $('user-search-form').requestSubmit());
  $('users-previous').addEventListener('click', () => turnPage(-1));
  $('users-next').addEventListener('click', () => turnPage(1));
  const users = $('user-table');
  users.addEventListener('click', onUserClick);
  users.addEventListener('submit', onUserSubmit);
  users.addEventListener('keydown', onUserKeydown);
  $('sign-in-social').addEventListener('click', (event) => onProviderClick(event, false));
  $('sign-up-social').addEventListener('click', (event) => onProviderClick(event, true));
  $('accounts').addEventListener('click', onAccountsClick);
  $('outbox-refresh').addEventListener('click', loadOutbox);
  $('nav').addEventListener('click', onNavClick);
  $('forgot-sent').addEventListener('click', onNavClick);
  window.addEventListener('hashchange', () => route());
}

/**
 * Takes what a link or a provider's redirect put in the address (a reset link's `?token=`, `?error=`, the view to
 * open) off it, so it stays out of history and bookmarks.
 */
function takeLinkParameters() {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const error = params.get('error');
  const view = params.get('view');
  if (token === null && error === null && view === null) return {};
  const hash = view === 'accounts' ? '#accounts' : location.hash;
  history.replaceState(null, '', location.pathname + hash);
  return { token, error, view };
}

async function start() {
  bindEvents();
  const link = takeLinkParameters();
  const [session, outbox] = await Promise.all([
    api('GET', '/api/auth/get-session').catch((error) => error),
    outboxAvailable(),
    loadProviders(),
  ]);
  state.outbox = outbox;
  if (session instanceof ApiError) {
    showAuth('sign-in', session.message);
    return;
  }
  state.user = session?.user ?? null;
  if (link.token) {
    state.resetToken = link.token;
    showAuth('reset');
  } else if (link.error === 'INVALID_TOKEN') {
    showAuth('forgot', INVALID_RESET_LINK);
  } else if (link.error && !state.user) {
    showAuth('sign-in', socialErrorText(link.error));
  } else if (link.error && routeName() === 'accounts') {
    await showAccounts(socialErrorText(link.error));
  } else {
    await route();
    if (link.error) setText($('account-error'), socialErrorText(link.error));
  }
}

start();
