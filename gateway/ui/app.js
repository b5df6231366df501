// Warden's web UI: sign-up, sign-in (with a password, a passkey or a configured provider, and a second factor when
// the user has one), password reset, a task dashboard, an account page (profile, email, password, passkeys,
// two-factor, the sessions, the ways to sign in and API keys), an admin page for administrators (users, and service
// accounts with their API keys) and, in development, the mail outbox; all speaking the gateway's REST routes with the
// session cookie like any other client.
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
  'two-factor': 'Two-factor',
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
/** Refusals of an email change's confirmation link, which comes back to the account page. */
const EMAIL_LINK_ERRORS = {
  INVALID_TOKEN: 'This confirmation link is invalid or has expired. Change your email address again for a new one.',
  TOKEN_EXPIRED: 'This confirmation link is invalid or has expired. Change your email address again for a new one.',
  USER_NOT_FOUND: 'This confirmation link is for an account that no longer exists.',
  UNAUTHORIZED: 'Open the confirmation link in the browser where you are signed in to that account.',
};
const SOCIAL_ERROR = 'Signing in with that provider did not work. Please try again, or sign in another way.';
/** Refusals of unlink-account, in words. */
const UNLINK_ERRORS = {
  FAILED_TO_UNLINK_LAST_ACCOUNT: 'This is your only way to sign in, so it cannot be unlinked. Link another one first.',
  SESSION_NOT_FRESH: 'For your safety, sign out and in again before unlinking a sign-in method.',
};
/** Refusals of the account page's changes, in words. */
const ACCOUNT_ERRORS = {
  INVALID_PASSWORD: 'That password is not right. Nothing was changed.',
  CREDENTIAL_ACCOUNT_NOT_FOUND: 'Your account has no password: you sign in with a provider.',
  SESSION_NOT_FRESH: 'For your safety, sign out and in again before making this change.',
  TOTP_ALREADY_ENABLED: 'Two-factor authentication is on already.',
  TWO_FACTOR_NOT_ENABLED: 'Two-factor authentication is not on.',
  INVALID_CODE: 'That code is not right. Enter the code the app shows now; if it keeps failing, check that the '
    + 'time on your phone is right.',
};
/**
 * Where the second step of a sign-in sends its code, and what it says, for each way of getting one: an
 * authenticator app (`totp`), a backup code, or a code sent by email (`otp`).
 */
const SECOND_FACTORS = {
  totp: {
    path: '/api/auth/two-factor/verify-totp',
    lead: 'Enter the 6-digit code your authenticator app shows for this account.',
    label: 'Code from the app',
    inputMode: 'numeric',
  },
  backup: {
    path: '/api/auth/two-factor/verify-backup-code',
    lead: 'Enter one of the backup codes you saved when you turned on two-factor authentication. Each works once.',
    label: 'Backup code',
    inputMode: 'text',
  },
  otp: {
    path: '/api/auth/two-factor/verify-otp',
    lead: 'Enter the code we sent to your email address.',
    label: 'Code from the email',
    inputMode: 'numeric',
  },
};
const SIGN_IN_AGAIN = 'Signing in took too long: the code is needed within 10 minutes of the password. Please sign '
  + 'in again.';
/** Refusals of the second step, in words; those that end the attempt send the user back to the sign-in form. */
const SECOND_FACTOR_ERRORS = {
  INVALID_CODE: 'That code is not right. Please try again.',
  INVALID_BACKUP_CODE: 'That backup code is not right, or it has been used already.',
  OTP_HAS_EXPIRED: 'That code has expired. Send a new one and try again.',
  TOTP_NOT_ENABLED: 'Your account has no authenticator app set up. Use a backup code instead.',
  BACKUP_CODES_NOT_ENABLED: 'Your account has no backup codes.',
  OTP_NOT_CONFIGURED: 'Codes by email are not available here. Use another way.',
  OTP_NOT_ENABLED: 'Codes by email are not available here. Use another way.',
  ACCOUNT_TEMPORARILY_LOCKED: 'There were too many wrong codes, so signing in to this account is locked for a '
    + 'while. Please try again later.',
};
const TOO_MANY_CODES = 'There were too many wrong codes. Please sign in again.';
const TOO_MANY_EMAIL_CODES = 'There were too many wrong codes. Send a new one and try again.';
/** Refusals of a sign-in with a passkey, in words. */
const PASSKEY_SIGN_IN_ERRORS = {
  PASSKEY_NOT_FOUND: 'That passkey is not registered here: it may have been deleted from your account. Sign in '
    + 'another way.',
  AUTHENTICATION_FAILED: 'That passkey could not sign you in. Your device must check that it is you, with your '
    + 'fingerprint, face, PIN or screen lock. Please try again.',
  CHALLENGE_NOT_FOUND: 'Signing in with a passkey took too long. Please try again.',
};
/** Refusals of adding, renaming or deleting a passkey on the account page, in words. */
const PASSKEY_ERRORS = {
  SESSION_NOT_FRESH: 'For your safety, sign out and in again before adding a passkey.',
  CHALLENGE_NOT_FOUND: 'Adding the passkey took too long. Please try again.',
  FAILED_TO_VERIFY_REGISTRATION: 'The passkey could not be added. Please try again.',
  YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY: 'That passkey was not made for this account. Please try again.',
  PASSKEY_NOT_FOUND: 'That passkey is not on your account any more.',
};
/** The browser's refusals of a passkey prompt (DOMException names), in words; any other gets PASSKEY_FAILED. */
const WEBAUTHN_ERRORS = {
  NotAllowedError: 'The passkey prompt was closed.',
  AbortError: 'The passkey prompt was closed.',
  InvalidStateError: 'This device has a passkey for your account already.',
  NotSupportedError: 'This device cannot make a passkey of a kind this site accepts.',
  SecurityError: 'Passkeys do not work at this address. Open the site at its usual address and try again.',
};
const PASSKEY_FAILED = 'Your browser could not use a passkey. Please try again.';
const KEY_EXPIRY_RANGE = 'Enter from 1 to 365 days, or leave it empty for a key that never expires.';
/** Refusals of making, listing or revoking API keys, on the account page and the admin page, in words. */
const API_KEY_ERRORS = {
  EXPIRES_IN_IS_TOO_SMALL: `A key must last at least a day. ${KEY_EXPIRY_RANGE}`,
  EXPIRES_IN_IS_TOO_LARGE: `A key can last at most 365 days. ${KEY_EXPIRY_RANGE}`,
  INVALID_NAME_LENGTH: 'A key’s name can be at most 32 characters.',
  KEY_NOT_FOUND: 'That key is not there any more: it may have been revoked already.',
  USER_NOT_FOUND: 'That account no longer exists.',
  SERVER_ONLY_PROPERTY: 'Only administrators can set a key’s permissions and limits.',
  FORBIDDEN: 'While you act as another user, you cannot make API keys for them.',
};
const NOT_ADMIN_FOR_KEYS = 'Only administrators can manage other users’ API keys, and you are not one any more.';
const KEY_NOT_SENT = 'The key was made, but the server did not send it. Revoke it and make another.';
const COPY_REFUSED = 'This browser did not let the page copy. The key is selected: copy it yourself, with Ctrl+C or '
  + '⌘C.';
const PASSKEY_OPTIONS_UNUSABLE = 'The server answered with passkey options this page cannot use.';

