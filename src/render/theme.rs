//! The theme: templates and static files, resolved site → theme → built-in.
//!
//! The default theme is compiled into the binary so a site needs nothing
//! but content; any file of it can be replaced by a file of the same name
//! in the site's `themes/<name>/` or `templates/` and `static/` folders.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use include_dir::{Dir, include_dir};
use tera::{ErrorKind, Tera};
use walkdir::WalkDir;

use crate::diagnostics::{
    Diagnostic, Diagnostics, LineIndex, Position, did_you_mean, display_path,
};

static DEFAULT_THEME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

pub struct Theme {
    pub tera: Tera,
    /// Template name → the file it came from, for render errors.
    pub sources: BTreeMap<String, String>,
    /// Output path → bytes, later layers already applied.
    pub static_files: BTreeMap<String, Vec<u8>>,
    /// A hash of every template's name and text, for render keys.
    pub templates_key: u64,
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

const TEMPLATE_HINT: &str = "fix the template, or delete it to fall back to the built-in theme";

/// Where a Tera report points: its 1-based line and column.
fn span_position(span: &tera::Span) -> Position {
    Position {
        line: span.start_line,
        // Tera counts columns from 0, in characters.
        column: Some(span.start_col + 1),
    }
}

/// Where `parent` is named in an `extends` tag of `text`, rather than
/// wherever else the name first appears (a comment, say).
fn extends_name_at(text: &str, parent: &str) -> Option<usize> {
    text.match_indices("extends").find_map(|(at, keyword)| {
        let after = &text[at + keyword.len()..];
        let quoted = after.trim_start();
        let quote = quoted
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))?;
        let name = quoted[quote.len_utf8()..].strip_prefix(parent)?;
        name.starts_with(quote)
            .then(|| at + keyword.len() + (after.len() - quoted.len()) + quote.len_utf8())
    })
}

/// Diagnostics for templates Tera refused to load, each in the file the
/// template came from and, where Tera knows it, at the line and column.
fn template_errors(
    templates: &BTreeMap<String, (String, String)>,
    error: &tera::Error,
) -> Vec<Diagnostic> {
    let file_of = |name: &str| templates.get(name).map(|(file, _)| file.clone());
    let mut found = Vec::new();
    match error.kind() {
        ErrorKind::SyntaxError(_) => {
            // Tera stops at the first template that does not parse; parse
            // each alone so every broken template is reported at once.
            for (name, (file, text)) in templates {
                if let Err(error) = Tera::default().add_raw_template(name, text)
                    && let ErrorKind::SyntaxError(report) = error.kind()
                {
                    found.push(
                        Diagnostic::error(format!("template syntax error: {}", report.message()))
                            .in_file(file)
                            .at(span_position(report.span()))
                            .with_hint(TEMPLATE_HINT),
                    );
                }
            }
        }
        ErrorKind::Msg(text) => {
            // Checks across templates (unknown filters, functions, tests,
            // components and included templates, blocks missing from the
            // parent) come as one message of reports, each
            // `error: …` then ` --> name:line:column`.
            for (message, location) in reports(text) {
                let hint = if message.starts_with("Unknown template") {
                    "check the names in {% extends %} and {% include %}"
                } else if message.starts_with("Block `") {
                    "the template it extends must define the block too: a base.html of your own needs every block the pages fill"
                } else {
                    TEMPLATE_HINT
                };
                let mut diagnostic =
                    Diagnostic::error(format!("template error: {message}")).with_hint(hint);
                if let Some((name, position)) = location {
                    if let Some(file) = file_of(name) {
                        diagnostic = diagnostic.in_file(file);
                    }
                    diagnostic = diagnostic.at(position);
                }
                found.push(diagnostic);
            }
        }
        ErrorKind::MissingParent { current, parent } => {
            let hint = match did_you_mean(parent, templates.keys().map(String::as_str)) {
                Some(close) => format!("did you mean `{close}`?"),
                None => "check the name in {% extends %}".to_string(),
            };
            let mut diagnostic = Diagnostic::error(format!(
                "template error: `{current}` extends `{parent}`, which does not exist"
            ))
            .with_hint(hint);
            if let Some((file, text)) = templates.get(current) {
                diagnostic = diagnostic.in_file(file);
                if let Some(at) =
                    extends_name_at(text, parent).or_else(|| text.find(parent.as_str()))
                {
                    diagnostic = diagnostic.at(LineIndex::new(text).position(at));
                }
            }
            found.push(diagnostic);
        }
        ErrorKind::CircularExtend { tpl, .. } | ErrorKind::CircularInclude { tpl, .. } => {
            let mut diagnostic = Diagnostic::error(format!("template error: {error}"))
                .with_hint("check the names in {% extends %} and {% include %}");
            if let Some(file) = file_of(tpl) {
                diagnostic = diagnostic.in_file(file);
            }
            found.push(diagnostic);
        }
        _ => {}
    }
    if found.is_empty() {
        found.push(
            Diagnostic::error(format!("template error: {}", error_chain(error)))
                .with_hint(TEMPLATE_HINT),
        );
    }
    found
}

