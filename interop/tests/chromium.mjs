// Debian's Chromium, driven by playwright-core, the way every browser test here launches it: headless, a profile of its
// own in a temporary directory, light colours and no animations, so screenshots and timings are steady.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";

import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Default time for each page action or wait. */
export const TIMEOUT = 15_000;

/** A browser with a fresh profile: `{ context, close }`; `close` also removes the profile. */
export async function launchChromium({ viewport = { width: 1100, height: 820 } } = {}) {
  const profileDir = await mkdtemp(path.join(tmpdir(), "warden-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport,
      deviceScaleFactor: 1,
      colorScheme: "light",
      reducedMotion: "reduce",
    });
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true });
    throw error;
  }
  context.setDefaultTimeout(TIMEOUT);
  return {
    context,
    async close() {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}

/**
 * What every browser test checks besides its own assertions: `watch(page)` records a page's script errors and
 * Content-Security-Policy violations, `watchedPage(context)` opens a page so watched, and `step(name, body)` is a test
 * that also fails on what was recorded during it. A failed step (or `failed = true` set by the test's own `before`)
 * tells the test's `after` to print Warden's logs.
 */
export function watchedSteps() {
  const run = {
    failed: false,
    problems: [],
    watch(page) {
      page.on("pageerror", (error) => run.problems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) {
          run.problems.push(`CSP: ${message.text()}`);
        }
      });
      return page;
    },
    async watchedPage(context) {
      return run.watch(await context.newPage());
    },
    step(name, body) {
      test(name, async () => {
        run.problems = [];
        try {
          await body();
          assert.deepEqual(run.problems, [], "no script errors or CSP violations");
        } catch (error) {
          run.failed = true;
          throw error;
        }
      });
    },
  };
  return run;
}

/** A platform authenticator as phones and laptops have: CTAP2, built in, resident keys, verifying its user. */
export const PLATFORM_AUTHENTICATOR = {
  protocol: "ctap2",
  transport: "internal",
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

/**
 * Gives `page` Chromium's virtual WebAuthn authenticator (DevTools protocol `WebAuthn.addVirtualAuthenticator`), so
 * passkey prompts are answered without a person: `{ cdp, authenticatorId }` to inspect or change it.
 */
export async function addVirtualAuthenticator(page, options = PLATFORM_AUTHENTICATOR) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", { options });
  return { cdp, authenticatorId };
}