const state = {
  /** The signed-in user as the server last described them, or null. */
  user: null,
  /** The social providers offered, `{ id, name }`, as GET /api/warden/providers lists them. */
  providers: [],
  /** Whether GET /api/dev/outbox answers (development, on this machine). */
  outbox: false,
  /** Whether passkeys are offered: this browser has WebAuthn and the server the passkey plugin. */
  passkeys: false,
  /** Whether the server serves the api-key plugin: API keys on the account page, service accounts on the admin page. */
  apiKeys: false,
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
    /** For each user whose keys are shown: their API key JSON by id. */
    keys: new Map(),
    loads: 0,
  },
  outboxLoads: 0,
  accountLoads: 0,
  sessionLoads: 0,
  passkeyLoads: 0,
  /** Passkey JSON by id, as last read from the server. */
  passkeyList: new Map(),
  apiKeyLoads: 0,
  /** The user's API key JSON by id, as last read from the server. Never the keys themselves. */
  apiKeyList: new Map(),
  /** The id of this browser's session, as get-session last named it. */
  sessionId: '',
  /** Session tokens by session id, from list-sessions: what revoke-session is sent. Never put in the page. */
  sessionTokens: new Map(),
  /** The second step of a sign-in: the ways the server offers (`totp`, `otp`), and the one in use. */
  secondFactor: { methods: [], mode: 'totp' },
  /** Whether two-factor is being set up: enabled, with the app's first code still to come. */
  totpSetup: false,
  /** Backup codes just made; shown until the account page is left, and never again. */
  backupCodes: [],
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
    const words = `Too many attempts. Please try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
    return new ApiError(status, data?.code ?? '', words);
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

function noticeOf(container) {
  return container.querySelector(':scope > [role="status"]');
}

/** `error` in the words `sentences` has for its code; any other error as it is. */
function inWords(error, sentences) {
  return Object.hasOwn(sentences, error.code) ? new ApiError(error.status, error.code, sentences[error.code]) : error;
}

/** `api(...)` whose refusals read as `sentences` says. */
async function apiInWords(sentences, method, path, options) {
  try {
    return await api(method, path, options);
  } catch (error) {
    throw inWords(error, sentences);
  }
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
  // Backup codes, a setup key and a new API key are shown once, on their page only.
  if (id !== 'accounts') {
    forgetTwoFactorSetup();
    forgetNewKey($('api-key-new'));
  }
  if (id !== 'admin') document.querySelectorAll('#user-table .new-key').forEach(forgetNewKey);
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
    'two-factor': 'nav-home',
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
  else if (view === 'accounts' || view === 'account') await showAccounts();
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
  for (const id of ['sign-in-passkey', 'sign-in-social', 'sign-up-social']) setText(alertOf($(id)), '');
  if (mode === 'forgot') $('forgot-sent').replaceChildren();
  $(`${mode}-heading`).focus();
}

async function signedIn(user) {
  state.user = user;
  await route();
}

async function signIn(data) {
  const answer = await api('POST', '/api/auth/sign-in/email', {
    body: { email: data.get('email'), password: data.get('password') },
  });
  $('sign-in-form').reset();
  // The password was right, and the account asks for a second factor before it opens a session.
  if (answer?.twoFactorRedirect) showSecondFactor(answer.twoFactorMethods);
  else await signedIn(answer.user);
}

// ---- the second step of signing in: a code from an app, a backup code or an email ----

function showSecondFactor(methods) {
  const offered = Array.isArray(methods) ? methods.map(String) : [];
  state.secondFactor = { methods: offered, mode: 'totp' };
  showAuth('two-factor');
  $('two-factor-form').reset();
  // Backup codes work whatever else the account has; a code by email is sent only when it is asked for.
  if (offered.includes('totp')) useSecondFactor('totp');
  else if (offered.includes('otp')) working($('two-factor-form'), sendEmailCode, secondFactorFailed);
  else useSecondFactor('backup');
}

function useSecondFactor(mode, notice = '') {
  const { methods } = state.secondFactor;
  const factor = SECOND_FACTORS[mode];
  state.secondFactor.mode = mode;
  const form = $('two-factor-form');
  setText($('two-factor-lead'), factor.lead);
  setText($('two-factor-label'), factor.label);
  setText($('two-factor-notice'), notice);
  setText(alertOf(form), '');
  form.elements.code.value = '';
  form.elements.code.inputMode = factor.inputMode;
  $('use-totp').hidden = mode === 'totp' || !methods.includes('totp');
  $('use-backup-code').hidden = mode === 'backup';
  $('use-email-code').hidden = mode === 'otp' || !methods.includes('otp');
  $('resend-email-code').hidden = mode !== 'otp';
  form.elements.code.focus();
}

async function sendEmailCode() {
  await api('POST', '/api/auth/two-factor/send-otp', { body: {} });
  useSecondFactor('otp', 'We sent a code to your email address. It works for a few minutes.');
}

async function verifySecondFactor(data) {
  const { mode } = state.secondFactor;
  const typed = String(data.get('code') ?? '').trim();
  const code = mode === 'backup' ? typed : typed.replace(/\s+/g, '');
  const { user } = await api('POST', SECOND_FACTORS[mode].path, {
    body: { code, trustDevice: data.get('trustDevice') === 'on' },
  });
  $('two-factor-form').reset();
  await signedIn(user);
}

/** A refusal of the second step in words; one that ends the attempt goes back to the sign-in form. */
function secondFactorFailed(error) {
  const { mode } = state.secondFactor;
  const again = error.code === 'INVALID_TWO_FACTOR_COOKIE'
    || (error.code === 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE' && mode !== 'otp');
  if (again) {
    showAuth('sign-in', error.code === 'INVALID_TWO_FACTOR_COOKIE' ? SIGN_IN_AGAIN : TOO_MANY_CODES);
    return true;
  }
  const alert = alertOf($('two-factor-form'));
  if (error.code === 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE') setText(alert, TOO_MANY_EMAIL_CODES);
  else if (error.code === 'INVALID_CODE' && mode === 'otp') setText(alert, 'That code is not right. Check the email and try again.');
  else if (Object.hasOwn(SECOND_FACTOR_ERRORS, error.code)) setText(alert, SECOND_FACTOR_ERRORS[error.code]);
  else return false;
  $('two-factor-form').elements.code.select();
  return true;
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
  state.sessionId = '';
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

/** 401s that refuse what was sent (a code, a passkey) rather than say the session is gone. */
const REFUSALS = new Set([
  'INVALID_CODE', 'INVALID_BACKUP_CODE', 'INVALID_TWO_FACTOR_COOKIE', 'YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY',
]);

/** A call answered 401: the session is gone, so back to the sign-in form. Returns whether it was handled. */
function sessionEnded(error) {
  if (error.status !== 401 || REFUSALS.has(error.code)) return false;
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
  for (const id of ['profile-form', 'email-form', 'password-form']) {
    setText(alertOf($(id)), '');
    setText(noticeOf($(id)), '');
  }
  $('email-form').reset();
  $('password-form').reset();
  fillProfileForm();
  fillAccount();
  $('accounts-heading').focus();
  await Promise.all([loadSessions(), loadAccounts(), loadPasskeys(), loadApiKeys()]);
  setText($('accounts-error'), message);
}

function clearAccounts() {
  state.accountLoads += 1;
  state.sessionLoads += 1;
  state.sessionTokens.clear();
  $('linked-list').replaceChildren();
  $('session-list').replaceChildren();
  $('link-group').hidden = true;
  $('revoke-others').hidden = true;
  clearPasskeys();
  clearApiKeys();
  for (const id of ['profile-form', 'email-form', 'password-form']) $(id).reset();
  forgetTwoFactorSetup();
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

// ---- the account page: profile, email, password, sessions, two-factor ----

function fillProfileForm() {
  const form = $('profile-form');
  form.elements.name.value = state.user?.name ?? '';
  form.elements.image.value = state.user?.image ?? '';
}

/** What the page says about the signed-in user outside the forms: the address, and two-factor's state. */
function fillAccount() {
  const user = state.user ?? {};
  setText($('current-email'), user.email ?? '');
  setText($('email-verified'), user.emailVerified ? 'Verified' : 'Not verified');
  $('email-verified').classList.toggle('unverified', !user.emailVerified);
  updateChrome('accounts');
  fillTwoFactor();
}

/** Reads the session again: the user as the server now has them, and which session is this browser's. */
async function refreshSession() {
  const current = await api('GET', '/api/auth/get-session');
  if (!current?.user) throw new ApiError(401, 'UNAUTHORIZED', SESSION_ENDED);
  state.user = current.user;
  state.sessionId = String(current.session?.id ?? '');
  fillAccount();
}

async function saveProfile(data) {
  const form = $('profile-form');
  setText(noticeOf(form), '');
  const name = String(data.get('name') ?? '').trim();
  const image = String(data.get('image') ?? '').trim();
  if (!name) throw new ApiError(0, '', 'Please enter your name.');
  await apiInWords(ACCOUNT_ERRORS, 'POST', '/api/auth/update-user', { body: { name, image: image || null } });
  await refreshSession();
  fillProfileForm();
  setText(noticeOf(form), 'Your profile has been saved.');
}

/** Asks for a new address. Better Auth changes an unverified one at once, and mails a link for a verified one. */
async function changeEmail(data) {
  const form = $('email-form');
  const notice = noticeOf(form);
  notice.replaceChildren();
  const newEmail = String(data.get('newEmail') ?? '').trim();
  const before = String(state.user?.email ?? '');
  if (newEmail.toLowerCase() === before.toLowerCase()) {
    throw new ApiError(0, '', 'That is your email address already.');
  }
  const answer = await apiInWords(ACCOUNT_ERRORS, 'POST', '/api/auth/change-email', {
    body: { newEmail, callbackURL: ACCOUNTS_URL },
  });
  form.reset();
  await refreshSession();
  const changed = answer?.message === 'Email updated' || state.user.email.toLowerCase() !== before.toLowerCase();
  notice.append(changed
    ? `Your email address is now ${state.user.email}. We sent it a link to verify it.`
    : `We sent a link to ${newEmail}. Your email address changes when you open it, within an hour.`);
  if (state.outbox) {
    const link = document.createElement('a');
    link.href = '#outbox';
    link.textContent = 'mail outbox';
    notice.append(' In development, read it in the ', link, '.');
  }
}

async function changePassword(data) {
  const form = $('password-form');
  setText(noticeOf(form), '');
  const everywhere = data.get('revokeOtherSessions') === 'on';
  await apiInWords(ACCOUNT_ERRORS, 'POST', '/api/auth/change-password', {
    body: {
      currentPassword: data.get('currentPassword'),
      newPassword: data.get('newPassword'),
      revokeOtherSessions: everywhere,
    },
  });
  form.reset();
  setText(
    noticeOf(form),
    everywhere ? 'Your password has been changed, and you are signed out everywhere else.' : 'Your password has been changed.',
  );
  await loadSessions();
}

// ---- the account page: where the user is signed in ----

/** "Chrome on Linux" from a user agent, or '' when it names neither. */
function deviceName(userAgent) {
  const browsers = [
    [/Edg(e|A|iOS)?\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\/|FxiOS\//, 'Firefox'],
    [/Chrom(e|ium)\/|CriOS\//, 'Chrome'], [/Safari\//, 'Safari'],
  ];
  const systems = [
    [/Android/, 'Android'], [/iPhone|iPad|iPod/, 'iOS'], [/CrOS/, 'ChromeOS'], [/Windows/, 'Windows'],
    [/Mac OS X|Macintosh/, 'macOS'], [/Linux/, 'Linux'],
  ];
  const browser = browsers.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? '';
}

async function loadSessions() {
  const load = ++state.sessionLoads;
  const group = $('sessions-group');
  const list = $('session-list');
  setText(alertOf(group), '');
  list.setAttribute('aria-busy', 'true');
  try {
    const [current, sessions] = await Promise.all([
      api('GET', '/api/auth/get-session'),
      api('GET', '/api/auth/list-sessions'),
    ]);
    if (load !== state.sessionLoads) return;
    if (!current?.user) throw new ApiError(401, 'UNAUTHORIZED', SESSION_ENDED);
    state.user = current.user;
    state.sessionId = String(current.session?.id ?? '');
    fillAccount();
    const shown = (Array.isArray(sessions) ? sessions : []).map((session) => ({ ...session, id: String(session.id) }));
    // This device first, then the newest.
    shown.sort((a, b) => (b.id === state.sessionId) - (a.id === state.sessionId)
      || String(b.createdAt ?? '').localeCompare(String(a.createdAt ?? '')));
    state.sessionTokens = new Map(shown.map((session) => [session.id, String(session.token ?? '')]));
    list.replaceChildren(...shown.map(sessionItem));
    $('revoke-others').hidden = !shown.some((session) => session.id !== state.sessionId);
  } catch (error) {
    if (load === state.sessionLoads && !sessionEnded(error)) setText(alertOf(group), error.message);
  } finally {
    if (load === state.sessionLoads) list.removeAttribute('aria-busy');
  }
}

function sessionItem(session) {
  const item = $('session-template').content.firstElementChild.cloneNode(true);
  item.dataset.id = session.id;
  const agent = String(session.userAgent ?? '');
  const device = deviceName(agent) || 'Unknown device';
  const here = session.id === state.sessionId;
  item.classList.toggle('current', here);
  setText(item.querySelector('.session-device'), device);
  item.querySelector('.session-this').hidden = !here;
  const details = [];
  if (session.ipAddress) details.push(`IP address ${session.ipAddress}`);
  const since = dateText(session.createdAt, true);
  if (since) details.push(`signed in ${since}`);
  const meta = details.join(' · ');
  setText(item.querySelector('.session-meta'), meta.charAt(0).toUpperCase() + meta.slice(1));
  setText(item.querySelector('.session-agent'), agent);
  const revoke = item.querySelector('.revoke-session');
  revoke.hidden = here;
  revoke.setAttribute('aria-label', `Sign out ${device}${session.ipAddress ? ` at ${session.ipAddress}` : ''}`);
  return item;
}

async function revokeSession(item) {
  const device = item.querySelector('.session-device').textContent;
  await api('POST', '/api/auth/revoke-session', { body: { token: state.sessionTokens.get(item.dataset.id) ?? '' } });
  await loadSessions();
  $('sessions-heading').focus();
  announce(`Signed out ${device}.`);
}

async function revokeOtherSessions() {
  await api('POST', '/api/auth/revoke-other-sessions', { body: {} });
  await loadSessions();
  $('sessions-heading').focus();
  announce('Signed out everywhere else.');
}

function onSessionsClick(event) {
  const button = event.target.closest('button');
  if (!button) return;
  const item = button.closest('.session');
  if (button.matches('.revoke-session')) working(item, () => revokeSession(item), sessionEnded);
  else if (button.id === 'revoke-others') working($('sessions-group'), revokeOtherSessions, sessionEnded);
}

// ---- the account page: two-factor authentication ----

const SVG = 'http://www.w3.org/2000/svg';

/** Whether the server has Better Auth's two-factor plugin: its users then carry `twoFactorEnabled`. */
const twoFactorOffered = () => Boolean(state.user) && Object.hasOwn(state.user, 'twoFactorEnabled');

function fillTwoFactor() {
  const section = $('two-factor-settings');
  section.hidden = !twoFactorOffered();
  if (section.hidden) return;
  const on = state.user.twoFactorEnabled === true;
  if (on) state.totpSetup = false;
  let status = 'Off. Turn it on, and signing in asks for a code from an authenticator app after your password, so a '
    + 'password alone is not enough.';
  if (on) status = 'On. Signing in asks for a code from your authenticator app after your password.';
  else if (state.totpSetup) status = 'Almost on: it turns on once you enter the first code your app shows.';
  setText($('two-factor-status'), status);
  $('two-factor-status').classList.toggle('on', on);
  $('two-factor-enable-form').hidden = on || state.totpSetup;
  $('totp-setup').hidden = on || !state.totpSetup;
  $('two-factor-manage').hidden = !on;
  $('backup-codes').replaceChildren(...state.backupCodes.map((code) => {
    const item = document.createElement('li');
    item.textContent = code;
    return item;
  }));
  $('backup-codes-box').hidden = state.backupCodes.length === 0;
}

/** Takes a setup key and backup codes off the page. */
function forgetTwoFactorSetup() {
  state.totpSetup = false;
  state.backupCodes = [];
  $('totp-qr').replaceChildren();
  setText($('totp-secret'), '');
  $('backup-codes').replaceChildren();
  $('backup-codes-box').hidden = true;
  for (const id of ['two-factor-enable-form', 'totp-verify-form', 'backup-codes-form', 'two-factor-disable-form']) {
    $(id).reset();
  }
}

/** The `secret` of an `otpauth://` URI, or '' when it has none. */
function totpSecret(uri) {
  try {
    const url = new URL(uri);
    return url.protocol === 'otpauth:' ? url.searchParams.get('secret') ?? '' : '';
  } catch {
    return '';
  }
}

