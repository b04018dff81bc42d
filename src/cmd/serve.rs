//! `trustcard serve`: bind → build into memory → serve → on every change,
//! rebuild what the change touched (see [`Session`]) and swap.
//!
//! Nothing is written to disk: the output folder is neither read nor
//! touched. Ctrl-C ends the process through the default SIGINT action;
//! that is a clean exit because serve holds nothing that needs flushing or
//! removing (no temporary files, no half-written output), and the kernel
//! closes the socket and the watches. Handling the signal ourselves would
//! take a new dependency or `unsafe`, for no gain.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use crate::cli::{BuildArgs, ServeArgs};
use crate::cmd::build::Rendered;
use crate::config::Config;
use crate::diagnostics::{Diagnostic, Diagnostics, Failure};
use crate::render::RenderOptions;
use crate::serve::session::Session;
use crate::serve::watch::{Change, Watcher};
use crate::serve::{DevServer, live};

/// Threads answering ordinary requests (event streams have their own).
const WORKERS: usize = 4;

/// Runs until the process is interrupted; returns only if serving cannot
/// start (the port is taken, the folder cannot be watched).
pub fn run(root: &Path, args: &ServeArgs, quiet: bool) -> Result<(), Failure> {
    let server = DevServer::bind(SocketAddr::new(args.bind, args.port))?;
    let url = local_url(server.address());
    if !args.bind.is_loopback() {
        print_line(&format!(
            "\x1b[1;33mwarning:\x1b[0m serving on {} exposes this site, drafts included, to the network",
            server.address()
        ));
    }
    let build_args = BuildArgs {
        drafts: args.drafts,
        // Absolute links (canonical, sitemap, the 404 page's assets) point
        // here rather than at the published site.
        base_url: Some(url.trim_end_matches('/').to_string()),
        ..BuildArgs::default()
    };
    let options = RenderOptions {
        explicit_index: false,
        inject: Some(live::SCRIPT.to_string()),
    };

    // Watch before the first build, so an edit made during it is not lost.
    let (changes, changed) = mpsc::channel();
    let mut watcher = Watcher::start(root, ignored_dirs(root), changes)?;

    let mut session = Session::new(root, build_args, options);
    let started = Instant::now();
    let first = session.build();
    let title = match &first {
        Ok(rendered) => rendered.config.title.clone(),
        Err(_) => Config::load_lenient(root).0.title,
    };
    let mut last_warnings = Vec::new();
    match first {
        Ok(rendered) => {
            report_success(&server, rendered, &mut last_warnings);
            if !quiet {
                print_line(&format!("built in {} ms", started.elapsed().as_millis()));
            }
        }
        Err(failure) => report_failure(&server, failure),
    }
    server.start(WORKERS).map_err(|error| {
        Failure::from(Diagnostic::error(format!(
            "cannot start the server threads: {error}"
        )))
    })?;
    // Tests and scripts read this line for the port: always printed.
    print_line(&format!("serving {title} at {url} (Ctrl-C to stop)"));
    if args.open {
        open_browser(&url);
    }

    // Whether changes may have gone unreported since the last build: then
    // the next one looks at every file rather than only those named.
    let mut lost = false;
    while let Ok(change) = changed.recv() {
        let (mut paths, since) = match change {
            Change::Files {
                paths,
                since,
                rescan,
            } => {
                lost |= rescan;
                (paths, since)
            }
            Change::Error(message) => {
                watch_warning(&message);
                lost = true;
                continue;
            }
        };
        // Coalesce what piled up during the previous build.
        while let Ok(more) = changed.try_recv() {
            match more {
                Change::Files {
                    paths: more,
                    rescan,
                    ..
                } => {
                    paths.extend(more);
                    lost |= rescan;
                }
                Change::Error(message) => {
                    watch_warning(&message);
                    lost = true;
                }
            }
        }
        paths.sort();
        paths.dedup();
        if let Err(failure) = watcher.refresh() {
            print_diagnostics(failure.0.iter());
        }
        let started = Instant::now();
        let known = (!lost).then_some(paths.as_slice());
        lost = false;
        match session.build_after(known) {
            Ok(rendered) => {
                let reloaded = report_success(&server, rendered, &mut last_warnings);
                if !quiet {
                    print_line(&format!(
                        "rebuilt in {} ms, live {} ms after the change ({}; {}){}",
                        started.elapsed().as_millis(),
                        since.elapsed().as_millis(),
                        summarise(&paths),
                        session.stats(),
                        if reloaded { "" } else { "; no page changed" },
                    ));
                }
            }
            Err(failure) => report_failure(&server, failure),
        }
    }
    Ok(())
}

