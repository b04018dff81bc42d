// Browser checks of the default theme against a built example site, in Debian's headless Chromium.
//
//   node browser.test.mjs [--site DIR] [--out DIR]
//
// Serves DIR (default ../target/browser-site) on 127.0.0.1 and checks every page type at desktop
// (1280×800) and phone (360×740) widths: no console error, no failed or external request, no
// page-level horizontal overflow, no serious or critical axe-core violation, one h1, a working skip
// link. Then the meeting view's keyboard and button navigation, the handoff list's filters and
// sorting, the pages without JavaScript, and print (navigation hidden, one PDF page per meeting
// card). Screenshots and PDFs go to --out (default ../target/screenshots). Exits non-zero on any
// failure; the last line is "N passed, M failed".
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import { serve, countPdfPages, option, CHROMIUM, CHROMIUM_ARGS, REPO } from "./lib.mjs";

const args = process.argv.slice(2);
const SITE = path.resolve(option("--site", path.join(REPO, "target/browser-site")));
const OUT = path.resolve(option("--out", path.join(REPO, "target/screenshots")));
const ONLY = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
const VNU = !args.includes("--no-vnu");

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 360, height: 740 },
};

const started = Date.now();
const results = [];

function elapsed(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

/** Runs one named check, records the result and returns its log text. */
async function record(name, fn) {
  if (ONLY && !ONLY.test(name)) return null;
  const t = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    return `ok   ${name} (${elapsed(t)})${note ? ` — ${note}` : ""}`;
  } catch (error) {
    results.push({ name, ok: false, error });
    const message = String(error && error.message ? error.message : error)
      .split("\n")
      .map((line) => `     ${line}`)
      .join("\n");
    return `FAIL ${name} (${elapsed(t)})\n${message}`;
  }
}

async function check(name, fn) {
  const line = await record(name, fn);
  if (line) console.log(line);
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function until(fn, { timeout = 3000, interval = 50 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
}

// ---------------------------------------------------------------------------------------------
// Which pages to visit

async function subdirs(dir) {
  try {
    const entries = await fs.readdir(path.join(SITE, dir), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function firstWithIndex(dir) {
  for (const name of await subdirs(dir)) {
    try {
      await fs.access(path.join(SITE, dir, name, "index.html"));
      return `/${dir}/${name}/`;
    } catch {
      /* next */
    }
  }
  throw new Error(`no page under ${dir}/ in ${SITE}`);
}

/** The scorecard with the most content: the hardest one to lay out. */
async function richestScorecard() {
  let best = null;
  for (const name of await subdirs("handoffs")) {
    const file = path.join(SITE, "handoffs", name, "index.html");
    try {
      const size = (await fs.stat(file)).size;
      if (!best || size > best.size) best = { size, url: `/handoffs/${name}/` };
    } catch {
      /* not a page */
    }
  }
  if (!best) throw new Error(`no scorecard under handoffs/ in ${SITE}`);
  return best.url;
}

async function allPages(dir = "", found = []) {
  const entries = await fs.readdir(path.join(SITE, dir), { withFileTypes: true });
  for (const entry of entries) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) await allPages(rel, found);
    else if (entry.name === "index.html") found.push(`/${dir ? `${dir}/` : ""}`);
  }
  return found.sort();
}

async function pageTypes() {
  return {
    home: "/",
    handoffs: "/handoffs/",
    scorecard: await richestScorecard(),
    bands: "/bands/",
    band: await firstWithIndex("bands"),
    trends: "/trends/",
    trend: (await subdirs("trends")).includes("mean_score") ? "/trends/mean_score/" : await firstWithIndex("trends"),
    partners: "/partners/",
    partner: await firstWithIndex("partners"),
    sellers: "/sellers/",
    seller: await firstWithIndex("sellers"),
    faq: "/faq/",
    review: "/review/",
    404: "/no-such-page",
  };
}

// ---------------------------------------------------------------------------------------------
// One page: errors, requests, overflow, structure, axe

/** Opens a page that records console errors, page errors, failed and external requests. */
async function openPage(context, origin) {
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      // Chromium logs the 404 page's own status as a console error; that one is expected.
      if (page.__expect404 && /status of 404/.test(msg.text()) && msg.location().url === page.__url) return;
      const where = msg.location() && msg.location().url ? ` (${msg.location().url})` : "";
      problems.push(`console error: ${msg.text()}${where}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    const failure = request.failure();
    if (failure && failure.errorText === "net::ERR_BLOCKED_BY_CLIENT" && !request.url().startsWith(origin)) return;
    // Chromium fetches the favicon after load; moving on to the next URL cancels it.
    if (failure && failure.errorText === "net::ERR_ABORTED" && /\/favicon\.svg(\?|$)/.test(request.url())) return;
    problems.push(`request failed: ${request.url()} ${failure ? failure.errorText : ""}`);
  });
  page.on("response", (response) => {
    const status = response.status();
    if (status < 400) return;
    // The 404 page itself is expected to come with status 404.
    if (response.request().isNavigationRequest() && page.__expect404) return;
    problems.push(`HTTP ${status}: ${response.url()}`);
  });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    problems.push(`external request: ${url}`);
    return route.abort("blockedbyclient");
  });
  return { page, problems };
}

/** Navigates, remembering what counts as expected for the listeners above. */
async function visit(page, url, { expect404 = false } = {}) {
  page.__expect404 = expect404;
  page.__url = url;
  return page.goto(url, { waitUntil: "load" });
}

async function overflow(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    if (root.scrollWidth <= width) return null;
    // Name the widest elements that stick out, to make the failure actionable.
    const culprits = [];
    for (const el of document.body.querySelectorAll("*")) {
      const rect = el.getBoundingClientRect();
      if (rect.right > width + 1 && rect.width > 0) {
        let scrolled = false;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const style = getComputedStyle(p);
          if (style.overflowX !== "visible" && style.overflowX !== "clip" && p.scrollWidth > p.clientWidth - 1) {
            scrolled = p.getBoundingClientRect().right <= width + 1;
            if (scrolled) break;
          }
        }
        if (scrolled) continue;
        const id = el.id ? `#${el.id}` : "";
        const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
        culprits.push(`${el.tagName.toLowerCase()}${id}${cls} right=${Math.round(rect.right)}`);
        if (culprits.length >= 6) break;
      }
    }
    return `scrollWidth ${root.scrollWidth} > clientWidth ${width}: ${culprits.join(", ")}`;
  });
}