/**
 * Draws `text` as a QR code: an SVG of one path, black on white whatever the colour scheme. The encoder is a file
 * of this UI (no CDN), loaded only here.
 */
async function drawQrCode(container, text) {
  const { default: qrcode } = await import('/qrcode.mjs');
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const quiet = 4;
  const size = count + 2 * quiet;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code for your authenticator app');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#ffffff');
  let d = '';
  for (let row = 0; row < count; row += 1) {
    for (let column = 0; column < count; column += 1) {
      if (qr.isDark(row, column)) d += `M${column + quiet} ${row + quiet}h1v1h-1z`;
    }
  }
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000000');
  svg.append(background, modules);
  container.replaceChildren(svg);
}

async function enableTwoFactor(data) {
  const answer = await apiInWords(ACCOUNT_ERRORS, 'POST', '/api/auth/two-factor/enable', {
    body: { password: data.get('password') },
  });
  const uri = String(answer?.totpURI ?? '');
  const secret = totpSecret(uri);
  if (!secret) throw new ApiError(0, '', 'The server answered with a setup this page cannot show. Nothing was turned on.');
  $('two-factor-enable-form').reset();
  await drawQrCode($('totp-qr'), uri);
  setText($('totp-secret'), secret);
  state.totpSetup = true;
  state.backupCodes = Array.isArray(answer.backupCodes) ? answer.backupCodes.map(String) : [];
  fillTwoFactor();
  $('totp-verify-form').elements.code.focus();
}

