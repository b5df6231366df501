// What the wire tests (two-factor-wire, passkey-wire) share: one step played on one side as plain `fetch`, its answer
// summarised, and two answers compared, after ../../shared/tools/wirediff.mjs (that file is a command, not a module):
// the status, the names and attributes of Set-Cookie (not their values), the auth headers, and the JSON body, whose
// comparison each test gives (`diffBody`), its values compared by kind where they are random (ids, tokens, dates).

import { CookieJar } from "./helpers.mjs";

/** Values compared by kind, not as written: JWTs, dates, UUIDs, tokens and ids, hashes. */
export const KINDS = [
  [/^eyJ[\w-]+\.[\w-]+\.[\w-]*$/, "<jwt>"],
  [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, "<timestamp>"],
  [/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "<uuid>"],
  [/^[A-Za-z0-9]{20,64}(\.[A-Za-z0-9+/=%_-]{20,})?$/, "<token-or-id>"],
  [/^[0-9a-f]{64}$/, "<hash>"],
];

/** A value's kind among `kinds`, else the value itself. */
export const kindAmong = (kinds, value) =>
  typeof value === "string" ? (kinds.find(([re]) => re.test(value))?.[1] ?? value) : value;

export function parseCookie(line) {
  const [pair, ...rest] = line.split(";").map((x) => x.trim());
  const i = pair.indexOf("=");
  const attrs = {};
  for (const a of rest) {
    const j = a.indexOf("=");
    attrs[(j < 0 ? a : a.slice(0, j)).toLowerCase()] = j < 0 ? true : a.slice(j + 1);
  }
  return { name: pair.slice(0, i), value: pair.slice(i + 1), attrs };
}

/** Set-Cookie as names and attributes (an Expires date only as present), sorted, e.g. `a[max-age=600,path=/]`. */
export const cookieSummary = (lines) =>
  lines
    .map(parseCookie)
    .map(
      (c) =>
        `${c.name}[${Object.keys(c.attrs)
          .sort()
          .map((k) => (k === "expires" ? k : `${k}=${c.attrs[k]}`))
          .join(",")}]${c.value ? "" : "(cleared)"}`,
    )
    .sort();

/** The differences between two sides' answers to one step, as lines (none: the same); `diffBody(a, b, out)`. */
export function compareAnswers(a, b, diffBody) {
  const d = [];
  if (a.error || b.error) {
    if (a.error) d.push(`A could not play the step: ${a.error}`);
    if (b.error) d.push(`B could not play the step: ${b.error}`);
    return d;
  }
  if (a.status !== b.status) d.push(`status ${a.status} vs ${b.status}`);
  const [ca, cb] = [a.cookies.join(" "), b.cookies.join(" ")];
  if (ca !== cb) d.push(`cookies A: ${ca || "-"} | B: ${cb || "-"}`);
  for (const [h, va] of Object.entries(a.headers)) {
    if (va !== b.headers[h]) d.push(`${h}: ${va ?? "-"} vs ${b.headers[h] ?? "-"}`);
  }
  if (a.json !== undefined || b.json !== undefined) diffBody(a.json, b.json, d);
  else if (a.text !== b.text) d.push(`text body differs: ${JSON.stringify(a.text)} vs ${JSON.stringify(b.text)}`);
  return d;
}

/** `jar`'s cookies sent and kept as a browser would, with no `Origin` header. */
function withoutOrigin(jar) {
  return async (url, init) => {
    const headers = new Headers(init.headers);
    const cookie = jar.header();
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(url, { ...init, headers });
    jar.store(response.headers);
    return response;
  };
}

/**
 * Plays `step` (`{ path, method?, body? (a value, or a function of the side), headers?, jar?, noOrigin? }`) on `side`
 * (its `target` and `jar(name)`), from the browser `step.jar` (a fresh one without), and summarises the answer. The
 * request names the side's origin unless `noOrigin` (a client that sends no `Origin` header, as a script can).
 */
export async function sendStep(side, step) {
  const body = typeof step.body === "function" ? await step.body(side) : step.body;
  const headers = { accept: "application/json", ...step.headers };
  let payload;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    headers["content-type"] ??= "application/json";
  }
  const jar = step.jar ? side.jar(step.jar) : new CookieJar();
  const send = step.noOrigin ? withoutOrigin(jar) : jar.fetch(side.target.origin);
  const response = await send(`${side.target.url}/api/auth${step.path}`, {
    method: step.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body: payload,
    redirect: "manual",
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const header = (name, shown) => {
    const value = response.headers.get(name);
    return value === null ? null : shown(value);
  };
  return {
    status: response.status,
    cookies: cookieSummary(response.headers.getSetCookie()),
    headers: {
      "set-auth-token": header("set-auth-token", () => "present"),
      "set-auth-jwt": header("set-auth-jwt", () => "present"),
      "content-type": header("content-type", (v) => v.split(";")[0]),
    },
    json,
    text,
  };
}
