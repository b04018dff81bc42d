// Shared helpers: a tiny static server for a built site, and Chromium launch options.
import { createServer } from "node:http";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the example site, and where target/ is. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The value after `--name` on the command line, or `fallback`. */
export function option(name, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
}

export const CHROMIUM = process.env.CHROME_PATH || "/usr/bin/chromium";

// Flags for this machine's closed network: no background connections, no sandbox as root.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--metrics-recording-only",
  "--mute-audio",
];

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".xml": "application/xml; charset=utf-8",
};

async function isFile(file) {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function isDir(file) {
  try {
    return (await fs.stat(file)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Serves `root` on 127.0.0.1 like a plain static host: `dir/` serves `dir/index.html`,
 * `dir` redirects to `dir/`, anything missing gets `404.html` with status 404.
 * Resolves to { server, port, origin, close() }.
 */
export function serve(root, port = 0) {
  root = path.resolve(root);
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://127.0.0.1");
      let rel = decodeURIComponent(url.pathname);
      let file = path.join(root, rel);
      if (!file.startsWith(root)) {
        res.writeHead(403).end();
        return;
      }
      if (await isDir(file)) {
        if (!rel.endsWith("/")) {
          res.writeHead(301, { Location: rel + "/" + url.search }).end();
          return;
        }
        file = path.join(file, "index.html");
      }
      let status = 200;
      if (!(await isFile(file))) {
        status = 404;
        file = path.join(root, "404.html");
        if (!(await isFile(file))) {
          res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
          return;
        }
      }
      const type = TYPES[path.extname(file).toLowerCase()] || "application/octet-stream";
      const headers = { "Content-Type": type, "Cache-Control": "no-cache" };
      // Lighthouse's "efficient cache policy" audit: the theme's assets are versioned (?v=).
      if (url.search.startsWith("?v=")) headers["Cache-Control"] = "public, max-age=31536000, immutable";
      res.writeHead(status, headers);
      if (req.method === "HEAD") {
        res.end();
        return;
      }
      createReadStream(file).pipe(res);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      resolve({
        server,
        port: actual,
        origin: `http://127.0.0.1:${actual}`,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

/** A port that was free a moment ago (the site must be built for its URL before serving). */
export async function freePort() {
  const probe = await serve(REPO);
  const { port } = probe;
  await probe.close();
  return port;
}

/** Counts the pages of a PDF by its page objects ("/Type /Page", not "/Type /Pages"). */
export function countPdfPages(buffer) {
  const text = buffer.toString("latin1");
  return (text.match(/\/Type\s*\/Page(?!s)\b/g) || []).length;
}