async function runAxe(page, rules = null) {
  const loaded = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!loaded) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async (rules) => {
    const options = { resultTypes: ["violations"] };
    if (rules) options.runOnly = { type: "rule", values: rules };
    const result = await window.axe.run(document, options);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}${n.failureSummary ? ` — ${n.failureSummary.split("\n").slice(1, 2).join(" ").trim()}` : ""}`),
    }));
  }, rules);
  return violations;
}

function describeViolations(violations) {
  return violations
    .map((v) => `axe ${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 5).join("\n  ")}${v.nodes.length > 5 ? `\n  … and ${v.nodes.length - 5} more` : ""}`)
    .join("\n");
}

const minorFindings = new Map();

/**
 * Loads `url` in an open page (from openPage; reused between URLs, which is much faster than a
 * new page each time) and runs every per-page check. Returns the list of failures.
 */
async function auditPage({ page, problems }, origin, url, { screenshot, axe = true, axeRules = null, structure = true, expect404 = false } = {}) {
  problems.length = 0;
  const response = await visit(page, origin + url, { expect404 });
  assert(response, `no response for ${url}`);
  const status = response.status();
  assert(expect404 ? status === 404 : status === 200, `${url}: HTTP ${status}`);
  const failures = [];
  const wide = await overflow(page);
  if (wide) failures.push(`horizontal overflow: ${wide}`);
  if (structure) {
    const facts = await page.evaluate(() => ({
      h1: document.querySelectorAll("h1").length,
      main: document.querySelectorAll("main").length,
      title: document.title,
      lang: document.documentElement.lang,
    }));
    if (facts.h1 !== 1) failures.push(`${facts.h1} h1 elements, want exactly 1`);
    if (facts.main !== 1) failures.push(`${facts.main} main elements, want exactly 1`);
    if (!facts.title) failures.push("empty <title>");
    if (!facts.lang) failures.push("no lang on <html>");
    await page.keyboard.press("Tab");
    const skip = await page.evaluate(() => {
      const el = document.activeElement;
      const rect = el.getBoundingClientRect();
      return {
        isSkip: el.classList.contains("skip-link") && el.getAttribute("href") === "#main",
        visible: rect.top >= 0 && rect.bottom <= innerHeight && rect.width > 0,
        outline: getComputedStyle(el).outlineStyle,
      };
    });
    if (!skip.isSkip) failures.push("the first Tab does not reach the skip link to #main");
    else if (!skip.visible) failures.push("the skip link is not visible when focused");
    else if (skip.outline === "none") failures.push("the focused skip link has no visible focus outline");
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
  }
  if (axe) {
    const violations = await runAxe(page, axeRules);
    const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    if (serious.length) failures.push(describeViolations(serious));
    for (const v of violations.filter((v) => !serious.includes(v))) {
      minorFindings.set(`${v.impact} ${v.id}`, `${url}: ${v.help} (${v.nodes[0]})`);
    }
  }
  if (screenshot) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, `${screenshot}.png`), fullPage: true });
  }
  return [...problems, ...failures];
}

function failIf(failures) {
  if (failures.length) throw new Error(failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Interactions

async function reviewKeyboard(browser, origin) {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
  try {
    const { page, problems } = await openPage(context, origin);
    await visit(page, origin + "/review/");
    const count = await page.locator(".review-card").count();
    assert(count >= 2, `want at least 2 meeting cards, found ${count}`);
    assert(await page.locator(".review-nav").isVisible(), "the Previous/Next bar is not shown with JavaScript on");

    const state = () =>
      page.evaluate(() => {
        const active = document.activeElement;
        const rect = active ? active.getBoundingClientRect() : null;
        return {
          active: active && active.id,
          top: rect ? Math.round(rect.top) : null,
          outline: active ? getComputedStyle(active).outlineStyle : "none",
          focusVisible: active ? active.matches(":focus-visible") : false,
          position: document.querySelector(".review-position").textContent.trim(),
          hash: location.hash,
        };
      });
    // Smooth scrolling may be on: wait until the card is focused and has stopped moving.
    const settled = async (id) => {
      let last = null;
      return until(async () => {
        const s = await state();
        const still = last !== null && last === s.top;
        last = s.top;
        return s.active === id && still && s.top >= 0 && s.top <= 140 ? s : null;
      }, { timeout: 4000, interval: 80 }).then(async (s) => s || state());
    };

    // Tab past the skip link and the header first, as a keyboard user would, then step.
    await page.keyboard.press("ArrowRight");
    let s = await settled("card-1");
    assert(s.active === "card-1" && s.top >= 0 && s.top <= 140, `first ArrowRight: want card-1 focused at the top, got ${JSON.stringify(s)}`);
    await page.keyboard.press("ArrowRight");
    s = await settled("card-2");
    assert(s.active === "card-2", `second ArrowRight: want card-2 focused, got ${JSON.stringify(s)}`);
    assert(s.top >= 0 && s.top <= 140, `card-2 not scrolled to the top of the screen: ${JSON.stringify(s)}`);
    assert(s.focusVisible && s.outline !== "none", `card-2 has no visible focus: ${JSON.stringify(s)}`);
    assert(s.position === `2 / ${count}`, `position reads "${s.position}", want "2 / ${count}"`);
    assert(s.hash === "#card-2", `URL hash is "${s.hash}", want #card-2`);
    await page.keyboard.press("j");
    s = await settled("card-3");
    assert(s.active === "card-3", `j: want card-3 focused, got ${JSON.stringify(s)}`);
    await page.keyboard.press("ArrowLeft");
    s = await settled("card-2");
    assert(s.active === "card-2", `ArrowLeft: want card-2 focused, got ${JSON.stringify(s)}`);
    await page.screenshot({ path: path.join(OUT, "review-keyboard-desktop.png") });

    // The on-screen buttons do the same.
    await page.getByRole("button", { name: "Next handoff" }).click();
    s = await settled("card-3");
    assert(s.active === "card-3", `Next button: want card-3 focused, got ${JSON.stringify(s)}`);
    await page.getByRole("button", { name: "Previous handoff" }).click();
    s = await settled("card-2");
    assert(s.active === "card-2", `Previous button: want card-2 focused, got ${JSON.stringify(s)}`);

    // Every card fits one 1280×800 screen once stepped to, and ArrowRight stops at the last.
    const tooTall = [];
    for (let i = 3; i <= count + 1; i += 1) {
      await page.keyboard.press("ArrowRight");
      const id = `card-${Math.min(i, count)}`;
      await settled(id);
      const fit = await page.evaluate((id) => {
        const card = document.getElementById(id);
        let bottom = 0;
        for (const el of card.querySelectorAll("*")) bottom = Math.max(bottom, el.getBoundingClientRect().bottom);
        return { bottom: Math.round(bottom), height: innerHeight };
      }, id);
      if (fit.bottom > fit.height) tooTall.push(`${id} ends at ${fit.bottom}px`);
    }
    s = await settled(`card-${count}`);
    assert(s.active === `card-${count}`, `after ArrowRight past the end: want card-${count}, got ${JSON.stringify(s)}`);
    assert(!tooTall.length, `meeting cards taller than the ${VIEWPORTS.desktop.height}px screen: ${tooTall.join(", ")}`);
    failIf(problems);
    return `${count} cards`;
  } finally {
    await context.close();
  }
}

