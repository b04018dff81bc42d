//! The theme: templates and static files, resolved site → theme → built-in.
//!
//! The default theme is compiled into the binary so a site needs nothing
//! but content; any file of it can be replaced by a file of the same name
//! in the site's `themes/<name>/` or `templates/` and `static/` folders.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{Dir, include_dir};
use tera::Tera;
use walkdir::WalkDir;

use crate::diagnostics::{Diagnostic, Diagnostics, display_path};

static DEFAULT_THEME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

pub struct Theme {
    pub tera: Tera,
    /// Template name → the file it came from, for render errors.
    pub sources: BTreeMap<String, String>,
    /// Output path → bytes, later layers already applied.
    pub static_files: BTreeMap<String, Vec<u8>>,
    /// A hash of every template's name and text, for render keys; `None`
    /// when a template calls `get_env`, whose result no key can capture.
    pub templates_key: Option<u64>,
    /// Whether a template (the default `handoffs_table` does) shows the
    /// pre-rendered `h.row`, so lists need rows rendered for them.
    pub uses_rows: bool,
}

fn embedded_files(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static [u8])>) {
    for file in dir.files() {
        out.push((
            file.path().to_string_lossy().replace('\\', "/"),
            file.contents(),
        ));
    }
    for sub in dir.dirs() {
        embedded_files(sub, out);
    }
}

/// Files under `dir`, as (path relative to `dir` with `/`, full path).
fn files_under(
    dir: &Path,
    diagnostics: &mut Diagnostics,
    root: &Path,
) -> Vec<(String, std::path::PathBuf)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut files = Vec::new();
    for entry in WalkDir::new(dir).sort_by_file_name() {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                let relative = display_path(dir, entry.path());
                files.push((relative, entry.path().to_path_buf()));
            }
            Ok(_) => {}
            Err(error) => diagnostics.push(
                Diagnostic::error(format!("cannot read: {error}"))
                    .in_file(display_path(root, error.path().unwrap_or(dir))),
            ),
        }
    }
    files
}

fn template_error(file: &str, error: &tera::Error) -> Diagnostic {
    let message = error_chain(error);
    let mut diagnostic = Diagnostic::error(format!("template error: {message}"))
        .in_file(file)
        .with_hint("fix the template, or delete it to fall back to the built-in theme");
    // Tera's parse errors carry a pest position: `--> 2:1`.
    if let Some(position) = message.split("--> ").nth(1) {
        let mut numbers = position
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse::<usize>().ok());
        if let (Some(Some(line)), Some(Some(column))) = (numbers.next(), numbers.next()) {
            let detail = message
                .rsplit("= ")
                .next()
                .unwrap_or(&message)
                .trim()
                .to_string();
            diagnostic.message = format!("template syntax error: {detail}");
            diagnostic = diagnostic.at(crate::diagnostics::Position {
                line,
                column: Some(column),
            });
        }
    }
    diagnostic
}

/// HTML escaping for templates. Unlike Tera's default it leaves `/` alone:
/// escaping it buys no safety in attribute values we always quote, and
/// `href="..&#x2F;style.css"` makes the output hard to read and diff.
///
/// Tera calls this for every variable on every page, so it copies runs of
/// plain text whole instead of pushing one `char` at a time; the five
/// characters are ASCII, so scanning bytes never splits a character.
pub fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    let mut plain_from = 0;
    for (at, byte) in input.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        out.push_str(&input[plain_from..at]);
        out.push_str(entity);
        plain_from = at + 1;
    }
    out.push_str(&input[plain_from..]);
    out
}