/** The app's first code turns two-factor on; the server replaces the session as it does. */
async function confirmTwoFactor(data) {
  const code = String(data.get('code') ?? '').replace(/\s+/g, '');
  await apiInWords(ACCOUNT_ERRORS, 'POST', '/api/auth/two-factor/verify-totp', { body: { code } });
  state.totpSetup = false;
  $('totp-qr').replaceChildren();
  setText($('totp-secret'), '');
  $('totp-verify-form').reset();
  await refreshSession();
  $('two-factor-settings-heading').focus();
  announce('Two-factor authentication is on.');
  loadSessions();
}

function cancelTwoFactorSetup() {
  forgetTwoFactorSetup();
  fillTwoFactor();
  $('two-factor-enable-form').elements.password.focus();
}

async function makeBackupCodes(data) {
  const answer = await apiInWords(ACCOUNT_ERRORS, 'POST', '/api/auth/two-factor/generate-backup-codes', {
    body: { password: data.get('password') },
  });
  $('backup-codes-form').reset();
  state.backupCodes = Array.isArray(answer?.backupCodes) ? answer.backupCodes.map(String) : [];
  fillTwoFactor();
  $('backup-codes-heading').focus();
  announce('New backup codes are shown. The old ones no longer work.');
}

async function disableTwoFactor(data) {
  await apiInWords(ACCOUNT_ERRORS, 'POST', '/api/auth/two-factor/disable', { body: { password: data.get('password') } });
  forgetTwoFactorSetup();
  await refreshSession();
  $('two-factor-settings-heading').focus();
  announce('Two-factor authentication is off.');
  loadSessions();
}

// ---- passkeys: signing in with one, and the account page's list ----

/** An IP address as the page's host: WebAuthn takes only a domain name as a relying party. */
const AT_IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[[\d:a-f.]*\])$/i;

/**
 * Whether passkeys can be offered: this browser has WebAuthn, the page has a domain name, and the server serves the
 * passkey plugin's routes. Listing passkeys tells without changing anything: 401 signed out, the list signed in, and
 * a bare 404 when the plugin is off.
 */
