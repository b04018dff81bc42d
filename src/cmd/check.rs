//! `trustcard check`: everything a build validates, nothing written.

use std::path::Path;

use crate::cli::BuildArgs;
use crate::diagnostics::{Diagnostic, Diagnostics, Failure};
use crate::render::RenderOptions;

/// Every error and warning of the site, sorted. Rendering runs too (in
/// memory), so template mistakes are caught as a build would catch them.
pub fn run(root: &Path, as_of: Option<jiff::civil::Date>) -> Diagnostics {
    let args = BuildArgs {
        as_of,
        ..BuildArgs::default()
    };
    match super::build::render_in_memory(root, &args, &RenderOptions::default()) {
        Ok(rendered) => rendered.warnings,
        Err(Failure(diagnostics)) => diagnostics,
    }
}

pub fn to_json(diagnostics: &Diagnostics) -> String {
    let item = |d: &Diagnostic| {
        let message = match &d.hint {
            Some(hint) => format!("{} (hint: {hint})", d.message),
            None => d.message.clone(),
        };
        serde_json::json!({
            "file": d.file,
            "line": d.line,
            "column": d.column,
            "message": message,
        })
    };
    let value = serde_json::json!({
        "errors": diagnostics.errors().map(item).collect::<Vec<_>>(),
        "warnings": diagnostics.warnings().map(item).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
