//! `trustcard serve` end to end: the real binary on a copy of a fixture,
//! spoken to over real HTTP on loopback with hand-written requests.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::*;

/// How long anything may take: generous for slow CI, but every wait ends
/// as soon as its condition holds.
const PATIENCE: Duration = Duration::from_secs(20);

const BRIEF: &str = "content/handoffs/acme-datadog.md";
const PAGE: &str = "/handoffs/acme-datadog/";

/// A running `trustcard serve`, killed when dropped (also when a test
/// panics), with its site folder and everything it printed.
struct Served {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
    site: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Starts serving a copy of the `basic` fixture after `prepare` has had
    /// a chance to edit it.
    fn start(prepare: impl FnOnce(&Path)) -> Served {
        let site = copy_site(&fixture("basic"));
        prepare(site.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_trustcard"))
            .args(["serve", "--port", "0", "--root"])
            .arg(site.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start trustcard serve");
        let pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (port_sender, port_receiver) = mpsc::channel();
        let log = Arc::clone(&stderr);
        // Keeps draining stderr for the server's whole life, so it never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = port_in(&line) {
                    let _ = port_sender.send(port);
                }
                let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut served = Served {
            child,
            port: 0,
            stderr,
            site,
        };
        match port_receiver.recv_timeout(PATIENCE) {
            Ok(port) => served.port = port,
            Err(_) => panic!("no `serving … at` line; stderr:\n{}", served.stderr()),
        }
        served
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.site.path().join(relative)
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The server's stderr once `done` holds for it: lines are read by
    /// another thread, and a page or event may arrive before the line
    /// printed beside it.
    fn stderr_when(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let stderr = self.stderr();
            if done(&stderr) {
                return stderr;
            }
            assert!(
                Instant::now() < deadline,
                "stderr never showed {what}:\n{stderr}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn get(&self, target: &str) -> Reply {
        request(self.port, "GET", target)
    }

    /// Polls `target` until `done` holds for the reply.
    fn wait_for(&self, target: &str, what: &str, done: impl Fn(&Reply) -> bool) -> Reply {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let reply = self.get(target);
            if done(&reply) {
                return reply;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} at {target}; last reply {}:\n{}\nstderr:\n{}",
                reply.status,
                reply.body,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens the live-reload stream the injected script listens to.
    fn listen(&self) -> Events {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("read timeout");
        write!(
            stream,
            "GET /__trustcard/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        )
        .expect("send request");
        let mut events = Events {
            stream,
            seen: String::new(),
        };
        // The server subscribes before it answers, so once the first line
        // is here no build can slip by unseen.
        events.wait_until("retry: ");
        events
    }
}

/// The port in `serving <title> at http://127.0.0.1:PORT/ (Ctrl-C to stop)`.
fn port_in(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("serving ")?;
    let (_, url) = rest.split_once(" at http://127.0.0.1:")?;
    url.split_once('/')?.0.parse().ok()
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One HTTP/1.1 request, exactly as written (no normalising of `..` or
/// `//`, which is the point), read to the end of the connection.
fn request(port: u16, method: &str, target: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read reply");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A live-reload stream, read as it arrives.
struct Events {
    stream: TcpStream,
    seen: String,
}

impl Events {
    /// Reads until an event named `name` arrives after everything already
    /// consumed; returns its `data` line.
    fn next(&mut self, name: &str) -> String {
        let marker = format!("event: {name}\ndata: ");
        self.wait_until_with(&marker, |seen| {
            let at = seen.find(&marker)?;
            let rest = &seen[at + marker.len()..];
            let end = rest.find('\n')?;
            Some((rest[..end].to_string(), at + marker.len() + end))
        })
    }

    fn wait_until(&mut self, text: &str) {
        self.wait_until_with(text, |seen| seen.find(text).map(|at| ((), at + text.len())));
    }

    /// Reads until `found` returns a value and how much of the stream it
    /// consumed.
    fn wait_until_with<T>(&mut self, what: &str, found: impl Fn(&str) -> Option<(T, usize)>) -> T {
        let deadline = Instant::now() + PATIENCE;
        let mut buffer = [0; 4096];
        loop {
            if let Some((value, consumed)) = found(&self.seen) {
                self.seen.drain(..consumed);
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "no `{what}` in the event stream; so far:\n{}",
                self.seen
            );
            match self.stream.read(&mut buffer) {
                Ok(0) => panic!("the event stream closed; so far:\n{}", self.seen),
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buffer[..n])),
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(error) => panic!("reading events: {error}"),
            }
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read brief");
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write brief");
}

/// Saves the way many editors do: write a new file, rename it over the old.
fn edit_by_rename(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read brief");
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    let scratch = path.with_extension("md.saving");
    std::fs::write(&scratch, text.replacen(from, to, 1)).expect("write scratch");
    std::fs::rename(&scratch, path).expect("rename over the brief");
}

const TITLE: &str = r#"title = "Acme × Datadog: <teardown> & more""#;

#[test]
fn serves_pages_and_assets_from_memory() {
    let served = Served::start(|_| {});

    let home = served.get("/");
    assert_eq!(home.status, 200, "{}", home.body);
    assert_eq!(
        home.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(home.header("Cache-Control"), Some("no-store"));
    assert!(
        home.body
            .contains("new EventSource(\"/__trustcard/events\")")
    );
    assert!(home.body.contains("Basic fixture"));

    let card = served.get(PAGE);
    assert_eq!(card.status, 200);
    assert!(
        card.body
            .contains("Acme × Datadog: &lt;teardown&gt; &amp; more")
    );
    assert!(
        card.body.contains("/__trustcard/events"),
        "every page reloads"
    );

    let folder = served.get("/handoffs/acme-datadog?x=1");
    assert_eq!(folder.status, 301);
    assert_eq!(
        folder.header("Location"),
        Some("/handoffs/acme-datadog/?x=1")
    );

    let css = served.get("/style.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("Content-Type"), Some("text/css; charset=utf-8"));
    assert!(
        !css.body.contains("EventSource"),
        "only HTML gets the script"
    );
    let text = served.get("/static-extra.txt");
    assert_eq!(
        text.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(text.body.trim(), "static file");

    let head = request(served.port, "HEAD", "/");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(request(served.port, "POST", "/").status, 405);

    assert!(
        !served.path("public").exists(),
        "serve never writes the output folder"
    );
}

#[test]
fn paths_outside_the_site_are_not_found() {
    let served = Served::start(|_| {});
    let missing = served.get("/no/such/page/");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Error 404"), "the site's 404 page");
    for attack in [
        "/../site.toml",
        "/%2e%2e/site.toml",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/..%2fsite.toml",
        "/handoffs/..%2f..%2fsite.toml",
        "/..%5csite.toml",
        "/..\\site.toml",
        "//etc/passwd",
        "/C:/Windows/win.ini",
        "/index.html%00",
        "/content/handoffs/acme-datadog.md",
        "/site.toml",
    ] {
        let reply = served.get(attack);
        assert_eq!(reply.status, 404, "{attack}");
        assert!(
            !reply.body.contains("response_window_days"),
            "{attack} leaked site.toml"
        );
        assert!(!reply.body.contains("root:"), "{attack} leaked /etc/passwd");
    }
}

#[test]
fn edits_are_picked_up_and_a_broken_edit_keeps_the_last_good_site() {
    let served = Served::start(|_| {});
    let brief = served.path(BRIEF);
    let mut events = served.listen();

    edit(&brief, TITLE, r#"title = "Acme renamed while serving""#);
    served.wait_for(PAGE, "the new title", |reply| {
        reply.body.contains("Acme renamed while serving")
    });
    events.next("reload");
    served.stderr_when("a rebuild", |stderr| stderr.contains("rebuilt in "));

    edit(&brief, r#"proof = "weak""#, r#"proof = "sorta""#);
    let data = events.next("error");
    let json: serde_json::Value = serde_json::from_str(&data).expect("error data is JSON");
    let errors = json["errors"].as_array().expect("an errors array");
    assert!(
        errors.iter().any(|e| {
            let e = e.as_str().unwrap_or_default();
            e.starts_with(BRIEF) && e.contains("sorta")
        }),
        "{json}"
    );
    served.stderr_when("the error", |stderr| {
        stderr.contains(&format!("{BRIEF}:")) && stderr.contains("sorta")
    });
    let still = served.get(PAGE);
    assert_eq!(still.status, 200, "the last good site stays served");
    assert!(still.body.contains("Acme renamed while serving"));

    // A tab opened now learns of the error as soon as it connects.
    served.listen().next("error");

    edit_by_rename(&brief, r#"proof = "sorta""#, r#"proof = "strong""#);
    events.next("reload");
    let fixed = served.get(PAGE);
    assert_eq!(fixed.status, 200);

    edit_by_rename(&brief, "Acme renamed while serving", "Acme saved by rename");
    served.wait_for(PAGE, "a title saved by rename", |reply| {
        reply.body.contains("Acme saved by rename")
    });
}

#[test]
fn a_site_that_never_built_serves_its_errors_until_fixed() {
    let served = Served::start(|site| {
        edit(
            &site.join(BRIEF),
            r#"proof = "weak""#,
            r#"proof = "<sorta>""#,
        );
    });
    let page = served.get("/");
    assert_eq!(page.status, 500);
    assert!(page.body.contains("&lt;sorta&gt;"), "{}", page.body);
    assert!(!page.body.contains("<sorta>"), "messages are escaped");
    assert!(
        page.body.contains("/__trustcard/events"),
        "the error page reloads itself"
    );

    edit(
        &served.path(BRIEF),
        r#"proof = "<sorta>""#,
        r#"proof = "weak""#,
    );
    let home = served.wait_for("/", "the fixed site", |reply| reply.status == 200);
    assert!(home.body.contains("Basic fixture"));
}

/// How many rebuilds the server has logged so far.
fn rebuilds(served: &Served) -> usize {
    served.stderr().matches("rebuilt in ").count()
}

/// Dates every file of the site long ago: the server trusts a file's
/// stamp only once it is a few seconds old, and a fresh copy is not.
fn age_all(site: &Path) {
    for entry in walkdir::WalkDir::new(site) {
        let entry = entry.expect("walk site");
        if entry.file_type().is_file() {
            common::age(entry.path(), 0);
        }
    }
}

#[test]
fn rebuilds_are_incremental_and_match_the_files() {
    let served = Served::start(age_all);
    let handoffs = served.path("content/handoffs");
    let globex = handoffs.join("globex.md");
    let text = std::fs::read_to_string(&globex).expect("read brief");

    // A one-brief edit re-parses that brief and nothing else.
    edit(
        &globex,
        r#"title = "Globex × Datadog""#,
        r#"title = "Globex edited""#,
    );
    served.wait_for("/handoffs/globex/", "the edited title", |reply| {
        reply.body.contains("Globex edited")
    });
    served.wait_for("/handoffs/", "the edited title in the list", |reply| {
        reply.body.contains("Globex edited")
    });
    served.stderr_when("a one-brief rebuild", |log| log.contains("1 brief parsed"));

    // A grade: the last model is brought up to date, not computed again.
    assert!(served.get("/handoffs/globex/").body.contains(" 0 of 18,"));
    edit(&globex, r#"proof = "missing""#, r#"proof = "strong""#);
    served.wait_for("/handoffs/globex/", "the new score", |reply| {
        reply.body.contains(" 2 of 18,")
    });
    let log = served.stderr_when("a regrade", |log| log.contains("model updated"));
    let line = log.lines().find(|line| line.contains("model updated"));
    assert!(
        line.is_some_and(|line| line.contains("1 brief parsed") && !line.contains("computed")),
        "{log}"
    );

    // A new brief gets its page and a place in the list.
    std::fs::write(
        handoffs.join("aaa-new.md"),
        text.replace("Globex × Datadog", "Brand new handoff"),
    )
    .expect("write new brief");
    let page = served.wait_for("/handoffs/aaa-new/", "the new brief's page", |reply| {
        reply.status == 200
    });
    assert!(page.body.contains("Brand new handoff"));
    served.wait_for("/handoffs/", "the new brief in the list", |reply| {
        reply.body.contains("Brand new handoff")
    });
    // The events, which name briefs by their place in the list, still
    // land on the right scorecard.
    let acme = served.get(PAGE);
    assert!(acme.body.contains("booked the teardown"), "{}", acme.body);

    // Deleting it takes its page away.
    std::fs::remove_file(handoffs.join("aaa-new.md")).expect("remove brief");
    served.wait_for("/handoffs/aaa-new/", "the deleted brief gone", |reply| {
        reply.status == 404
    });
    let list = served.get("/handoffs/");
    assert!(!list.body.contains("Brand new handoff"));

    // An event file edit reaches the scorecard it names.
    let events = served.path("content/events.csv");
    let mut log = std::fs::read_to_string(&events).expect("read events");
    log.push_str("2026-10-02,accepted,Jordan Lee,globex,,,,,taken up at once\n");
    std::fs::write(&events, log).expect("write events");
    served.wait_for("/handoffs/globex/", "the new event", |reply| {
        reply.body.contains("taken up at once")
    });

    // A template added to the site replaces the built-in one.
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/404.html");
    let template = std::fs::read_to_string(builtin).expect("read template");
    let templates = served.path("templates");
    std::fs::create_dir_all(&templates).expect("create templates");
    std::fs::write(
        templates.join("404.html"),
        template.replacen("</div>", "<p>Custom not-found</p></div>", 1),
    )
    .expect("write template");
    served.wait_for("/no/such/page/", "the custom 404 page", |reply| {
        reply.status == 404 && reply.body.contains("Custom not-found")
    });

    // A broken brief keeps the last good site; fixing it serves the fix.
    edit(&globex, "date = 2026-10-01", "date = 2026-10-41");
    served.wait_for("/handoffs/globex/", "the error logged", |_| {
        served.stderr().contains("build failed")
    });
    assert!(
        served
            .get("/handoffs/globex/")
            .body
            .contains("Globex edited")
    );
    let broken = std::fs::read_to_string(&globex).expect("read brief");
    std::fs::write(
        &globex,
        broken
            .replace("date = 2026-10-41", "date = 2026-10-01")
            .replace("Globex edited", "Globex fixed"),
    )
    .expect("write brief");
    let fixed = served.wait_for("/handoffs/globex/", "the fixed brief", |reply| {
        reply.body.contains("Globex fixed")
    });
    assert!(fixed.body.contains("taken up at once"));
}

#[test]
fn a_save_by_rename_rebuilds_once() {
    let served = Served::start(|_| {});
    let brief = served.path(BRIEF);
    let mut title = "Acme × Datadog: <teardown> & more".to_string();
    for n in 1..=3 {
        let next = format!("Acme save {n}");
        edit_by_rename(&brief, &title, &next);
        served.wait_for(PAGE, "the renamed save", |reply| reply.body.contains(&next));
        title = next;
    }
    // Anything still pending would have been logged by now.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rebuilds(&served), 3, "{}", served.stderr());
}
