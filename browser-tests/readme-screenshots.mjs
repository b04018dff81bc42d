// Regenerates the README screenshots from a built example site (light scheme, 1280 wide):
//
//   node readme-screenshots.mjs [--site DIR] [--out DIR] [--scorecard SLUG]
//
// Defaults: --site ../target/browser-site (built by .ci/browser), --out ../docs/screenshots,
// --scorecard copperline-orbit-migration (a "Needs work" handoff: every grade, fixes, a timeline).
import { chromium } from "playwright-core";
import { promises as fs } from "node:fs";
import path from "node:path";
import { serve, option, CHROMIUM, CHROMIUM_ARGS, REPO } from "./lib.mjs";

const SITE = path.resolve(option("--site", path.join(REPO, "target/browser-site")));
const OUT = path.resolve(option("--out", path.join(REPO, "docs/screenshots")));
const SCORECARD = option("--scorecard", "copperline-orbit-migration");

// Each shot ends just below a section, so the picture does not stop mid-table.
const shots = [
  { file: "home.png", url: "/", endAfter: ".signals" },
  { file: "scorecard.png", url: `/handoffs/${SCORECARD}/`, endAfter: ".fixes" },
];

await fs.mkdir(OUT, { recursive: true });
const server = await serve(SITE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light", deviceScaleFactor: 1, reducedMotion: "reduce" });
  const page = await context.newPage();
  for (const shot of shots) {
    const response = await page.goto(server.origin + shot.url, { waitUntil: "load" });
    if (!response || response.status() !== 200) throw new Error(`${shot.url}: HTTP ${response && response.status()}`);
    const bottom = await page.evaluate((selector) => {
      const el = document.querySelector(selector);
      return el ? Math.ceil(el.getBoundingClientRect().bottom + window.scrollY) + 32 : 1200;
    }, shot.endAfter);
    const file = path.join(OUT, shot.file);
    await page.screenshot({ path: file, clip: { x: 0, y: 0, width: 1280, height: bottom }, fullPage: true });
    console.log(`${path.relative(process.cwd(), file)}: 1280×${bottom} from ${shot.url}`);
  }
} finally {
  await browser.close();
  await server.close();
}