/// A Tera error and its causes on one line; Tera puts the useful part
/// (the line and what it expected) in the sources.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
        .replace('\n', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Theme {
    pub fn load(root: &Path, theme_name: &str) -> Result<Theme, Diagnostics> {
        let mut diagnostics = Diagnostics::new();
        let mut embedded = Vec::new();
        embedded_files(&DEFAULT_THEME, &mut embedded);

        // Templates: built-in first, then the theme folder, then the site's
        // own templates/, each replacing files of the same name.
        let mut templates: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut static_files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (path, bytes) in &embedded {
            if let Some(name) = path.strip_prefix("templates/") {
                let text = String::from_utf8_lossy(bytes).into_owned();
                templates.insert(
                    name.to_string(),
                    (format!("(built-in theme) templates/{name}"), text),
                );
            } else if let Some(name) = path.strip_prefix("static/") {
                static_files.insert(name.to_string(), bytes.to_vec());
            }
        }
        let theme_dir = root.join("themes").join(theme_name);
        if theme_name != "default" && !theme_dir.is_dir() {
            diagnostics.push(
                Diagnostic::error(format!("theme `{theme_name}` not found in themes/"))
                    .in_file("site.toml")
                    .with_hint("create themes/<name>/templates, or use theme = \"default\""),
            );
            return Err(diagnostics);
        }
        let layers = [
            (theme_dir.join("templates"), theme_dir.join("static")),
            (root.join("templates"), root.join("static")),
        ];
        for (template_dir, static_dir) in &layers {
            for (name, path) in files_under(template_dir, &mut diagnostics, root) {
                let file = display_path(root, &path);
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        templates.insert(name, (file, text));
                    }
                    Err(error) => diagnostics.push(
                        Diagnostic::error(format!("cannot read template: {error}")).in_file(file),
                    ),
                }
            }
            for (name, path) in files_under(static_dir, &mut diagnostics, root) {
                match std::fs::read(&path) {
                    Ok(bytes) => {
                        static_files.insert(name, bytes);
                    }
                    Err(error) => diagnostics.push(
                        Diagnostic::error(format!("cannot read: {error}"))
                            .in_file(display_path(root, &path)),
                    ),
                }
            }
        }

        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html", ".htm", ".xml"]);
        tera.set_escape_fn(escape_html);
        let all: Vec<(&str, &str)> = templates
            .iter()
            .map(|(name, (_, text))| (name.as_str(), text.as_str()))
            .collect();
        if let Err(error) = tera.add_raw_templates(all) {
            // Tera reports a syntax error without the file; parse each
            // template alone to find which ones are broken. Inheritance
            // errors only show up together, so they keep the general message.
            for (name, (file, text)) in &templates {
                if let Err(error) = Tera::default().add_raw_template(name, text)
                    && error_chain(&error).contains("Failed to parse")
                {
                    diagnostics.push(template_error(file, &error));
                }
            }
            if !diagnostics.has_errors() {
                diagnostics.push(
                    Diagnostic::error(format!("template error: {}", error_chain(&error)))
                        .with_hint(
                            "check the names in {% extends %}, {% include %} and {% import %}",
                        ),
                );
            }
            return Err(diagnostics);
        }
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        let sources = templates
            .iter()
            .map(|(name, (file, _))| (name.clone(), file.clone()))
            .collect();
        let uses_rows = templates
            .iter()
            .any(|(name, (_, text))| name != "handoff_row.html" && text.contains("h.row"));
        let templates_key = if templates.values().any(|(_, text)| text.contains("get_env")) {
            None
        } else {
            let mut hasher = xxhash_rust::xxh3::Xxh3::new();
            for (name, (_, text)) in &templates {
                for part in [name, text] {
                    std::hash::Hasher::write_usize(&mut hasher, part.len());
                    std::hash::Hasher::write(&mut hasher, part.as_bytes());
                }
            }
            Some(hasher.digest())
        };
        Ok(Theme {
            tera,
            sources,
            static_files,
            templates_key,
            uses_rows,
        })
    }

    /// The file a template came from, for render errors.
    pub fn template_source(&self, name: &str) -> String {
        self.sources
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("templates/{name}"))
    }

    /// A short hash of the static files, appended to asset URLs so
    /// browsers never show a stale stylesheet after an upgrade.
    pub fn asset_version(&self) -> String {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&self.static_files, &mut hasher);
        format!("{:08x}", std::hash::Hasher::finish(&hasher) as u32)
    }
}
