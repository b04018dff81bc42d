// Lighthouse on the example site, in Debian's Chromium.
//
//   node lighthouse.mjs --bin PATH/TO/trustcard [--root SITE] [--out DIR]
//
// Picks a free port, builds the site with --base-url http://127.0.0.1:PORT (so canonical URLs are
// real ones) into target/lighthouse-site, serves it on that port and audits:
//   home       accessibility 100, best practices 100, performance ≥ 95
//   scorecard  accessibility 100, best practices 100
//   FAQ        SEO 100 (the only page meant to be indexed)
// with Lighthouse's default (mobile, simulated throttling) settings. HTML reports go to --out
// (default target/lighthouse). Prints every score; exits non-zero if a threshold is missed.
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { serve, freePort, option, CHROMIUM, CHROMIUM_ARGS, REPO } from "./lib.mjs";

const BIN = path.resolve(option("--bin", process.env.TRUSTCARD || path.join(REPO, "target/release/trustcard")));
const ROOT = path.resolve(option("--root", REPO));
const OUT = path.resolve(option("--out", path.join(REPO, "target/lighthouse")));
const SITE = path.join(REPO, "target/lighthouse-site");
const CHROME_FLAGS = ["--headless=new", ...CHROMIUM_ARGS];

async function firstScorecard() {
  const entries = await fs.readdir(path.join(SITE, "handoffs"), { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (!names.length) throw new Error("the example site has no scorecard");
  return `/handoffs/${names[0]}/`;
}

const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
await fs.rm(SITE, { recursive: true, force: true });
execFileSync(BIN, ["--root", ROOT, "build", "--quiet", "--output", SITE, "--base-url", origin], { stdio: "inherit" });
await fs.mkdir(OUT, { recursive: true });

const targets = [
  { name: "home", url: "/", want: { accessibility: 100, "best-practices": 100, performance: 95 } },
  { name: "scorecard", url: await firstScorecard(), want: { accessibility: 100, "best-practices": 100 } },
  { name: "faq", url: "/faq/", want: { seo: 100 } },
];

const server = await serve(SITE, port);
const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: CHROME_FLAGS, logLevel: "silent" });
const failures = [];
const rows = [];
try {
  for (const target of targets) {
    const started = Date.now();
    const result = await lighthouse(origin + target.url, {
      port: chrome.port,
      output: "html",
      logLevel: "error",
      onlyCategories: ["performance", "accessibility", "best-practices", "seo"],
    });
    const { lhr } = result;
    await fs.writeFile(path.join(OUT, `${target.name}.html`), result.report);
    if (lhr.runtimeError) failures.push(`${target.name}: Lighthouse runtime error ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
    const scores = Object.fromEntries(Object.entries(lhr.categories).map(([key, c]) => [key, c.score === null ? null : Math.round(c.score * 100)]));
    rows.push({ target, scores, seconds: ((Date.now() - started) / 1000).toFixed(1) });
    for (const [category, min] of Object.entries(target.want)) {
      const score = scores[category];
      if (score === null || score === undefined || score < min) {
        // Name the audits that cost points, to make the failure actionable.
        const refs = lhr.categories[category] ? lhr.categories[category].auditRefs : [];
        const lost = refs
          .filter((ref) => ref.weight > 0 && lhr.audits[ref.id] && lhr.audits[ref.id].score !== null && lhr.audits[ref.id].score < 1)
          .map((ref) => `${ref.id} (${lhr.audits[ref.id].displayValue || lhr.audits[ref.id].score})`);
        failures.push(`${target.name} ${target.url}: ${category} ${score}, want ≥ ${min}${lost.length ? ` — failing audits: ${lost.join(", ")}` : ""}`);
      }
    }
  }
} finally {
  await chrome.kill();
  await server.close();
}

const cats = ["performance", "accessibility", "best-practices", "seo"];
console.log(`\n${"page".padEnd(40)} ${cats.map((c) => c.padStart(16)).join("")}`);
for (const { target, scores, seconds } of rows) {
  const cells = cats.map((c) => {
    const mark = target.want[c] !== undefined ? (scores[c] >= target.want[c] ? " ✓" : " ✗") : "  ";
    return `${scores[c] ?? "–"}${mark}`.padStart(16);
  });
  console.log(`${`${target.name} ${target.url}`.slice(0, 39).padEnd(40)} ${cells.join("")}   (${seconds}s)`);
}
console.log(`(✓/✗ mark the required scores; reports in ${path.relative(process.cwd(), OUT) || OUT})`);
if (failures.length) {
  console.log(`\nLighthouse thresholds missed:\n  - ${failures.join("\n  - ")}`);
}
const checks = rows.reduce((n, r) => n + Object.keys(r.target.want).length, 0);
console.log(`${checks - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
