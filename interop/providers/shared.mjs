// What the two identity-provider harness servers (oidc.mjs, github.mjs) share: plain HTML pages, form bodies, a
// loopback listener that stops cleanly, the command-line mode, and a browserless walk through their sign-in pages.

import { createServer } from "node:http";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { CookieJar } from "../tests/helpers.mjs";

/** Text made safe for HTML element content and attribute values. */
export function escapeHtml(value) {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}

/** A whole page: no scripts and no outside resources, so it renders the same offline and in any browser. */
export function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; }
  label { display: block; margin-top: 1rem; }
  input { display: block; width: 100%; box-sizing: border-box; padding: 0.4rem; }
  button { margin-top: 1.2rem; margin-right: 0.5rem; padding: 0.4rem 1rem; }
  [role=alert] { color: #b00020; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** Answers a request with an HTML page. */
export function sendHtml(res, status, html) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

/** Answers a request with JSON. */
export function sendJson(res, status, value, headers = {}) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(value));
}

/** Answers with a redirect (303, so that a browser follows a POST with a GET). */
export function redirect(res, location, headers = {}) {
  res.writeHead(303, { location, "content-length": "0", ...headers });
  res.end();
}

/** The request body as a string. */
export async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** A urlencoded form body (what HTML forms send) as URLSearchParams. */
export async function readForm(req) {
  return new URLSearchParams(await readBody(req));
}

/**
 * Starts a node:http server on 127.0.0.1 (port 0 picks a free one) and resolves to `{ port, stop }`; `stop()` also
 * cuts open keep-alive connections, which fetch leaves behind and which would otherwise hold `close()` up.
 */
export async function listen(handler, port) {
  const server = createServer(handler);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  let stopped;
  return {
    port: server.address().port,
    stop() {
      stopped ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

/** True when this module file is the script node was started with (`node interop/providers/x.mjs ...`). */
export function isMain(importMetaUrl) {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(importMetaUrl));
  } catch {
    return false;
  }
}

/**
 * The command-line mode: starts a server, prints one JSON line on stdout once it listens, and stops on SIGTERM or
 * SIGINT. Anything libraries log goes to stderr, so stdout carries that one line only. The signal handlers come first:
 * a caller may send SIGTERM the moment it reads the line, before a handler installed after printing would be in place.
 */
export async function runCli(start, line) {
  console.log = console.error;
  console.info = console.error;
  let server;
  const stop = async () => {
    await server?.stop();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    server = await start();
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(line(server))}\n`);
}

/** The value that follows `--name` at each place it appears in `args`. */
export function optionValues(args, name) {
  const values = [];
  args.forEach((arg, i) => {
    if (arg === name) {
      if (i + 1 >= args.length) throw new Error(`${name} needs a value`);
      values.push(args[i + 1]);
    }
  });
  return values;
}

/** `id:secret:uri[,uri...]`, as --client takes it. */
export function parseClient(value) {
  const match = /^([^:]+):([^:]+):(.+)$/.exec(value);
  if (!match) throw new Error(`--client ${value}: expected <id>:<secret>:<redirect_uri>[,<redirect_uri>...]`);
  return { clientId: match[1], clientSecret: match[2], redirectUris: match[3].split(",") };
}

/** The one form of a page: its action, resolved against the page's URL, and the values of its hidden inputs. */
export function formOf(html, pageUrl) {
  const form = /<form\b[^>]*\baction="([^"]*)"/i.exec(html);
  if (!form) return undefined;
  const hidden = new URLSearchParams();
  for (const input of html.matchAll(/<input\b[^>]*>/gi)) {
    if (!/\btype="hidden"/i.test(input[0])) continue;
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? "";
    if (name) hidden.append(unescapeHtml(name), unescapeHtml(value));
  }
  return { action: new URL(unescapeHtml(form[1]), pageUrl), hidden };
}

function unescapeHtml(value) {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]);
}

/** The text of a page's `role="alert"` element, or undefined. */
export function alertOf(html) {
  const alert = /<[a-z]+\b[^>]*\brole="alert"[^>]*>([^<]*)</i.exec(html);
  return alert ? unescapeHtml(alert[1]).trim() : undefined;
}

/**
 * Walks a browser's way through a provider's pages with fetch and a cookie jar: follows redirects while they stay on
 * the provider's `ownPaths`, and on each page with a form lets `answer(form, html)` pick the fields to post (it
 * returns URLSearchParams, or throws to give up). Resolves to the first redirect that leaves the provider (the
 * client's redirect_uri with `code` or `error`), without requesting it.
 */
export async function walkPages(startUrl, ownPaths, answer) {
  const jar = new CookieJar();
  const start = new URL(startUrl);
  const own = (url) => url.origin === start.origin && ownPaths.some((prefix) => url.pathname.startsWith(prefix));
  let url = start;
  let body;
  for (let step = 0; step < 30; step += 1) {
    const headers = {};
    const cookie = jar.header();
    if (cookie) headers.cookie = cookie;
    if (body) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await fetch(url, { method: body ? "POST" : "GET", headers, body, redirect: "manual" });
    jar.store(response.headers);
    body = undefined;
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (!own(next)) return next.href;
      url = next;
      continue;
    }
    const html = await response.text();
    const form = response.status === 200 ? formOf(html, url) : undefined;
    if (!form) {
      throw new Error(`${url.href} answered ${response.status} without a form: ${html.slice(0, 500)}`);
    }
    body = answer(form, html);
    url = form.action;
  }
  throw new Error(`no redirect out of the provider after 30 steps, from ${startUrl}`);
}
