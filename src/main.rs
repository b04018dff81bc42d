//! The binary: parse arguments, run the command, print what happened, pick
//! the exit code. Everything else lives in the library.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, Parser};
use trustcard::cli::{Cli, Command, Format, NewCommand};
use trustcard::cmd;
use trustcard::diagnostics::{Diagnostic, Diagnostics, Failure};

/// mimalloc: rendering and event reading make millions of small
/// allocations, and glibc's allocator spent a sixth of a build on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// From here on, memory comes in 4 KiB pages rather than the 2 MiB
/// transparent huge pages mimalloc asks for. In a virtual machine a fresh
/// huge page costs several times as much per byte to fault in as small
/// pages do: the host backs it too, and huge pages come from exactly the
/// free blocks the guest hands back to the host. A cold 10,000-brief build
/// after the machine sat idle took 0.89 s on small pages and 1.20 s on huge
/// ones; back to back, and at 100,000 briefs, small pages were as fast or
/// faster; rebuilds and the dev server gain the most (BENCHMARKS.md,
/// eleventh round). Best effort: where the call fails, pages stay as they
/// were.
fn prefer_small_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

fn print_diagnostics<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) {
    let mut stderr = anstream::stderr();
    for diagnostic in diagnostics {
        let _ = writeln!(stderr, "{}", diagnostic.painted());
    }
}

fn fail(failure: Failure) -> ExitCode {
    let diagnostics = failure.0;
    print_diagnostics(diagnostics.iter());
    let errors = diagnostics.errors().count();
    let mut stderr = anstream::stderr();
    let _ = writeln!(
        stderr,
        "\x1b[1;31merror:\x1b[0m {errors} error{} found; nothing was written",
        if errors == 1 { "" } else { "s" }
    );
    ExitCode::FAILURE
}

/// A failure that is not about the site's files: just the messages.
fn fail_plain(failure: Failure) -> ExitCode {
    print_diagnostics(failure.0.iter());
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    prefer_small_pages();
    let cli = Cli::parse();
    let root = cli.root.as_path();
    match &cli.command {
        Command::Build(args) => {
            let started = Instant::now();
            match cmd::build::run(root, args) {
                Ok(mut report) => {
                    // The process is about to exit and return this memory
                    // whole: freeing it piece by piece first is wasted time.
                    std::mem::forget(std::mem::take(&mut report.leftovers));
                    print_diagnostics(report.warnings.iter());
                    if !cli.quiet {
                        let mut stderr = anstream::stderr();
                        let _ = writeln!(
                            stderr,
                            "built {} handoff{}, {} pages in {} ms → {} ({} written, {} unchanged, {} removed)",
                            report.handoffs,
                            if report.handoffs == 1 { "" } else { "s" },
                            report.pages,
                            started.elapsed().as_millis(),
                            report.output_dir.display(),
                            report.stats.written,
                            report.stats.unchanged,
                            report.stats.removed,
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(failure) => fail(failure),
            }
        }
        Command::Check(args) => {
            let diagnostics: Diagnostics = cmd::check::run(root, args.as_of);
            let has_errors = diagnostics.has_errors();
            match args.format {
                Format::Json => println!("{}", cmd::check::to_json(&diagnostics)),
                Format::Text => {
                    print_diagnostics(diagnostics.iter());
                    if !cli.quiet {
                        let mut stderr = anstream::stderr();
                        let _ = writeln!(
                            stderr,
                            "checked: {} error(s), {} warning(s)",
                            diagnostics.errors().count(),
                            diagnostics.warnings().count()
                        );
                    }
                }
            }
            if has_errors {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Synth(args) => {
            match trustcard::synth::generate(&args.dir, args.briefs, args.events, args.seed) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => fail_plain(failure),
            }
        }
        Command::Completions(args) => {
            let mut command = Cli::command();
            clap_complete::generate(
                args.shell,
                &mut command,
                "trustcard",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Init(args) => match cmd::init::run(&args.dir) {
            Ok(count) => {
                if !cli.quiet {
                    let mut stderr = anstream::stderr();
                    let _ = writeln!(
                        stderr,
                        "created a new site in {} ({count} files)\n  next: cd {} && trustcard build",
                        args.dir.display(),
                        args.dir.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(failure) => fail_plain(failure),
        },
        Command::New(NewCommand::Handoff { name }) => {
            match cmd::new::run(root, name, cmd::new::today()) {
                Ok(path) => {
                    if !cli.quiet {
                        let mut stderr = anstream::stderr();
                        let _ = writeln!(
                            stderr,
                            "created {} (a draft: remove `draft = true` when it is ready)",
                            path.display()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(failure) => fail_plain(failure),
            }
        }
        Command::Serve(args) => match cmd::serve::run(root, args, cli.quiet) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => fail_plain(failure),
        },
    }
}