/// Publishes a good build, printing its warnings when they differ from the
/// previous build's (so they do not scroll by on every save). Returns
/// whether browsers were told to reload.
fn report_success(server: &DevServer, rendered: Rendered, last_warnings: &mut Vec<String>) -> bool {
    let warnings: Vec<String> = rendered.warnings.iter().map(ToString::to_string).collect();
    if warnings != *last_warnings {
        print_diagnostics(rendered.warnings.iter());
        *last_warnings = warnings;
    }
    server.publish(rendered.output)
}

fn report_failure(server: &DevServer, failure: Failure) {
    let diagnostics: Diagnostics = failure.0;
    print_diagnostics(diagnostics.iter());
    let errors = diagnostics.errors().count();
    let serving = if server.has_site() {
        "still serving the last good version"
    } else {
        "serving an error page until it is fixed"
    };
    print_line(&format!(
        "\x1b[1;31merror:\x1b[0m build failed with {errors} error{}; {serving}",
        if errors == 1 { "" } else { "s" }
    ));
    server.publish_errors(diagnostics.iter().map(ToString::to_string).collect());
}

/// The output folder and `target/`, relative to the root: never reported,
/// even if they sit inside a watched folder.
fn ignored_dirs(root: &Path) -> Vec<PathBuf> {
    let output_dir = Config::load_lenient(root).0.output_dir;
    let mut dirs = vec![PathBuf::from("target")];
    if output_dir.is_relative() {
        dirs.push(output_dir);
    }
    dirs
}

/// The URL to print and open: loopback when bound to every interface.
fn local_url(address: SocketAddr) -> String {
    let ip = match address.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/", SocketAddr::new(ip, address.port()))
}

fn summarise(paths: &[String]) -> String {
    match paths {
        [] => "no files".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}

fn watch_warning(message: &str) {
    print_line(&format!(
        "\x1b[1;33mwarning:\x1b[0m watching for changes: {message}"
    ));
}

fn print_line(text: &str) {
    let mut stderr = anstream::stderr();
    let _ = writeln!(stderr, "{text}");
    let _ = stderr.flush();
}

fn print_diagnostics<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) {
    for diagnostic in diagnostics {
        print_line(&diagnostic.painted());
    }
}

/// Best effort: a missing opener only means the user clicks the URL.
fn open_browser(url: &str) {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut command = std::process::Command::new("cmd");
        command.args(["/c", "start", ""]);
        command
    } else {
        std::process::Command::new("xdg-open")
    };
    let spawned = command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Ok(mut child) = spawned {
        // Reap it so it does not linger as a zombie.
        let _ = std::thread::Builder::new().spawn(move || child.wait());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_reachable_address() {
        let any: SocketAddr = "0.0.0.0:1111".parse().expect("address");
        assert_eq!(local_url(any), "http://127.0.0.1:1111/");
        let v6: SocketAddr = "[::1]:8080".parse().expect("address");
        assert_eq!(local_url(v6), "http://[::1]:8080/");
    }

    #[test]
    fn summaries_stay_on_one_line() {
        assert_eq!(summarise(&["a.md".into()]), "a.md");
        assert_eq!(
            summarise(&["a.md".into(), "b.md".into(), "c".into()]),
            "a.md and 2 more"
        );
    }
}