async function reviewPhoneButtons(browser, origin) {
  const context = await browser.newContext({ viewport: VIEWPORTS.phone, hasTouch: true, isMobile: true });
  try {
    const { page, problems } = await openPage(context, origin);
    await visit(page, origin + "/review/");
    await page.getByRole("button", { name: "Next handoff" }).tap();
    await page.getByRole("button", { name: "Next handoff" }).tap();
    const s = await until(() =>
      page.evaluate(() => {
        const r = document.getElementById("card-2").getBoundingClientRect();
        return document.activeElement.id === "card-2" && r.top >= 0 && r.top < 140 ? { ok: true } : null;
      }),
    );
    assert(s, "two taps on Next do not bring card 2 to the top of the phone screen");
    const buttonsVisible = await page.evaluate(() => {
      const nav = document.querySelector(".review-nav").getBoundingClientRect();
      return nav.top >= 0 && nav.bottom <= innerHeight;
    });
    assert(buttonsVisible, "the Previous/Next bar scrolled away on the phone (it should stay in view)");
    const wide = await overflow(page);
    assert(!wide, `horizontal overflow: ${wide}`);
    await page.screenshot({ path: path.join(OUT, "review-phone-card-2.png") });
    failIf(problems);
  } finally {
    await context.close();
  }
}

