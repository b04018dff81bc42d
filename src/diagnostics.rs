//! Every problem a run finds, collected rather than returned one at a time.
//!
//! A user fixing ten typos should not need ten runs, so stages push into a
//! [`Diagnostics`] sink and the pipeline only stops at stage boundaries when
//! the sink holds an error. Positions are 1-based and point into the user's
//! real file (front matter offsets already applied).

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Path relative to the site root, with `/` separators.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: None,
            line: None,
            column: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, position: Position) -> Self {
        self.line = Some(position.line);
        self.column = position.column;
        self
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self.column = None;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl Diagnostic {
    /// The diagnostic with its label in ANSI colour, for terminals; callers
    /// write it through `anstream`, which strips the colour elsewhere.
    pub fn painted(&self) -> String {
        let text = self.to_string();
        let (label, colour) = match self.severity {
            Severity::Error => ("error:", "\x1b[1;31m"),
            Severity::Warning => ("warning:", "\x1b[1;33m"),
        };
        text.replacen(label, &format!("{colour}{label}\x1b[0m"), 1)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
            write!(f, ": ")?;
        }
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// A 1-based line and optional column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: Option<usize>,
}

/// Maps byte offsets in a file's text to lines and columns.
///
/// Columns count characters, not bytes, because that is what editors show.
/// Nothing is indexed up front: positions are wanted only for what gets
/// reported, and every brief of a big site would pay for an index.
pub struct LineIndex<'a> {
    text: &'a str,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        LineIndex { text }
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = 1 + memchr::memchr_iter(b'\n', before).count();
        let start = memchr::memrchr(b'\n', before).map_or(0, |newline| newline + 1);
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |prefix| prefix.chars().count() + 1);
        Position {
            line,
            column: Some(column),
        }
    }
}

/// The errors and warnings of one run, in the order they were found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn retain(&mut self, keep: impl FnMut(&Diagnostic) -> bool) {
        self.items.retain(keep);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    /// Sorted by file, then line, then column, so output is stable however
    /// the files were visited (parallel parsing visits them in any order).
    pub fn sorted(mut self) -> Self {
        self.items.sort_by(|a, b| {
            (a.severity, &a.file, a.line, a.column, &a.message)
                .cmp(&(b.severity, &b.file, b.line, b.column, &b.message))
        });
        self.items.dedup();
        self
    }

    /// Every diagnostic as the terminal shows it, for tests and logs.
    pub fn messages(&self) -> Vec<String> {
        self.items.iter().map(ToString::to_string).collect()
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics {
            items: vec![diagnostic],
        }
    }
}

/// A failed run: every diagnostic found, at least one of them an error.
#[derive(Debug)]
pub struct Failure(pub Diagnostics);

impl From<Diagnostic> for Failure {
    fn from(diagnostic: Diagnostic) -> Self {
        Failure(diagnostic.into())
    }
}

impl From<Diagnostics> for Failure {
    fn from(diagnostics: Diagnostics) -> Self {
        Failure(diagnostics)
    }
}

/// Turns a path under `root` into the `a/b.md` form diagnostics show.
pub fn display_path(root: &Path, path: &Path) -> String {
    let relative: PathBuf = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The closest candidate, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let index = LineIndex::new("ab\nzoë = 1\n");
        assert_eq!(
            index.position(0),
            Position {
                line: 1,
                column: Some(1)
            }
        );
        assert_eq!(
            index.position(3),
            Position {
                line: 2,
                column: Some(1)
            }
        );
        // "zoë " is 5 bytes but 4 characters.
        assert_eq!(
            index.position(8),
            Position {
                line: 2,
                column: Some(5)
            }
        );
        // A newline belongs to the line it ends; past the end is the end.
        let at = |offset| {
            let Position { line, column } = index.position(offset);
            (line, column)
        };
        assert_eq!(at(2), (1, Some(3)));
        assert_eq!(at(100), (3, Some(1)));
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(did_you_mean("seler", ["seller", "owner"]), Some("seller"));
        assert_eq!(
            did_you_mean("stong", ["strong", "weak", "missing"]),
            Some("strong")
        );
        assert_eq!(did_you_mean("banana", ["seller", "owner"]), None);
    }

    #[test]
    fn display_has_path_line_column_and_hint() {
        let d = Diagnostic::error("unknown key `seler`")
            .in_file("content/handoffs/a.md")
            .at(Position {
                line: 4,
                column: Some(1),
            })
            .with_hint("did you mean `seller`?");
        assert_eq!(
            d.to_string(),
            "content/handoffs/a.md:4:1: error: unknown key `seler`\n  hint: did you mean `seller`?"
        );
    }
}