/// The reports in one of Tera's combined messages: each message, with the
/// template name and position its ` --> name:line:column` line gives.
fn reports(text: &str) -> Vec<(&str, Option<(&str, Position)>)> {
    let mut found: Vec<(&str, Option<(&str, Position)>)> = Vec::new();
    for line in text.lines() {
        if let Some(message) = line.strip_prefix("error: ") {
            found.push((message, None));
        } else if let Some(location) = line.trim_start().strip_prefix("--> ")
            && let Some((_, at)) = found.last_mut()
            && at.is_none()
        {
            let mut parts = location.rsplitn(3, ':');
            if let (Some(column), Some(line), Some(name)) =
                (parts.next(), parts.next(), parts.next())
                && let (Ok(line), Ok(column)) = (line.parse(), column.parse())
            {
                *at = Some((
                    name,
                    Position {
                        line,
                        column: Some(column),
                    },
                ));
            }
        }
    }
    if found.is_empty() {
        found.push((text.trim(), None));
    }
    found
}

/// HTML escaping for templates. Unlike Tera's default it leaves `/` alone:
/// escaping it buys no safety in attribute values we always quote, and
/// `href="..&#x2F;style.css"` makes the output hard to read and diff.
///
/// Tera calls this for every variable on every page, so it writes runs of
/// plain text whole instead of one byte at a time; the five characters are
/// ASCII, so scanning bytes never splits a character.
pub fn escape_html(input: &str, out: &mut dyn Write) -> io::Result<()> {
    let bytes = input.as_bytes();
    let mut plain_from = 0;
    for (at, byte) in bytes.iter().enumerate() {
        let entity: &[u8] = match byte {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#x27;",
            _ => continue,
        };
        out.write_all(&bytes[plain_from..at])?;
        out.write_all(entity)?;
        plain_from = at + 1;
    }
    out.write_all(&bytes[plain_from..])
}

/// A Tera error and its causes on one line, for errors that carry no
/// position of their own.
fn error_chain(error: &dyn std::error::Error) -> String {
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
            for diagnostic in template_errors(&templates, &error) {
                diagnostics.push(diagnostic);
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
        // No Tera 2 filter, test or function reads the environment, the
        // clock or a random source (Tera 1's `get_env` is gone), and maps
        // keep their order (`preserve_order`), so a page's output depends
        // on nothing but the templates' text and the values it is given.
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for (name, (_, text)) in &templates {
            for part in [name, text] {
                std::hash::Hasher::write_usize(&mut hasher, part.len());
                std::hash::Hasher::write(&mut hasher, part.as_bytes());
            }
        }
        let templates_key = hasher.digest();
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

    /// Tera's error rendering `template` as a diagnostic saying `what`
    /// failed, at the line and column of the template Tera points to (a
    /// component or an included template may be in another file).
    pub fn render_error(&self, what: &str, template: &str, error: &tera::Error) -> Diagnostic {
        let ErrorKind::RenderingError(report) = error.kind() else {
            return Diagnostic::error(format!("{what}: {}", error_chain(error)))
                .in_file(self.template_source(template));
        };
        let message = report.message();
        let diagnostic = Diagnostic::error(format!("{what}: {message}"))
            .in_file(self.template_source(report.filename()))
            .at(span_position(report.span()));
        if message.contains("not defined") || message.contains("undefined") {
            diagnostic.with_hint(
                "Tera stops at missing values: test with `is defined`, give a default with `| default(value=…)`, or write `x?.y` where `x` may be missing",
            )
        } else {
            diagnostic
        }
    }

    /// A short hash of the static files, appended to asset URLs so
    /// browsers never show a stale stylesheet after an upgrade.
    pub fn asset_version(&self) -> String {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&self.static_files, &mut hasher);
        format!("{:08x}", std::hash::Hasher::finish(&hasher) as u32)
    }
}