async function handoffFilters(browser, origin) {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
  try {
    const { page, problems } = await openPage(context, origin);
    await visit(page, origin + "/handoffs/");
    const form = page.locator("form.filters");
    assert(await form.isVisible(), "the filter form is not shown with JavaScript on");
    const rows = page.locator("table.handoffs tbody tr");
    const total = await rows.count();
    assert(total > 1, `want several handoff rows, found ${total}`);
    const visibleRows = () =>
      page.$$eval("table.handoffs tbody tr", (trs) =>
        trs.filter((tr) => !tr.hidden && tr.getClientRects().length > 0).map((tr) => ({
          partner: tr.dataset.partner,
          seller: tr.dataset.seller,
          band: tr.dataset.band,
        })),
      );

    const partners = await page.$$eval("#filter-partner option", (os) => os.map((o) => o.value).filter(Boolean));
    assert(partners.length >= 2, `want at least 2 partners to choose from, found ${partners.length}`);
    const partner = partners[1];
    const expected = await page.$$eval("table.handoffs tbody tr", (trs, p) => trs.filter((tr) => tr.dataset.partner === p).length, partner);
    await page.getByLabel("Partner").selectOption(partner);
    let shown = await visibleRows();
    assert(shown.length === expected && expected > 0, `partner "${partner}": ${shown.length} rows visible, want ${expected}`);
    assert(shown.every((r) => r.partner === partner), `partner "${partner}": rows of other partners still visible`);
    const status = (await page.locator(".filter-status").textContent()).trim();
    assert(status === `Showing ${expected} of ${total} handoffs.`, `status reads "${status}"`);
    await page.screenshot({ path: path.join(OUT, "handoffs-filtered-desktop.png") });

    // Partner and band together, then Clear.
    const bands = await page.$$eval("#filter-band option", (os) => os.map((o) => o.value).filter(Boolean));
    let combined = false;
    for (const band of bands) {
      await page.getByLabel("Band").selectOption(band);
      shown = await visibleRows();
      assert(shown.every((r) => r.partner === partner && r.band === band), `partner + band "${band}": wrong rows visible`);
      if (shown.length) combined = true;
    }
    assert(combined, "no band shows any row for the chosen partner");
    await page.getByRole("button", { name: "Clear" }).click();
    await until(async () => (await visibleRows()).length === total);
    shown = await visibleRows();
    assert(shown.length === total, `after Clear: ${shown.length} of ${total} rows visible`);

    // Seller filter.
    const sellers = await page.$$eval("#filter-seller option", (os) => os.map((o) => o.value).filter(Boolean));
    await page.getByLabel("Seller").selectOption(sellers[0]);
    shown = await visibleRows();
    assert(shown.length > 0 && shown.every((r) => r.seller === sellers[0]), `seller "${sellers[0]}": wrong rows visible`);
    await page.getByRole("button", { name: "Clear" }).click();
    await until(async () => (await visibleRows()).length === total);

    // Sorting: Score ascending, then descending; Partner alphabetically.
    const column = async (index) =>
      page.$$eval(
        "table.handoffs tbody tr",
        (trs, i) => trs.map((tr) => (tr.cells[i].dataset.sort ?? tr.cells[i].textContent).trim()),
        index,
      );
    const headers = await page.$$eval("table.handoffs thead th", (ths) => ths.map((th) => th.textContent.trim().replace(/[↕↑↓]/g, "")));
    const scoreAt = headers.findIndex((h) => /^Score/.test(h));
    const partnerAt = headers.findIndex((h) => /^Partner/.test(h));
    const dateAt = headers.findIndex((h) => /^Date/.test(h));
    assert(scoreAt >= 0 && partnerAt >= 0 && dateAt >= 0, `unexpected headers: ${headers.join(", ")}`);
    const sortButton = (name) => page.locator("table.handoffs thead th").nth(name).locator("button.sort");
    await sortButton(scoreAt).click();
    let values = (await column(scoreAt)).map(Number);
    assert(values.every((v, i) => i === 0 || values[i - 1] <= v), `Score ascending is not sorted: ${values.join(",")}`);
    assert((await page.locator("table.handoffs thead th").nth(scoreAt).getAttribute("aria-sort")) === "ascending", "Score header lacks aria-sort=ascending");
    await sortButton(scoreAt).click();
    values = (await column(scoreAt)).map(Number);
    assert(values.every((v, i) => i === 0 || values[i - 1] >= v), `Score descending is not sorted: ${values.join(",")}`);
    await sortButton(partnerAt).click();
    const names = await column(partnerAt);
    assert(names.every((v, i) => i === 0 || names[i - 1].localeCompare(v, undefined, { sensitivity: "base" }) <= 0), `Partner ascending is not sorted: ${names.join(",")}`);
    // Keyboard: the sort control is a button, so Enter works.
    await sortButton(dateAt).focus();
    await page.keyboard.press("Enter");
    const dates = await column(dateAt);
    assert(dates.every((v, i) => i === 0 || dates[i - 1] <= v), `Date ascending (Enter key) is not sorted: ${dates.join(",")}`);
    // Sorting and filtering together.
    await page.getByLabel("Partner").selectOption(partner);
    shown = await visibleRows();
    assert(shown.length === expected && shown.every((r) => r.partner === partner), "filter after sorting shows the wrong rows");
    failIf(problems);
    return `${total} rows, partner "${partner}" → ${expected}`;
  } finally {
    await context.close();
  }
}