async function passkeysAvailable() {
  if (typeof PublicKeyCredential === 'undefined' || !navigator.credentials) return false;
  if (AT_IP_ADDRESS.test(location.hostname)) return false;
  try {
    const response = await fetch('/api/auth/passkey/list-user-passkeys', {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    return response.status !== 404;
  } catch {
    return false;
  }
}

/** The plugin's routes are gone (a bare 404): the page stops offering passkeys. */
function passkeysGone(error) {
  if (error.status !== 404 || error.code) return false;
  state.passkeys = false;
  $('sign-in-passkey').hidden = true;
  $('passkeys-group').hidden = true;
  return true;
}

/** Base64url (no padding), as WebAuthn's JSON forms carry bytes, to an ArrayBuffer. */
function bufferFrom(text) {
  const base64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
  let binary;
  try {
    binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
  } catch {
    throw new ApiError(0, '', PASSKEY_OPTIONS_UNUSABLE);
  }
  return Uint8Array.from(binary, (char) => char.charCodeAt(0)).buffer;
}

function base64url(buffer) {
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const descriptorFrom = (descriptor) => ({ ...descriptor, id: bufferFrom(descriptor.id) });

/** The server's PublicKeyCredentialCreationOptionsJSON as navigator.credentials.create takes it. */
function creationOptions(json) {
  if (!json?.challenge || !json.user?.id) throw new ApiError(0, '', PASSKEY_OPTIONS_UNUSABLE);
  return {
    ...json,
    challenge: bufferFrom(json.challenge),
    user: { ...json.user, id: bufferFrom(json.user.id) },
    excludeCredentials: (Array.isArray(json.excludeCredentials) ? json.excludeCredentials : []).map(descriptorFrom),
  };
}

/** The server's PublicKeyCredentialRequestOptionsJSON as navigator.credentials.get takes it. */
function requestOptions(json) {
  if (!json?.challenge) throw new ApiError(0, '', PASSKEY_OPTIONS_UNUSABLE);
  const options = { ...json, challenge: bufferFrom(json.challenge) };
  if (Array.isArray(json.allowCredentials)) options.allowCredentials = json.allowCredentials.map(descriptorFrom);
  return options;
}

/** Runs a passkey prompt; the browser's refusal, or no credential at all, becomes an ApiError in words. */
async function prompted(ceremony) {
  let credential;
  try {
    credential = await ceremony();
  } catch (error) {
    const name = String(error?.name ?? '');
    throw new ApiError(0, name, Object.hasOwn(WEBAUTHN_ERRORS, name) ? WEBAUTHN_ERRORS[name] : PASSKEY_FAILED);
  }
  if (!credential) throw new ApiError(0, 'NotAllowedError', WEBAUTHN_ERRORS.NotAllowedError);
  return credential;
}

/** What an authenticator attached itself as, when it is one of WebAuthn's two values. */
function attachmentOf(credential) {
  const { authenticatorAttachment } = credential;
  return ['platform', 'cross-platform'].includes(authenticatorAttachment) ? authenticatorAttachment : undefined;
}

/** A new credential as RegistrationResponseJSON, what verify-registration reads. */
function registrationJSON(credential) {
  const { response } = credential;
  const json = {
    id: credential.id,
    rawId: base64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: base64url(response.clientDataJSON),
      attestationObject: base64url(response.attestationObject),
      transports: response.getTransports?.() ?? [],
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: attachmentOf(credential),
  };
  const algorithm = response.getPublicKeyAlgorithm?.();
  if (algorithm !== undefined) json.response.publicKeyAlgorithm = algorithm;
  // A key of an algorithm the browser does not know comes back as null, or throws; the server reads the attestation.
  try {
    const key = response.getPublicKey?.();
    if (key) json.response.publicKey = base64url(key);
  } catch {
    // Left out.
  }
  const authenticatorData = response.getAuthenticatorData?.();
  if (authenticatorData) json.response.authenticatorData = base64url(authenticatorData);
  return json;
}

/** A passkey's signature as AuthenticationResponseJSON, what verify-authentication reads. */
function authenticationJSON(credential) {
  const { response } = credential;
  return {
    id: credential.id,
    rawId: base64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: base64url(response.clientDataJSON),
      authenticatorData: base64url(response.authenticatorData),
      signature: base64url(response.signature),
      userHandle: response.userHandle ? base64url(response.userHandle) : undefined,
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: attachmentOf(credential),
  };
}

/** Signs in with any passkey this site has on the device: the passkey names the account, so no email is asked. */
async function signInWithPasskey() {
  const options = await api('GET', '/api/auth/passkey/generate-authenticate-options');
  const credential = await prompted(() => navigator.credentials.get({ publicKey: requestOptions(options) }));
  const { user } = await apiInWords(PASSKEY_SIGN_IN_ERRORS, 'POST', '/api/auth/passkey/verify-authentication', {
    body: { response: authenticationJSON(credential) },
  });
  await signedIn(user);
}

const passkeyName = (passkey) => String(passkey?.name ?? '').trim() || 'Passkey';

async function loadPasskeys() {
  const section = $('passkeys-group');
  section.hidden = !state.passkeys;
  if (!state.passkeys) return;
  const load = ++state.passkeyLoads;
  const list = $('passkey-list');
  setText(alertOf(section), '');
  list.setAttribute('aria-busy', 'true');
  try {
    const passkeys = await api('GET', '/api/auth/passkey/list-user-passkeys');
    if (load !== state.passkeyLoads) return;
    const shown = Array.isArray(passkeys) ? passkeys : [];
    // The newest first.
    shown.sort((a, b) => String(b.createdAt ?? '').localeCompare(String(a.createdAt ?? '')));
    state.passkeyList = new Map(shown.map((passkey) => [String(passkey.id), passkey]));
    list.replaceChildren(...shown.map(passkeyItem));
    $('passkeys-empty').hidden = shown.length > 0;
  } catch (error) {
    if (load === state.passkeyLoads && !passkeysGone(error) && !sessionEnded(error)) {
      setText(alertOf(section), error.message);
    }
  } finally {
    if (load === state.passkeyLoads) list.removeAttribute('aria-busy');
  }
}

function clearPasskeys() {
  state.passkeyLoads += 1;
  state.passkeyList.clear();
  $('passkey-list').replaceChildren();
  $('passkeys-empty').hidden = true;
  $('passkey-add-form').reset();
  setText(alertOf($('passkeys-group')), '');
}

function passkeyItem(passkey) {
  const item = $('passkey-template').content.firstElementChild.cloneNode(true);
  item.dataset.id = String(passkey.id ?? '');
  fillPasskey(item, passkey);
  return item;
}

function fillPasskey(item, passkey) {
  state.passkeyList.set(item.dataset.id, passkey);
  const name = passkeyName(passkey);
  setText(item.querySelector('.passkey-name'), name);
  const details = [];
  const added = dateText(passkey.createdAt);
  if (added) details.push(`Added ${added}`);
  // multiDevice: a passkey a password manager or platform syncs; singleDevice: bound to the authenticator that made it.
  details.push(passkey.deviceType === 'multiDevice' ? 'synced across your devices' : 'kept on one device');
  const meta = details.join(' · ');
  setText(item.querySelector('.passkey-meta'), meta.charAt(0).toUpperCase() + meta.slice(1));
  item.querySelector('.rename-passkey').setAttribute('aria-label', `Rename ${name}`);
  item.querySelector('.delete-passkey').setAttribute('aria-label', `Delete ${name}`);
  setText(
    item.querySelector('.confirm-text'),
    `Delete “${name}”? You can no longer sign in with it here. Remove it from your device or password manager too.`,
  );
}

/** Asks for a new passkey: the browser prompts, then the server checks what the authenticator made. */
async function addPasskey(data) {
  const name = String(data.get('name') ?? '').trim();
  const options = await apiInWords(PASSKEY_ERRORS, 'GET', '/api/auth/passkey/generate-register-options');
  const credential = await prompted(() => navigator.credentials.create({ publicKey: creationOptions(options) }));
  await apiInWords(PASSKEY_ERRORS, 'POST', '/api/auth/passkey/verify-registration', {
    body: { response: registrationJSON(credential), name: name || undefined },
  });
  $('passkey-add-form').reset();
  await loadPasskeys();
  $('passkeys-heading').focus();
  announce(name ? `Added the passkey “${name}”.` : 'Added a passkey.');
}

/** Shows one of a passkey's three faces: its name and actions, the rename form, or the question before deleting. */
function showPasskeyPart(item, part) {
  item.querySelector('.passkey-view').hidden = part === 'rename';
  item.querySelector('.passkey-actions').hidden = part === 'confirm';
  item.querySelector('.passkey-rename').hidden = part !== 'rename';
  item.querySelector('.confirm').hidden = part !== 'confirm';
  setText(alertOf(item), '');
  if (part === 'rename') {
    const form = item.querySelector('.passkey-rename');
    setText(alertOf(form), '');
    form.elements.name.value = String(state.passkeyList.get(item.dataset.id)?.name ?? '');
    form.elements.name.focus();
  } else if (part === 'confirm') {
    item.querySelector('.cancel-delete').focus();
  }
}

async function renamePasskey(item, data) {
  const name = String(data.get('name') ?? '').trim();
  if (!name) throw new ApiError(0, '', 'Please enter a name for the passkey.');
  const { passkey } = await apiInWords(PASSKEY_ERRORS, 'POST', '/api/auth/passkey/update-passkey', {
    body: { id: item.dataset.id, name },
  });
  fillPasskey(item, passkey ?? { ...state.passkeyList.get(item.dataset.id), name });
  showPasskeyPart(item, 'view');
  item.querySelector('.rename-passkey').focus();
  announce(`Renamed the passkey to “${name}”.`);
}

async function deletePasskey(item) {
  const name = passkeyName(state.passkeyList.get(item.dataset.id));
  await apiInWords(PASSKEY_ERRORS, 'POST', '/api/auth/passkey/delete-passkey', { body: { id: item.dataset.id } });
  await loadPasskeys();
  $('passkeys-heading').focus();
  announce(`Deleted the passkey “${name}”.`);
}

function onPasskeysClick(event) {
  const button = event.target.closest('button');
  const item = button?.closest('.passkey');
  if (!item) return;
  if (button.matches('.rename-passkey')) showPasskeyPart(item, 'rename');
  else if (button.matches('.cancel-rename')) {
    showPasskeyPart(item, 'view');
    item.querySelector('.rename-passkey').focus();
  } else if (button.matches('.delete-passkey')) showPasskeyPart(item, 'confirm');
  else if (button.matches('.cancel-delete')) {
    showPasskeyPart(item, 'view');
    item.querySelector('.delete-passkey').focus();
  } else if (button.matches('.confirm-delete')) working(item, () => deletePasskey(item), sessionEnded);
}

function onPasskeysSubmit(event) {
  const form = event.target;
  if (!form.matches('.passkey-rename')) return;
  event.preventDefault();
  const item = form.closest('.passkey');
  submitting(form, (data) => renamePasskey(item, data), sessionEnded);
}

function onPasskeysKeydown(event) {
  if (event.key !== 'Escape') return;
  const item = event.target.closest('.passkey');
  if (!item || (item.querySelector('.passkey-rename').hidden && item.querySelector('.confirm').hidden)) return;
  const renaming = !item.querySelector('.passkey-rename').hidden;
  showPasskeyPart(item, 'view');
  item.querySelector(renaming ? '.rename-passkey' : '.delete-passkey').focus();
}

// ---- API keys: the account page's, and what the admin page's share ----

const DAY_SECONDS = 86_400;
/** Rate-limit windows that have a name, in milliseconds. */
const NAMED_WINDOWS = [[86_400_000, 'a day'], [3_600_000, 'an hour'], [60_000, 'a minute'], [1000, 'a second']];

/**
 * Whether the server serves the api-key plugin's routes. Listing keys tells without changing anything: 401 signed
 * out, the list signed in, and a bare 404 when the plugin is off.
 */
async function apiKeysAvailable() {
  try {
    const response = await fetch('/api/auth/api-key/list', {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    return response.status !== 404;
  } catch {
    return false;
  }
}

/** Shows or hides everything about API keys: the account page's section, service accounts and each user's keys. */
function showApiKeyParts() {
  const on = state.apiKeys;
  $('service-accounts').hidden = !on;
  if (!on) {
    $('api-keys-group').hidden = true;
    forgetNewKey($('api-key-new'));
  }
  for (const row of userRows()) {
    row.querySelector('.keys').hidden = !on;
    if (!on && row.querySelector('.keys').getAttribute('aria-expanded') === 'true') toggleKeys(row);
  }
}

/** The plugin's routes are gone (a bare 404): the pages stop offering API keys. */
function apiKeysGone(error) {
  if (error.status !== 404 || error.code) return false;
  state.apiKeys = false;
  showApiKeyParts();
  return true;
}

const keyName = (key) => String(key?.name ?? '').trim() || 'Unnamed key';

/** Newest first, from a list answer's `apiKeys`. */
function sortedKeys(answer) {
  const keys = Array.isArray(answer?.apiKeys) ? [...answer.apiKeys] : [];
  return keys.sort((a, b) => String(b.createdAt ?? '').localeCompare(String(a.createdAt ?? '')));
}

/** "Created … · last used … · expires …": when a key was made, used and ends. */
function keyMeta(key) {
  const details = [];
  const created = dateText(key.createdAt);
  if (created) details.push(`Created ${created}`);
  const used = dateText(key.lastRequest, true);
  details.push(used ? `last used ${used}` : 'not used yet');
  const expires = dateText(key.expiresAt);
  if (!expires) details.push('never expires');
  else if (new Date(key.expiresAt).getTime() <= Date.now()) details.push(`expired ${expires}`);
  else details.push(`expires ${expires}`);
  if (key.enabled === false) details.push('turned off');
  const meta = details.join(' · ');
  return meta.charAt(0).toUpperCase() + meta.slice(1);
}

/** What a key may do: "Tasks: read", or all of its owner's rights when it names no permissions. */
function permissionsText(permissions) {
  if (!permissions || typeof permissions !== 'object') return 'All of the account’s rights';
  const grants = Object.entries(permissions).map(([resource, actions]) => {
    const list = Array.isArray(actions) && actions.length > 0 ? actions.join(', ') : 'nothing';
    return `${resource === 'task' ? 'Tasks' : resource}: ${list}`;
  });
  return grants.length > 0 ? grants.join('; ') : 'No rights at all';
}

/** "10 requests a day", "3 requests every 30 seconds" or "no rate limit". */
function rateLimitText(key) {
  if (key.rateLimitEnabled === false) return 'no rate limit';
  const max = Number(key.rateLimitMax);
  const window = Number(key.rateLimitTimeWindow);
  if (!Number.isFinite(max) || !(window > 0)) return 'rate limited';
  const requests = `${max} request${max === 1 ? '' : 's'}`;
  const named = NAMED_WINDOWS.find(([length]) => length === window);
  if (named) return `${requests} ${named[1]}`;
  const seconds = window / 1000;
  return `${requests} every ${seconds.toLocaleString()} second${seconds === 1 ? '' : 's'}`;
}

/** An administrator's view of a key's limits: its permissions, uses left and rate limit. */
function keyLimits(key) {
  const parts = [permissionsText(key.permissions)];
  if (Number.isInteger(key.remaining)) parts.push(`${key.remaining} use${key.remaining === 1 ? '' : 's'} left`);
  parts.push(rateLimitText(key));
  return parts.join(' · ');
}

/** A key of a list; `owner`, the email address of the user whose keys an administrator is looking at. */
function apiKeyItem(key, owner = '') {
  const item = $('api-key-template').content.firstElementChild.cloneNode(true);
  item.dataset.id = String(key.id ?? '');
  const name = keyName(key);
  setText(item.querySelector('.api-key-name'), name);
  const start = String(key.start ?? '');
  const startCode = item.querySelector('.api-key-start');
  setText(startCode, start ? `${start}…` : '');
  startCode.hidden = !start;
  setText(item.querySelector('.api-key-meta'), keyMeta(key));
  const limits = item.querySelector('.api-key-limits');
  limits.hidden = !owner;
  if (owner) setText(limits, keyLimits(key));
  item.querySelector('.revoke-key').setAttribute('aria-label', `Revoke ${name}`);
  const whose = owner ? ` of ${owner}` : '';
  setText(
    item.querySelector('.key-confirm-text'),
    `Revoke “${name}”${whose}? Programs that use it stop working at once. This cannot be undone.`,
  );
  return item;
}

/** Shows the question before revoking a key, or takes it back. */
function askToRevoke(item, asking) {
  item.querySelector('.api-key-actions').hidden = asking;
  item.querySelector('.key-confirm').hidden = !asking;
  setText(alertOf(item), '');
  item.querySelector(asking ? '.cancel-revoke' : '.revoke-key').focus();
}

/** The name field of a key form, trimmed; one is needed to tell keys apart. */
function keyNameFrom(data) {
  const name = String(data.get('name') ?? '').trim();
  if (!name) throw new ApiError(0, '', 'Please enter a name for the key.');
  return name;
}

/** The expiry field (days) in seconds, or undefined for a key that never expires. */
function expiresInFrom(data) {
  const text = String(data.get('expiresInDays') ?? '').trim();
  if (!text) return undefined;
  const days = Number(text);
  // The server refuses less than a day; zero or less would read as no expiry at all, so it is refused here alike.
  if (!Number.isFinite(days) || days <= 0) {
    throw new ApiError(0, 'EXPIRES_IN_IS_TOO_SMALL', API_KEY_ERRORS.EXPIRES_IN_IS_TOO_SMALL);
  }
  return Math.round(days * DAY_SECONDS);
}

/** Shows a key just made, the only time it is ever shown. */
function showNewKey(box, created, heading) {
  const key = typeof created?.key === 'string' ? created.key : '';
  if (!key) throw new ApiError(0, '', KEY_NOT_SENT);
  setText(box.querySelector('.new-key-heading'), heading);
  box.setAttribute('aria-label', heading);
  box.querySelector('.new-key-value').value = key;
  setText(noticeOf(box), '');
  setText(alertOf(box), '');
  box.hidden = false;
}

/** Takes a key shown once off the page. */
function forgetNewKey(box) {
  box.querySelector('.new-key-value').value = '';
  setText(box.querySelector('.new-key-heading'), '');
  setText(noticeOf(box), '');
  setText(alertOf(box), '');
  box.hidden = true;
}

/** Copies a new key to the clipboard; where the browser does not let the page, selects it to copy by hand. */
async function copyNewKey(box) {
  const field = box.querySelector('.new-key-value');
  setText(noticeOf(box), '');
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.focus();
    field.select();
    throw new ApiError(0, '', COPY_REFUSED);
  }
  setText(noticeOf(box), 'Copied to the clipboard.');
}

/** The copy and done buttons of a key shown once; whether `button` was one. */
function onNewKeyClick(button) {
  const box = button.closest('.new-key');
  if (!box) return false;
  if (button.matches('.copy-key')) working(box, () => copyNewKey(box));
  else if (button.matches('.done-key')) {
    forgetNewKey(box);
    box.parentElement.querySelector('.section-heading, .panel-heading').focus();
  }
  return true;
}

/** A new key's field selects the whole key when focused, ready to copy. */
function onNewKeyFocus(event) {
  if (event.target.matches('.new-key-value')) event.target.select();
}

async function loadApiKeys() {
  const section = $('api-keys-group');
  section.hidden = !state.apiKeys;
  if (!state.apiKeys) return;
  const load = ++state.apiKeyLoads;
  const list = $('api-key-list');
  setText(alertOf(section), '');
  list.setAttribute('aria-busy', 'true');
  try {
    const keys = sortedKeys(await api('GET', '/api/auth/api-key/list'));
    if (load !== state.apiKeyLoads) return;
    state.apiKeyList = new Map(keys.map((key) => [String(key.id), key]));
    list.replaceChildren(...keys.map((key) => apiKeyItem(key)));
    $('api-keys-empty').hidden = keys.length > 0;
  } catch (error) {
    if (load === state.apiKeyLoads && !apiKeysGone(error) && !sessionEnded(error)) {
      setText(alertOf(section), error.message);
    }
  } finally {
    if (load === state.apiKeyLoads) list.removeAttribute('aria-busy');
  }
}

function clearApiKeys() {
  state.apiKeyLoads += 1;
  state.apiKeyList.clear();
  $('api-key-list').replaceChildren();
  $('api-keys-empty').hidden = true;
  $('api-key-create-form').reset();
  forgetNewKey($('api-key-new'));
  setText(alertOf($('api-keys-group')), '');
}

/** Makes a key for the signed-in user, and shows it this once. */
async function createApiKey(data) {
  const name = keyNameFrom(data);
  const expiresIn = expiresInFrom(data);
  const created = await apiInWords(API_KEY_ERRORS, 'POST', '/api/auth/api-key/create', {
    body: { name, expiresIn },
  });
  $('api-key-create-form').reset();
  const box = $('api-key-new');
  showNewKey(box, created, `Your new key “${name}”`);
  await loadApiKeys();
  box.querySelector('.new-key-heading').focus();
  announce(`Created the API key “${name}”. Copy it now: it will not be shown again.`);
}

async function revokeApiKey(item) {
  const name = keyName(state.apiKeyList.get(item.dataset.id));
  try {
    await apiInWords(API_KEY_ERRORS, 'POST', '/api/auth/api-key/delete', { body: { keyId: item.dataset.id } });
  } catch (error) {
    if (error.code !== 'KEY_NOT_FOUND') throw error;
    // Revoked elsewhere meanwhile: the list is read again, and says so.
    await loadApiKeys();
    setText(alertOf($('api-keys-group')), error.message);
    $('api-keys-heading').focus();
    return;
  }
  await loadApiKeys();
  $('api-keys-heading').focus();
  announce(`Revoked the API key “${name}”.`);
}

function onApiKeysClick(event) {
  const button = event.target.closest('button');
  if (!button || onNewKeyClick(button)) return;
  const item = button.closest('.api-key');
  if (!item) return;
  if (button.matches('.revoke-key')) askToRevoke(item, true);
  else if (button.matches('.cancel-revoke')) askToRevoke(item, false);
  else if (button.matches('.confirm-revoke')) {
    working(item, () => revokeApiKey(item), (error) => apiKeysGone(error) || sessionEnded(error));
  }
}

function onApiKeysKeydown(event) {
  if (event.key !== 'Escape') return;
  const item = event.target.closest('.api-key');
  if (item && !item.querySelector('.key-confirm').hidden) askToRevoke(item, false);
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
  showApiKeyParts();
  $('admin-heading').focus();
  await loadUsers();
}

const userRows = () => [...$('user-table').tBodies];

function removeUserRows() {
  state.users.byId.clear();
  state.users.keys.clear();
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
  const keys = row.querySelector('.user-keys-row');
  keys.id = `user-keys-${user.id}`;
  row.querySelector('.keys').setAttribute('aria-controls', keys.id);
  row.querySelector('.keys').hidden = !state.apiKeys;
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
  row.querySelector('.keys').setAttribute('aria-label', `API keys of ${user.email}`);
  row.querySelector('.user-keys').setAttribute('aria-label', `API keys of ${user.email}`);
  let role = 'user';
  if (isAdmin(user)) role = 'admin';
  else if (String(user.role ?? '').trim() === 'service') role = 'service';
  row.querySelector('.role-form').elements.role.value = role;
  row.querySelector('.ban-form').hidden = Boolean(user.banned);
  row.querySelector('.unban-group').hidden = !user.banned;
  setText(row.querySelector('.ban-details'), user.banned ? banText(user) : '');
  // Only a server with the two-factor plugin tells whether a user has a second factor.
  const twoFactor = row.querySelector('.two-factor-group');
  twoFactor.hidden = !('twoFactorEnabled' in user);
  setText(
    row.querySelector('.two-factor-status'),
    user.twoFactorEnabled
      ? 'On. Resetting turns it off, forgets their trusted devices and ends their sessions: for a user who lost '
        + 'their phone and their backup codes. Make sure it is really them asking.'
      : 'Off.',
  );
  row.querySelector('.reset-two-factor').hidden = !user.twoFactorEnabled;
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

async function resetTwoFactor(row) {
  const { user } = await api('POST', '/api/warden/admin/reset-two-factor', { body: { userId: row.dataset.id } });
  fillUser(row, user);
  setSessionCount(row, 0);
  row.querySelector('.manage').focus();
  announce(`Two-factor is off for ${user.email}; their trusted devices are forgotten and their sessions have ended.`);
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

// ---- the admin page: service accounts, and any user's API keys ----

/**
 * An administrator's key route, its refusals in words. The routes refuse a caller who is not (or no longer) an
 * administrator with UNAUTHORIZED_SESSION, as they refuse one with no session: asking for the session tells them apart.
 */
async function adminKeyApi(method, path, options) {
  try {
    return await apiInWords(API_KEY_ERRORS, method, path, options);
  } catch (error) {
    if (error.code !== 'UNAUTHORIZED_SESSION') throw error;
    const session = await api('GET', '/api/auth/get-session').catch(() => null);
    if (!session?.user) throw new ApiError(401, 'UNAUTHORIZED', SESSION_ENDED);
    throw new ApiError(403, error.code, NOT_ADMIN_FOR_KEYS);
  }
}

const keysFailed = (error) => apiKeysGone(error) || sessionEnded(error);

/** Opens or closes a user's keys beneath their row; opening lists them. */
async function toggleKeys(row) {
  const button = row.querySelector('.keys');
  const open = button.getAttribute('aria-expanded') !== 'true';
  button.setAttribute('aria-expanded', String(open));
  row.querySelector('.user-keys-row').hidden = !open;
  row.classList.toggle('keys-open', open);
  if (!open) {
    forgetNewKey(row.querySelector('.new-key'));
    setText(alertOf(row.querySelector('.key-issue-form')), '');
    return;
  }
  await loadUserKeys(row);
}

async function loadUserKeys(row) {
  const group = row.querySelector('.keys-group');
  const list = row.querySelector('.key-list');
  const load = String(Number(row.dataset.keyLoads ?? 0) + 1);
  row.dataset.keyLoads = load;
  setText(alertOf(group), '');
  list.setAttribute('aria-busy', 'true');
  try {
    const query = new URLSearchParams({ userId: row.dataset.id });
    const keys = sortedKeys(await adminKeyApi('GET', `/api/warden/admin/list-api-keys?${query}`));
    if (row.dataset.keyLoads !== load) return;
    state.users.keys.set(row.dataset.id, new Map(keys.map((key) => [String(key.id), key])));
    list.replaceChildren(...keys.map((key) => apiKeyItem(key, userOf(row)?.email ?? '')));
    row.querySelector('.keys-empty').hidden = keys.length > 0;
  } catch (error) {
    if (row.dataset.keyLoads === load && !keysFailed(error)) setText(alertOf(group), error.message);
  } finally {
    if (row.dataset.keyLoads === load) list.removeAttribute('aria-busy');
  }
}

/** A limit of its own needs both of its numbers; the other choices need neither. */
function updateRateFields(form) {
  const custom = form.elements.rateLimit.value === 'custom';
  form.elements.rateLimitMax.required = custom;
  form.elements.rateLimitSeconds.required = custom;
}

/** The body of create-api-key from the issue form: only what the administrator chose, the rest left to defaults. */
function issueBody(row, data) {
  const body = { userId: row.dataset.id, name: keyNameFrom(data) };
  const expiresIn = expiresInFrom(data);
  if (expiresIn !== undefined) body.expiresIn = expiresIn;
  // No permission checked: the key has all of its owner's rights, as a key with no permissions does.
  const actions = data.getAll('task').map(String);
  if (actions.length > 0) body.permissions = { task: actions };
  const remaining = String(data.get('remaining') ?? '').trim();
  if (remaining) body.remaining = Number(remaining);
  const limit = data.get('rateLimit');
  if (limit === 'custom') {
    const max = Number(data.get('rateLimitMax'));
    const seconds = Number(data.get('rateLimitSeconds'));
    if (!Number.isInteger(max) || max < 1 || !(seconds > 0)) {
      throw new ApiError(0, '', 'Enter how many requests the key may make, and in how many seconds.');
    }
    body.rateLimitEnabled = true;
    body.rateLimitMax = max;
    body.rateLimitTimeWindow = Math.round(seconds * 1000);
  } else if (limit === 'none') {
    body.rateLimitEnabled = false;
  }
  return body;
}

/** Issues a key for the user of `row`, and shows it this once. */
async function issueKey(row, data) {
  const { email } = userOf(row);
  const body = issueBody(row, data);
  const created = await adminKeyApi('POST', '/api/warden/admin/create-api-key', { body });
  const form = row.querySelector('.key-issue-form');
  form.reset();
  updateRateFields(form);
  const box = row.querySelector('.new-key');
  showNewKey(box, created, `New key “${body.name}” for ${email}`);
  await loadUserKeys(row);
  box.querySelector('.new-key-heading').focus();
  announce(`Issued the API key “${body.name}” for ${email}. Copy it now: it will not be shown again.`);
}

async function revokeUserKey(row, item) {
  const name = keyName(state.users.keys.get(row.dataset.id)?.get(item.dataset.id));
  const { email } = userOf(row);
  try {
    await adminKeyApi('POST', '/api/warden/admin/delete-api-key', {
      body: { keyId: item.dataset.id, userId: row.dataset.id },
    });
  } catch (error) {
    if (error.code !== 'KEY_NOT_FOUND') throw error;
    await loadUserKeys(row);
    setText(alertOf(row.querySelector('.keys-group')), error.message);
    row.querySelector('.keys-heading').focus();
    return;
  }
  await loadUserKeys(row);
  row.querySelector('.keys-heading').focus();
  announce(`Revoked the API key “${name}” of ${email}.`);
}

/** The buttons of a user's keys; whether `button` was one of them. */
function onUserKeysClick(row, button) {
  if (button.matches('.keys')) {
    toggleKeys(row);
    return true;
  }
  if (!button.closest('.user-keys')) return false;
  if (onNewKeyClick(button)) return true;
  const item = button.closest('.api-key');
  if (!item) return true;
  if (button.matches('.revoke-key')) askToRevoke(item, true);
  else if (button.matches('.cancel-revoke')) askToRevoke(item, false);
  else if (button.matches('.confirm-revoke')) working(item, () => revokeUserKey(row, item), keysFailed);
  return true;
}

/** Typing a number of the rate limit chooses a limit of its own. */
function onUserInput(event) {
  const form = event.target.closest('.key-issue-form');
  if (!form) return;
  if (event.target.name === 'rateLimitMax' || event.target.name === 'rateLimitSeconds') {
    form.elements.rateLimit.value = 'custom';
  }
  updateRateFields(form);
}

/** Creates a user for a program: no password, so it never signs in; it acts through the keys issued to it. */
async function createServiceAccount(data) {
  const { user } = await api('POST', '/api/auth/admin/create-user', {
    body: {
      name: String(data.get('name') ?? '').trim(),
      email: String(data.get('email') ?? '').trim(),
      role: data.get('role'),
    },
  });
  $('service-account-form').reset();
  announce(`Created the service account ${user.email}. Issue it an API key below.`);
  // The list shows the new account alone, its keys open for a first one.
  $('user-search-form').elements.search.value = user.email;
  state.users.search = user.email;
  state.users.offset = 0;
  await loadUsers();
  const row = userRows().find((shown) => shown.dataset.id === user.id);
  if (!row || !state.apiKeys) return;
  await toggleKeys(row);
  row.querySelector('.key-issue-form').elements.name.focus();
}

function onUserClick(event) {
  const row = event.target.closest('tbody.user');
  const button = event.target.closest('button');
  if (!row || !button) return;
  if (onUserKeysClick(row, button)) return;
  const group = button.closest('.panel-group');
  const onError = sessionEnded;
  if (button.matches('.manage')) togglePanel(row);
  else if (button.matches('.unban')) working(group, () => unbanUser(row), onError);
  else if (button.matches('.revoke')) working(group, () => revokeSessions(row), onError);
  else if (button.matches('.reset-two-factor')) working(group, () => resetTwoFactor(row), onError);
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
  else if (form.matches('.key-issue-form')) submitting(form, (data) => issueKey(row, data), keysFailed);
}

function onUserKeydown(event) {
  if (event.key !== 'Escape') return;
  const row = event.target.closest('tbody.user');
  if (!row) return;
  if (event.target.closest('.user-keys') || event.target.matches('.keys')) {
    const item = event.target.closest('.api-key');
    const open = row.querySelector('.keys').getAttribute('aria-expanded') === 'true';
    if (item && !item.querySelector('.key-confirm').hidden) askToRevoke(item, false);
    else if (open && row.querySelector('.new-key').hidden) {
      // A key shown once stays until Done: Escape does not take it away unseen.
      toggleKeys(row);
      row.querySelector('.keys').focus();
    }
    return;
  }
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
  $('passkey-sign-in').addEventListener('click', () => working($('sign-in-passkey'), signInWithPasskey, passkeysGone));
  handleSubmit('two-factor-form', verifySecondFactor, secondFactorFailed);
  $('use-totp').addEventListener('click', () => useSecondFactor('totp'));
  $('use-backup-code').addEventListener('click', () => useSecondFactor('backup'));
  for (const id of ['use-email-code', 'resend-email-code']) {
    $(id).addEventListener('click', () => working($('two-factor-form'), sendEmailCode, secondFactorFailed));
  }
  $('two-factor-to-sign-in').addEventListener('click', () => showAuth('sign-in'));
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
  users.addEventListener('input', onUserInput);
  users.addEventListener('change', onUserInput);
  users.addEventListener('focusin', onNewKeyFocus);
  handleSubmit('service-account-form', createServiceAccount, sessionEnded);
  $('sign-in-social').addEventListener('click', (event) => onProviderClick(event, false));
  $('sign-up-social').addEventListener('click', (event) => onProviderClick(event, true));
  $('accounts').addEventListener('click', onAccountsClick);
  handleSubmit('profile-form', saveProfile, sessionEnded);
  handleSubmit('email-form', changeEmail, sessionEnded);
  handleSubmit('password-form', changePassword, sessionEnded);
  handleSubmit('two-factor-enable-form', enableTwoFactor, sessionEnded);
  handleSubmit('totp-verify-form', confirmTwoFactor, sessionEnded);
  handleSubmit('backup-codes-form', makeBackupCodes, sessionEnded);
  handleSubmit('two-factor-disable-form', disableTwoFactor, sessionEnded);
  $('totp-cancel').addEventListener('click', cancelTwoFactorSetup);
  $('sessions-group').addEventListener('click', onSessionsClick);
  handleSubmit('passkey-add-form', addPasskey, (error) => passkeysGone(error) || sessionEnded(error));
  const passkeys = $('passkey-list');
  passkeys.addEventListener('click', onPasskeysClick);
  passkeys.addEventListener('submit', onPasskeysSubmit);
  passkeys.addEventListener('keydown', onPasskeysKeydown);
  const apiKeys = $('api-keys-group');
  apiKeys.addEventListener('click', onApiKeysClick);
  apiKeys.addEventListener('keydown', onApiKeysKeydown);
  apiKeys.addEventListener('focusin', onNewKeyFocus);
  handleSubmit('api-key-create-form', createApiKey, keysFailed);
  $('email-form').addEventListener('click', onNavClick);
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
  const [session, outbox, passkeys, apiKeys] = await Promise.all([
    api('GET', '/api/auth/get-session').catch((error) => error),
    outboxAvailable(),
    passkeysAvailable(),
    apiKeysAvailable(),
    loadProviders(),
  ]);
  state.outbox = outbox;
  state.passkeys = passkeys;
  $('sign-in-passkey').hidden = !passkeys;
  state.apiKeys = apiKeys;
  showApiKeyParts();
  if (session instanceof ApiError) {
    showAuth('sign-in', session.message);
    return;
  }
  state.user = session?.user ?? null;
  const emailLinkError = link.view === 'accounts' && Object.hasOwn(EMAIL_LINK_ERRORS, link.error)
    ? EMAIL_LINK_ERRORS[link.error]
    : '';
  if (link.token) {
    state.resetToken = link.token;
    showAuth('reset');
  } else if (emailLinkError) {
    if (state.user) await showAccounts(emailLinkError);
    else showAuth('sign-in', emailLinkError);
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
