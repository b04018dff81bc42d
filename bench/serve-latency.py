#!/usr/bin/env python3
"""Save-to-served latency of `trustcard serve`.

Starts `trustcard serve` on a site, then, SAMPLES times: changes the title,
the body or a grade (and the title) of one brief (a plain write, or with
--rename a write to a temporary file renamed over the brief, as many
editors save), and polls the brief's page over HTTP until the new text is
served. Prints each sample, the median, minimum and maximum, and the
server's own "rebuilt in" lines. The brief is restored at the end.

    bench/serve-latency.py --bin target/release/trustcard --root /tmp/site
    bench/serve-latency.py --root /tmp/s10k --samples 8 --rename --edit body

The time runs from just before the write to the first response that holds
the new text, so it includes the watcher's debounce, the rebuild, the swap
and one poll interval (POLL, 2 ms). Standard library only.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

POLL = 0.002


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="target/release/trustcard")
    parser.add_argument("--root", required=True, help="site folder (it is edited, then restored)")
    parser.add_argument("--brief", help="brief to edit, relative to the root (default: the first)")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--rename", action="store_true", help="save by write-then-rename")
    parser.add_argument(
        "--edit", choices=["title", "body", "grade"], default="title",
        help="what to change: the title (shown on the lists, not scored), the body's first line "
        "(prose only), or a grade (scores are recomputed; the title gets the marker too, so the "
        "page shows when the rebuild is served)",
    )
    args = parser.parse_args()

    handoffs = os.path.join(args.root, "content", "handoffs")
    brief = args.brief or os.path.join(
        "content", "handoffs",
        sorted(f for f in os.listdir(handoffs) if f.endswith(".md") and not f.startswith("_"))[0],
    )
    path = os.path.join(args.root, brief)
    original = open(path, encoding="utf-8").read()
    id_match = re.search(r'^id\s*=\s*"([^"]+)"', original, re.M)
    page_id = id_match.group(1) if id_match else os.path.splitext(os.path.basename(brief))[0]
    title = re.search(r'^title\s*=\s*"([^"]*)"', original, re.M)
    if not title:
        sys.exit(f"{brief}: no title line to edit")
    grade = re.search(r'^(\w+) = "(strong|weak|missing)"', original.split("[grades]", 1)[-1], re.M)
    if args.edit == "grade" and not grade:
        sys.exit(f"{brief}: no grade to edit")

    server = subprocess.Popen(
        [args.bin, "serve", "--root", args.root, "--port", "0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    log, url = [], []
    ready = threading.Event()

    def drain():
        for line in server.stderr:
            log.append(line.rstrip("\n"))
            found = re.search(r"serving .* at (http://\S+/)", line)
            if found:
                url.append(found.group(1))
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    samples = []
    try:
        if not ready.wait(300):
            sys.exit("serve did not start:\n" + "\n".join(log))
        page = f"{url[0]}handoffs/{page_id}/"
        for line in log:
            print(f"  log: {line}")
        # Let the sources age past the server's stamp-trust window (3 s)
        # so the samples measure the steady state, not the first rebuilds.
        time.sleep(4)
        for n in range(args.samples):
            marker = f"latency-{n}-{os.getpid()}"
            if args.edit == "body":
                head, sep, body = original.partition("\n+++\n")
                text = f"{head}{sep}{marker}\n\n{body}"
            else:
                text = original.replace(title.group(0), f'title = "{title.group(1)} {marker}"', 1)
            if args.edit == "grade":
                # Every sample moves the score: the grade alternates.
                other = "weak" if (grade.group(2) == "strong") == (n % 2 == 0) else "strong"
                head, sep, grades = text.partition("[grades]")
                text = head + sep + grades.replace(grade.group(0), f'{grade.group(1)} = "{other}"', 1)
            seen = len(log)
            started = time.monotonic()
            save(path, text, args.rename)
            while True:
                with urllib.request.urlopen(page) as reply:
                    if marker.encode() in reply.read():
                        break
                if time.monotonic() - started > 60:
                    sys.exit(f"{marker} never served:\n" + "\n".join(log[seen:]))
                time.sleep(POLL)
            elapsed = (time.monotonic() - started) * 1000
            samples.append(elapsed)
            time.sleep(0.2)
            rebuilt = [line for line in log[seen:] if "rebuilt in" in line or os.environ.get("TRUSTCARD_TIMINGS")]
            print(f"sample {n + 1}: {elapsed:.0f} ms   {' | '.join(rebuilt)}")
            time.sleep(args.pause)
    finally:
        save(path, original, False)
        server.terminate()
        server.wait()
    print(
        f"save -> served ({args.edit} edit, {'rename' if args.rename else 'write'}), {len(samples)} samples: "
        f"median {statistics.median(samples):.0f} ms, min {min(samples):.0f} ms, max {max(samples):.0f} ms"
    )


def save(path, text, rename):
    if rename:
        scratch = path + ".saving"
        with open(scratch, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(scratch, path)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