async function withoutJavaScript(browser, origin, types) {
  const context = await browser.newContext({ viewport: VIEWPORTS.phone, javaScriptEnabled: false });
  const failures = [];
  try {
    const { page, problems } = await openPage(context, origin);
    for (const [type, url] of Object.entries(types)) {
      problems.length = 0;
      await visit(page, origin + url, { expect404: type === "404" });
      failures.push(...problems.map((p) => `${type}: ${p}`));
      const wide = await overflow(page);
      if (wide) failures.push(`${type}: horizontal overflow without JavaScript: ${wide}`);
      if (type === "handoffs") {
        if (await page.locator("form.filters").isVisible()) failures.push("handoffs: the filter form shows without JavaScript (it cannot work)");
        const visible = await page.locator("table.handoffs tbody tr:visible").count();
        const all = await page.locator("table.handoffs tbody tr").count();
        if (visible !== all || all === 0) failures.push(`handoffs: ${visible} of ${all} rows visible without JavaScript`);
      }
      if (type === "review") {
        if (await page.locator(".review-nav").isVisible()) failures.push("review: Previous/Next buttons show without JavaScript");
        const cards = await page.locator(".review-card:visible").count();
        if (cards < 2) failures.push(`review: ${cards} cards visible without JavaScript`);
        await page.screenshot({ path: path.join(OUT, "review-nojs-phone.png") });
      }
    }
  } finally {
    await context.close();
  }
  failIf(failures);
}

