//! `trustcard build`: load → compute → render → publish.

use std::path::{Path, PathBuf};

use crate::cli::BuildArgs;
use crate::config::Config;
use crate::diagnostics::{Diagnostic, Diagnostics, Failure};
use crate::model::{Model, ModelOptions};
use crate::output::{self, Output, PublishStats};
use crate::render::theme::Theme;
use crate::render::{self, RenderOptions};
use crate::site::Site;

#[derive(Debug)]
pub struct BuildReport {
    pub warnings: Diagnostics,
    pub handoffs: usize,
    pub pages: usize,
    pub files: usize,
    pub output_dir: PathBuf,
    pub stats: PublishStats,
}

/// Everything a build renders, before anything is written.
pub struct Rendered {
    pub output: Output,
    pub warnings: Diagnostics,
    pub handoffs: usize,
    pub config: Config,
}

/// Loads the site and theme (reporting errors of both together), computes
/// and renders in memory.
pub fn render_in_memory(
    root: &Path,
    args: &BuildArgs,
    render_options: &RenderOptions,
) -> Result<Rendered, Failure> {
    let timings = std::env::var_os("TRUSTCARD_TIMINGS").is_some();
    let started = std::time::Instant::now();
    let lap = |stage: &str| {
        if timings {
            eprintln!("{stage}: {} ms", started.elapsed().as_millis());
        }
    };
    let site = Site::load(root);
    lap("load");
    let theme_name = match &site {
        Ok(site) => site.config.theme.clone(),
        Err(_) => Config::load_lenient(root).0.theme,
    };
    let theme = Theme::load(root, &theme_name);
    let (mut site, theme) = match (site, theme) {
        (Ok(site), Ok(theme)) => (site, theme),
        (site, theme) => {
            let mut diagnostics = Diagnostics::new();
            if let Err(Failure(d)) = site {
                diagnostics.extend(d);
            }
            if let Err(d) = theme {
                diagnostics.extend(d);
            }
            return Err(Failure(diagnostics.sorted()));
        }
    };
    if let Some(base_url) = &args.base_url {
        site.config.base_url = Some(normalise_base_url(base_url)?);
    }
    let model = Model::compute(
        &site,
        &ModelOptions {
            as_of: args.as_of,
            include_drafts: args.drafts,
        },
    );
    lap("model");
    let output = render::render_site(&site, &model, &theme, render_options)?;
    lap("render");
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

pub fn run(root: &Path, args: &BuildArgs) -> Result<BuildReport, Failure> {
    let rendered = render_in_memory(
        root,
        args,
        &RenderOptions {
            explicit_index: args.explicit_index,
            inject: None,
        },
    )?;
    // --output is relative to where the user stands; output_dir in
    // site.toml is relative to the site.
    let output_dir = match &args.output {
        Some(dir) => dir.clone(),
        None => root.join(&rendered.config.output_dir),
    };
    output::check_output_dir(root, &output_dir)?;
    let stats = output::publish(&rendered.output, &output_dir, args.force)?;
    Ok(BuildReport {
        warnings: rendered.warnings,
        handoffs: rendered.handoffs,
        pages: rendered.output.page_count(),
        files: rendered.output.len(),
        output_dir,
        stats,
    })
}
