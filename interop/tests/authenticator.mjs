// An authenticator app for the two-factor tests. Codes come from the otpauth:// URI a server handed out, computed by
// two implementations written elsewhere that must agree on every code: PyPI's pyotp (in the venv, from
// requirements.txt) and the OATH Toolkit's `oathtool` (Debian's package, which interop/run installs).

import assert from "node:assert/strict";

import { run, venvPython } from "./helpers.mjs";
import { sleep } from "./processes.mjs";

const PYOTP = `
import sys, pyotp
totp = pyotp.parse_uri(sys.argv[1])
first, count = int(sys.argv[2]), int(sys.argv[3])
for step in range(first, first + count):
    print(totp.at(step * totp.interval))
`;

/** The parts of an `otpauth://totp/<issuer>:<account>?secret=…` URI. */
export function parseTotpUri(uri) {
  const url = new URL(uri);
  assert.equal(url.protocol, "otpauth:", uri);
  assert.equal(url.host, "totp", uri);
  const label = decodeURIComponent(url.pathname.slice(1));
  const colon = label.indexOf(":");
  return {
    labelIssuer: colon < 0 ? null : label.slice(0, colon),
    account: colon < 0 ? label : label.slice(colon + 1),
    secret: url.searchParams.get("secret"),
    issuer: url.searchParams.get("issuer"),
    digits: Number(url.searchParams.get("digits") ?? 6),
    period: Number(url.searchParams.get("period") ?? 30),
    algorithm: url.searchParams.get("algorithm") ?? "SHA1",
    parameters: [...url.searchParams.keys()],
  };
}

/** The codes of `count` time steps from `first` on, from pyotp and from oathtool, which must agree. */
export async function totpRange(uri, first, count) {
  const { secret, digits, period, algorithm } = parseTotpUri(uri);
  assert.equal(algorithm, "SHA1", "oathtool is asked for HMAC-SHA1 codes");
  const python = await run(venvPython, ["-c", PYOTP, uri, String(first), String(count)]);
  assert.equal(python.code, 0, `pyotp: ${python.stderr}`);
  const oath = await run("oathtool", [
    "--totp",
    "--base32",
    `--digits=${digits}`,
    `--time-step-size=${period}s`,
    `--now=@${first * period}`,
    `--window=${count - 1}`,
    secret,
  ]);
  assert.equal(oath.code, 0, `oathtool: ${oath.stderr}`);
  const [fromPyotp, fromOathtool] = [python.stdout.trim().split("\n"), oath.stdout.trim().split("\n")];
  assert.equal(fromPyotp.length, count);
  for (const code of fromPyotp) assert.match(code, new RegExp(`^\\d{${digits}}$`));
  assert.deepEqual(fromOathtool, fromPyotp, "oathtool and pyotp agree on the codes");
  return fromPyotp;
}

/** The code of one time step. */
export async function totpAt(uri, step) {
  return (await totpRange(uri, step, 1))[0];
}

/**
 * One user's authenticator for one URI. `fresh()` hands out the code of a time step it has not handed out before:
 * the current step, else the next one (both inside the ±1 step window Better Auth verifies with), else it waits for
 * the next step to begin. A server that refuses a code used once is never handed the same code twice this way.
 */
export class Authenticator {
  #last = -Infinity;

  constructor(uri) {
    this.uri = uri;
    this.period = parseTotpUri(uri).period;
  }

  get secret() {
    return parseTotpUri(this.uri).secret;
  }

  step() {
    return Math.floor(Date.now() / 1000 / this.period);
  }

  async fresh() {
    const step = Math.max(this.step(), this.#last + 1);
    while (step > this.step() + 1) {
      const next = (this.step() + 1) * this.period * 1000;
      await sleep(next - Date.now() + 50);
    }
    this.#last = step;
    return totpAt(this.uri, step);
  }

  /**
   * A right code without spending it: the one `fresh()` would hand out next when that is no further ahead than the
   * next step, else the current step's. For requests a server must refuse before it looks at the code.
   */
  async current() {
    return totpAt(this.uri, Math.min(Math.max(this.step(), this.#last + 1), this.step() + 1));
  }

  /** A code of the right form that no step from two before now to two after is. */
  async wrong() {
    const near = new Set(await totpRange(this.uri, this.step() - 2, 5));
    const digits = parseTotpUri(this.uri).digits;
    for (let d = 0; d <= 9; d += 1) {
      const code = String(d).repeat(digits);
      if (!near.has(code)) return code;
    }
    throw new Error("unreachable: ten codes cannot all be near");
  }
}
