//! The command line, as data: every command and flag, documented.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "trustcard",
    version,
    about = "Build a static scorecard site from partner-handoff briefs and seller events",
    long_about = "trustcard reads Markdown handoff briefs graded in TOML front matter, a CSV of \
                  seller events and an FAQ, and builds a static website: a scorecard per handoff, \
                  bands, trends of the seller-trust signals, partner and seller rollups.",
    propagate_version = true
)]
pub struct Cli {
    /// The site folder (the one holding site.toml).
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,

    /// Print only errors and warnings.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the site into the output folder.
    Build(BuildArgs),
    /// Validate everything and report all errors and warnings; writes nothing.
    Check(CheckArgs),
    /// Serve the site locally, rebuilding and reloading on every change.
    Serve(ServeArgs),
    /// Create a new site with a small working example.
    Init(InitArgs),
    /// Create a new piece of content.
    #[command(subcommand)]
    New(NewCommand),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Generate a synthetic site for benchmarks (not for everyday use).
    #[command(hide = true)]
    Synth(SynthArgs),
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Folder to write the site into.
    pub dir: PathBuf,
    /// Number of briefs.
    #[arg(long, default_value_t = 1000)]
    pub briefs: usize,
    /// Number of seller events.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Seed for the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args, Clone, Default)]
pub struct BuildArgs {
    /// Output folder (default: output_dir from site.toml, relative to the site).
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Base URL for absolute links in the sitemap, canonical and Open Graph tags.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Also render draft scorecards (they never count in scores or trends).
    #[arg(long)]
    pub drafts: bool,

    /// Compute everything as of this date (YYYY-MM-DD) instead of the latest date in the data.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<jiff::civil::Date>,

    /// Link to `…/index.html` so the output can be browsed straight from disk.
    #[arg(long)]
    pub explicit_index: bool,

    /// Write into a non-empty output folder that trustcard did not create.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format for the report.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Check as of this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<jiff::civil::Date>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 1111)]
    pub port: u16,

    /// Address to bind; anything but loopback exposes your drafts to the network.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: std::net::IpAddr,

    /// Open the site in the default browser.
    #[arg(long)]
    pub open: bool,

    /// Render drafts too.
    #[arg(long)]
    pub drafts: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder for the new site (created if missing; must be empty).
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A new handoff brief in content/handoffs/, as a draft with every key.
    Handoff {
        /// The handoff's name; its slug becomes the file name and id.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    pub shell: clap_complete::Shell,
}

fn parse_date(text: &str) -> Result<jiff::civil::Date, String> {
    let valid_shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !valid_shape {
        return Err(format!("`{text}` is not a date like 2026-10-31"));
    }
    text.parse()
        .map_err(|_| format!("`{text}` is not a real calendar date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-10-31").is_ok());
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-1-31").is_err());
    }
}
