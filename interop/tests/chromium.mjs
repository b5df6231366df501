// Debian's Chromium, driven by playwright-core, the way every browser test here launches it: headless, a profile of its
// own in a temporary directory, light colours and no animations, so screenshots and timings are steady.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

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
