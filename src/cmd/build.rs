//! `trustcard build`: load → compute → render → publish.

use std::path::{Path, PathBuf};

use crate::cli::BuildArgs;
use crate::config::Config;
use crate::diagnostics::{Diagnostic, Diagnostics, Failure};
use crate::leftovers::Leftovers;
use crate::model::{Model, ModelOptions};
use crate::output::{self, Output, PublishStats, Publisher};
use crate::render::theme::Theme;
use crate::render::{self, RenderOptions};
use crate::site::{EVENTS_CACHE, Laps, Site};

#[derive(Debug)]
pub struct BuildReport {
    pub warnings: Diagnostics,
    pub handoffs: usize,
    pub pages: usize,
    pub files: usize,
    pub output_dir: PathBuf,
    pub stats: PublishStats,
    /// The site, model, theme and list rows, for a caller about to exit to
    /// forget rather than free.
    pub leftovers: Leftovers,
}

/// Everything a build renders, before anything is written.
pub struct Rendered {
    pub output: Output,
    pub warnings: Diagnostics,
    pub handoffs: usize,
    pub config: Config,
}

/// A loaded site, its theme and its model: everything rendering needs.
struct Prepared {
    site: Site,
    theme: Theme,
    model: Model,
}

/// Loads the site and theme (reporting errors of both together) and
/// computes the model.
fn prepare(root: &Path, args: &BuildArgs, laps: &Laps) -> Result<Prepared, Failure> {
    let (site, theme) = with_theme(root, args, Site::load(root), laps)?;
    let model = Model::compute(&site, &model_options(args));
    laps.lap("model");
    Ok(Prepared { site, theme, model })
}

/// The loaded `site` with the command line applied, and its theme: the
/// errors of both together.
fn with_theme(
    root: &Path,
    args: &BuildArgs,
    site: Result<Site, Failure>,
    laps: &Laps,
) -> Result<(Site, Theme), Failure> {
    laps.lap("load");
    let theme = Theme::load(root, &theme_name(root, &site));
    let (site, theme) = join(site, theme)?;
    Ok((apply_args(site, args)?, theme))
}

/// The theme a site asks for, even when the site itself failed to load,
/// so theme errors are reported with the site's.
pub(crate) fn theme_name(root: &Path, site: &Result<Site, Failure>) -> String {
    match site {
        Ok(site) => site.config.theme.clone(),
        Err(_) => Config::load_lenient(root).0.theme,
    }
}

/// Both halves, or every error of both.
pub(crate) fn join<T>(
    site: Result<Site, Failure>,
    theme: Result<T, Diagnostics>,
) -> Result<(Site, T), Failure> {
    match (site, theme) {
        (Ok(site), Ok(theme)) => Ok((site, theme)),
        (site, theme) => {
            let mut diagnostics = Diagnostics::new();
            if let Err(Failure(d)) = site {
                diagnostics.extend(d);
            }
            if let Err(d) = theme {
                diagnostics.extend(d);
            }
            Err(Failure(diagnostics.sorted()))
        }
    }
}

/// What the command line changes in a loaded site.
pub(crate) fn apply_args(mut site: Site, args: &BuildArgs) -> Result<Site, Failure> {
    if let Some(base_url) = &args.base_url {
        site.config.base_url = Some(normalise_base_url(base_url)?);
    }
    Ok(site)
}

pub(crate) fn model_options(args: &BuildArgs) -> ModelOptions {
    ModelOptions {
        as_of: args.as_of,
        include_drafts: args.drafts,
    }
}

/// Loads, computes and renders in memory (the dev server, `check`).
pub fn render_in_memory(
    root: &Path,
    args: &BuildArgs,
    render_options: &RenderOptions,
) -> Result<Rendered, Failure> {
    let laps = Laps::new();
    let Prepared { site, theme, model } = prepare(root, args, &laps)?;
    let output = render::render_site(&site, &model, &theme, render_options)?;
    laps.lap("render");
    Ok(Rendered {
        output,
        handoffs: model.cards.len(),
        warnings: site.warnings,
        config: site.config,
    })
}

fn normalise_base_url(url: &str) -> Result<String, Failure> {
    let trimmed = url.trim().trim_end_matches('/');
    let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty());
    if ok {
        Ok(trimmed.to_string())
    } else {
        Err(
            Diagnostic::error(format!("--base-url `{url}` is not an http(s) URL"))
                .with_hint("for example --base-url https://scorecards.example.internal/partners")
                .into(),
        )
    }
}

/// Where a build writes.
fn output_dir(root: &Path, args: &BuildArgs, config: &Config) -> PathBuf {
    // --output is relative to where the user stands; output_dir in
    // site.toml is relative to the site.
    match &args.output {
        Some(dir) => dir.clone(),
        None => root.join(&config.output_dir),
    }
}

/// Builds into the output folder. Pages go to the [`Publisher`] as they
/// render, so the site is never held in memory whole, and pages whose
/// inputs did not change since the last build are not rendered again.
pub fn run(root: &Path, args: &BuildArgs) -> Result<BuildReport, Failure> {
    let laps = Laps::new();
    let events_file = |config: &Config| output_dir(root, args, config).join(EVENTS_CACHE);
    let site = Site::load_for_build(root, &events_file);
    let (site, theme) = with_theme(root, args, site, &laps)?;
    // The output folder is opened before the model is computed (which
    // cannot fail), so the events' copy can be written meanwhile.
    let output_dir = output_dir(root, args, &site.config);
    output::check_output_dir(root, &output_dir)?;
    let publisher = Publisher::open(&output_dir, args.force)?;
    let options = RenderOptions {
        explicit_index: args.explicit_index,
        inject: None,
    };
    let side = publisher.side_folder().to_path_buf();
    let events_file = site.events_file.as_ref();
    let (model, summary, written) = std::thread::scope(|scope| {
        // The events' copy for the next build is written while the model
        // is computed, mostly on one core, rather than after the commit,
        // where it was serial work, 75 ms on tmpfs and 0.2 s on ext4
        // (dirty pages from writing the site slowed it there).
        let writer = events_file.map(|file| scope.spawn(|| file.write(&site.events, &side)));
        let model = Model::compute(&site, &model_options(args));
        laps.lap("model");
        let summary = render::render_into(&site, &model, &theme, &options, &publisher);
        let written = writer.is_some_and(|writer| {
            writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (model, summary, written)
    });
    let abandon = |failure: Failure| {
        if let Some(file) = events_file {
            file.abandon(&side);
        }
        failure
    };
    let summary = summary.map_err(abandon)?;
    laps.lap("render");
    let stats = publisher.commit().map_err(abandon)?;
    if let Some(file) = events_file {
        file.finish(written);
    }
    laps.lap("publish");
    let mut site = site;
    let warnings = std::mem::take(&mut site.warnings);
    let handoffs = model.cards.len();
    let mut leftovers = summary.leftovers;
    leftovers.keep((site, model, theme));
    Ok(BuildReport {
        warnings,
        handoffs,
        pages: summary.pages,
        files: summary.files,
        output_dir,
        stats,
        leftovers,
    })
}
