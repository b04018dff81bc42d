//! The development server: serves the latest good build from memory,
//! pushes reloads and build errors to open tabs, and watches the sources.
//!
//! This is the one place with shared mutable state, and it is why the
//! state exists: request threads read the current site while the rebuild
//! loop replaces it, and a build takes far longer than a request. So the
//! site lives in a [`Snapshot`] behind `RwLock<Arc<_>>`: a request takes
//! the read lock only long enough to clone the `Arc`, then serves from
//! that immutable snapshot however long the response takes; a rebuild
//! renders a whole new `Output` with no lock held and swaps it in under a
//! write lock held for one pointer store. Readers never see half a site,
//! and a slow client never delays a rebuild. Everything else in serve mode
//! (the build itself, the watcher) stays owned and single-threaded.

pub mod live;
pub mod resolve;
pub mod session;
pub mod watch;

use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};

use tiny_http::{Header, Method, Request, Response, StatusCode};

use crate::diagnostics::{Diagnostic, Failure};
use crate::output::Output;
use live::Hub;
use resolve::Resolution;

/// What the server shows right now.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The last build that succeeded; `None` until one has.
    pub output: Option<Arc<Output>>,
    /// The messages of the latest build if it failed; `None` after a
    /// success.
    pub errors: Option<Arc<[String]>>,
}

/// The state request threads share with the rebuild loop.
#[derive(Debug, Default)]
struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    hub: Hub,
}

impl Shared {
    fn snapshot(&self) -> Arc<Snapshot> {
        // Poisoning cannot leave a half-written `Arc`: the guarded value is
        // only ever replaced whole.
        let guard = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&guard)
    }

    fn replace(&self, snapshot: Snapshot) -> Arc<Snapshot> {
        let mut guard = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *guard, Arc::new(snapshot))
    }
}

/// A bound dev server. Requests are answered once [`DevServer::start`] has
/// spawned the worker threads; builds are published with
/// [`DevServer::publish`] and [`DevServer::publish_errors`].
pub struct DevServer {
    http: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    address: SocketAddr,
}

impl DevServer {
    /// Listens on `address` (port 0 picks a free port).
    pub fn bind(address: SocketAddr) -> Result<DevServer, Failure> {
        let http = tiny_http::Server::http(address).map_err(|error| {
            Failure::from(
                Diagnostic::error(format!("cannot listen on {address}: {error}"))
                    .with_hint("another server may be using the port; pick another with --port N, or --port 0 for any free one"),
            )
        })?;
        let address = http.server_addr().to_ip().unwrap_or(address);
        Ok(DevServer {
            http: Arc::new(http),
            shared: Arc::default(),
            address,
        })
    }

    /// The address actually bound (with the real port when 0 was asked).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Spawns `workers` threads answering requests; event streams get a
    /// thread each on top of those.
    pub fn start(&self, workers: usize) -> std::io::Result<()> {
        for n in 0..workers.max(1) {
            let http = Arc::clone(&self.http);
            let shared = Arc::clone(&self.shared);
            std::thread::Builder::new()
                .name(format!("serve-{n}"))
                .spawn(move || {
                    for request in http.incoming_requests() {
                        handle(request, &shared);
                    }
                })?;
        }
        Ok(())
    }

    /// Serves a successful build from now on. Tabs reload if anything they
    /// could see changed: a file, or an error overlay to clear. Returns
    /// whether they were told to.
    pub fn publish(&self, output: Output) -> bool {
        let previous = self.shared.snapshot();
        let changed = previous.errors.is_some() || previous.output.as_deref() != Some(&output);
        if changed {
            self.shared.replace(Snapshot {
                output: Some(Arc::new(output)),
                errors: None,
            });
            self.shared.hub.broadcast(&live::reload_frame());
        }
        changed
    }

    /// Keeps serving the last good build and shows `messages` (one per
    /// diagnostic) over it in every tab.
    pub fn publish_errors(&self, messages: Vec<String>) {
        let previous = self.shared.snapshot();
        let messages: Arc<[String]> = messages.into();
        let frame = live::error_frame(&messages);
        self.shared.replace(Snapshot {
            output: previous.output.clone(),
            errors: Some(messages),
        });
        self.shared.hub.broadcast(&frame);
    }

    /// Whether a build has succeeded yet.
    pub fn has_site(&self) -> bool {
        self.shared.snapshot().output.is_some()
    }

    /// Tabs listening for reloads right now.
    pub fn listeners(&self) -> usize {
        self.shared.hub.len()
    }
}

fn handle(request: Request, shared: &Arc<Shared>) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        let response = Response::from_string("only GET and HEAD are served\n")
            .with_status_code(StatusCode(405))
            .with_header(header("Allow", "GET, HEAD"));
        let _ = request.respond(response);
        return;
    }
    let target = request.url().to_string();
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if path == live::EVENTS_PATH {
        listen(request, shared);
        return;
    }
    let snapshot = shared.snapshot();
    let Some(output) = &snapshot.output else {
        let messages = snapshot.errors.as_deref().unwrap_or_default();
        let page = live::error_page(messages);
        let _ = request.respond(page_response(page.into_bytes(), "index.html", 500));
        return;
    };
    let response = match resolve::resolve(&target, output) {
        Resolution::File(path) => {
            let bytes = output.get(&path).unwrap_or_default().to_vec();
            page_response(bytes, &path, 200)
        }
        Resolution::Redirect(location) => match Header::from_bytes("Location", location.as_bytes())
        {
            Ok(location) => Response::from_data(Vec::new())
                .with_status_code(StatusCode(301))
                .with_header(location)
                .with_header(header("Cache-Control", "no-store")),
            Err(()) => not_found(output),
        },
        Resolution::NotFound => not_found(output),
    };
    let _ = request.respond(response);
}

/// Hands the connection to a thread of its own that streams events.
fn listen(request: Request, shared: &Arc<Shared>) {
    // Subscribe before anything else so no build slips between the
    // snapshot and the subscription unseen.
    let events = shared.hub.subscribe();
    let first = shared.snapshot().errors.as_deref().map(live::error_frame);
    let writer = request.into_writer();
    let spawned = std::thread::Builder::new()
        .name("serve-events".into())
        .spawn(move || {
            // The tab went away; its channel is dropped with this thread and
            // the hub forgets it on the next broadcast.
            let _ = live::stream(writer, &events, first, live::KEEPALIVE);
        });
    // Out of threads: the tab's EventSource retries.
    drop(spawned);
}

fn not_found(output: &Output) -> Response<Cursor<Vec<u8>>> {
    let body = output.get("404.html").map_or_else(
        || b"<!doctype html><title>Not found</title><h1>Not found</h1>".to_vec(),
        <[u8]>::to_vec,
    );
    page_response(body, "404.html", 404)
}

fn page_response(bytes: Vec<u8>, path: &str, status: u16) -> Response<Cursor<Vec<u8>>> {
    Response::from_data(bytes)
        .with_status_code(StatusCode(status))
        .with_header(header("Content-Type", resolve::content_type(path)))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
}

/// A header from constant, valid ASCII.
fn header(name: &'static str, value: &'static str) -> Header {
    Header::from_bytes(name, value)
        .unwrap_or_else(|()| unreachable!("`{name}: {value}` is a valid header"))
}