async function print(browser, origin, types) {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
  try {
    const { page, problems } = await openPage(context, origin);
    const notes = [];
    for (const type of ["scorecard", "home", "handoffs", "review"]) {
      await visit(page, origin + types[type]);
      await page.emulateMedia({ media: "print" });
      const hidden = await page.evaluate(() =>
        [".site-nav", ".skip-link", ".review-nav", "form.filters"].map((sel) => {
          const el = document.querySelector(sel);
          return { sel, shown: !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden" };
        }),
      );
      const shown = hidden.filter((h) => h.shown).map((h) => h.sel);
      assert(!shown.length, `${type}: printed with ${shown.join(", ")} visible`);
      if (type === "scorecard") {
        // Grades stay distinguishable without colour: each carries its word.
        const grades = await page.$$eval("table.components .grade", (els) => els.map((e) => e.textContent.trim().toLowerCase()));
        assert(grades.length === 9 && grades.every((g) => /strong|weak|missing/.test(g)), `printed grades lack words: ${grades.join(" | ")}`);
        await page.screenshot({ path: path.join(OUT, "scorecard-print.png"), fullPage: true });
        const pdf = await page.pdf({ format: "A4", printBackground: true });
        await fs.writeFile(path.join(OUT, "scorecard.pdf"), pdf);
        notes.push(`scorecard ${countPdfPages(pdf)} A4 page(s)`);
        const letter = await page.pdf({ format: "Letter", printBackground: true });
        notes.push(`${countPdfPages(letter)} Letter page(s)`);
      }
      if (type === "review") {
        const cards = await page.locator(".review-card").count();
        for (const format of ["A4", "Letter"]) {
          const pdf = await page.pdf({ format, printBackground: true });
          await fs.writeFile(path.join(OUT, `review-${format.toLowerCase()}.pdf`), pdf);
          const pages = countPdfPages(pdf);
          assert(pages === cards, `review printed on ${format}: ${pages} pages for ${cards} cards, want one page per card`);
        }
        notes.push(`review ${cards} cards → ${cards} pages (A4 and Letter)`);
      }
      await page.emulateMedia({ media: "screen" });
    }
    failIf(problems);
    return notes.join(", ");
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------

/** The Nu Html Checker over every HTML file of the site, with the machine's Java. */
function nuHtmlChecker() {
  const jar = require.resolve("vnu-jar/build/dist/vnu.jar");
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.JAVA || "java", ["-Xss8m", "-jar", jar, "--errors-only", "--skip-non-html", SITE], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (error) => reject(new Error(`cannot run java: ${error.message}`)));
    child.on("close", (code) => {
      const lines = output.trim().split("\n").filter(Boolean).map((line) => line.replace(`file:${SITE}/`, ""));
      if (code === 0 && !lines.length) resolve();
      else reject(new Error(lines.length ? lines.slice(0, 40).join("\n") + (lines.length > 40 ? `\n… ${lines.length - 40} more` : "") : `vnu exited with ${code}`));
    });
  });
}

async function main() {
  await fs.access(path.join(SITE, "index.html")).catch(() => {
    throw new Error(`no built site at ${SITE} (index.html missing)`);
  });
  await fs.mkdir(OUT, { recursive: true });
  const htmlFiles = (await fs.readdir(SITE, { recursive: true })).filter((f) => f.endsWith(".html")).length;
  // The checker runs in Java beside the browser checks; its result is reported at the end.
  const vnu = VNU ? record(`Nu Html Checker: ${htmlFiles} HTML files, no errors`, nuHtmlChecker) : null;
  const server = await serve(SITE);
  const { origin } = server;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  console.log(`# ${browser.version()} · site ${path.relative(process.cwd(), SITE) || SITE} at ${origin}`);
  try {
    const types = await pageTypes();
    const covered = new Set(Object.values(types));

    // Every check below goes into one queue that two workers drain at once. For page audits a
    // worker keeps one context and one reused page per setting (much faster than a page per URL).
    const SETTINGS = {
      desktop: { viewport: VIEWPORTS.desktop, colorScheme: "light" },
      dark: { viewport: VIEWPORTS.desktop, colorScheme: "dark" },
      phone: { viewport: VIEWPORTS.phone, colorScheme: "light", isMobile: true, hasTouch: true },
    };
    const entries = Object.entries(types);
    const pageTask = (setting, label, shots) => ([type, url]) => ({
      name: `${type} ${url} @ ${label}`,
      setting,
      urls: [url],
      options: {
        screenshot: shots(type),
        structure: setting !== "dark",
        // The dark scheme changes colours only: check contrast, not the whole rule set again.
        axeRules: setting === "dark" ? ["color-contrast", "link-in-text-block"] : null,
        expect404: type === "404",
      },
    });
    const rest = (await allPages()).filter((url) => !covered.has(url));
    const CHUNK = 6;
    const chunks = [];
    for (let i = 0; i < rest.length; i += CHUNK) chunks.push(rest.slice(i, i + CHUNK));
    const tasks = [
      ...entries.map(pageTask("desktop", "desktop 1280×800", (type) => `${type}-desktop`)),
      ...entries.map(pageTask("phone", "phone 360×740", (type) => `${type}-phone`)),
      ...entries.map(pageTask("dark", "desktop dark", (type) => (["home", "scorecard", "review", "handoffs"].includes(type) ? `${type}-desktop-dark` : null))),
      ...chunks.map((urls, i) => ({
        name: `other pages ${i * CHUNK + 1}–${i * CHUNK + urls.length} of ${rest.length} @ phone 360×740`,
        setting: "phone",
        urls,
        options: { structure: false },
      })),
      // Interactions, each in a context of its own.
      { name: "review: keyboard navigation (ArrowRight/ArrowLeft/j, buttons) @ desktop", run: () => reviewKeyboard(browser, origin) },
      { name: "review: Previous/Next buttons @ phone", run: () => reviewPhoneButtons(browser, origin) },
      { name: "handoffs: filters by partner, band, seller; sorting", run: () => handoffFilters(browser, origin) },
      { name: "every page type without JavaScript", run: () => withoutJavaScript(browser, origin, types) },
      { name: "print: no navigation; review prints one card per page", run: () => print(browser, origin, types) },
    ].filter((task) => !ONLY || ONLY.test(task.name));
    // Two workers take tasks from one queue; each keeps its own context and page per setting.
    const logs = new Array(tasks.length);
    let next = 0;
    const worker = async () => {
      const open = {};
      while (next < tasks.length) {
        const at = next++;
        const task = tasks[at];
        if (task.run) {
          logs[at] = await record(task.name, task.run);
          continue;
        }
        if (!open[task.setting]) {
          const context = await browser.newContext(SETTINGS[task.setting]);
          open[task.setting] = { context, opened: await openPage(context, origin) };
        }
        const { opened } = open[task.setting];
        logs[at] = await record(task.name, async () => {
          const failures = [];
          for (const url of task.urls) {
            const found = await auditPage(opened, origin, url, task.options);
            failures.push(...(task.urls.length > 1 ? found.map((f) => `${url}: ${f}`) : found));
          }
          failIf(failures);
          return task.urls.length > 1 ? `${task.urls.length} pages` : "";
        });
      }
      for (const { context } of Object.values(open)) await context.close();
    };
    await Promise.all([worker(), worker()]);
    for (const line of logs) if (line) console.log(line);

  } finally {
    await browser.close();
    await server.close();
    if (vnu) {
      const line = await vnu;
      if (line) console.log(line);
    }
  }
}

try {
  await main();
} catch (error) {
  results.push({ name: "setup", ok: false, error });
  console.log(`FAIL setup\n     ${error && error.stack ? error.stack : error}`);
}

if (minorFindings.size) {
  console.log(`# axe moderate/minor findings (not failing):`);
  for (const [key, where] of minorFindings) console.log(`#   ${key} — ${where}`);
}
const failed = results.filter((r) => !r.ok);
if (failed.length) {
  console.log(`\nFailed checks:`);
  for (const r of failed) console.log(`  - ${r.name}`);
}
console.log(`# screenshots and PDFs in ${path.relative(process.cwd(), OUT) || OUT} · ${elapsed(started)}`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length || results.length === 0 ? 1 : 0);
