//! Splitting a Markdown file into its `+++` TOML front matter and body.

use crate::diagnostics::{Diagnostic, Position};

/// The two halves of a file, with where each starts so diagnostics can
/// point at the file's real lines.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// The file text without a leading BOM; offsets below index into it.
    pub text: &'a str,
    pub front_matter: &'a str,
    pub front_matter_offset: usize,
    pub body: &'a str,
    /// 1-based line of the body's first line in the file.
    pub body_line: usize,
}

fn is_fence(line: &str, fence: &str) -> bool {
    line.trim_end() == fence
}

/// Splits `text`. `required` says whether a file with no front matter at
/// all is an error (briefs) or just all body (FAQ and intro pages).
pub fn split<'a>(file: &str, text: &'a str, required: bool) -> Result<Split<'a>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line_end = text.find('\n').map_or(text.len(), |i| i + 1);
    let first_line = &text[..first_line_end];
    let at_start = Position {
        line: 1,
        column: Some(1),
    };

    if is_fence(first_line, "---") {
        return Err(
            Diagnostic::error("YAML front matter (`---`) is not supported")
                .in_file(file)
                .at(at_start)
                .with_hint("use TOML between `+++` lines instead: `+++`, `title = \"…\"`, `+++`"),
        );
    }
    if !is_fence(first_line, "+++") {
        if required {
            let mut diagnostic = Diagnostic::error("this file has no front matter")
                .in_file(file)
                .at(at_start);
            diagnostic = if first_line.trim_start().starts_with("title") {
                diagnostic.with_hint("did you forget the opening `+++` line before `title = …`?")
            } else {
                diagnostic.with_hint(
                    "start the file with a `+++` line, the TOML keys, then another `+++` line",
                )
            };
            return Err(diagnostic);
        }
        return Ok(Split {
            text,
            front_matter: "",
            front_matter_offset: 0,
            body: text,
            body_line: 1,
        });
    }

    let mut offset = first_line_end;
    let mut line_number = 2;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let line = &text[offset..end];
        if is_fence(line, "+++") {
            return Ok(Split {
                text,
                front_matter: &text[first_line_end..offset],
                front_matter_offset: first_line_end,
                body: &text[end..],
                body_line: line_number + 1,
            });
        }
        offset = end;
        line_number += 1;
    }
    Err(
        Diagnostic::error("front matter opened with `+++` is never closed")
            .in_file(file)
            .at(at_start)
            .with_hint("add a line with just `+++` after the last front matter key"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_offsets_and_body_line() {
        let split = split("a.md", "+++\ntitle = \"x\"\n+++\nBody\n", true).unwrap();
        assert_eq!(split.front_matter, "title = \"x\"\n");
        assert_eq!(split.front_matter_offset, 4);
        assert_eq!(split.body, "Body\n");
        assert_eq!(split.body_line, 4);
    }

    #[test]
    fn accepts_bom_and_crlf() {
        let split = split("a.md", "\u{feff}+++\r\ntitle = \"x\"\r\n+++\r\nBody", true).unwrap();
        assert_eq!(split.front_matter, "title = \"x\"\r\n");
        assert_eq!(split.body, "Body");
    }

    #[test]
    fn refuses_yaml_with_a_hint() {
        let error = split("a.md", "---\ntitle: x\n---\n", true).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a.md:1:1: error: YAML front matter (`---`) is not supported\n  hint: use TOML between `+++` lines instead: `+++`, `title = \"…\"`, `+++`"
        );
    }

    #[test]
    fn missing_or_unclosed_front_matter() {
        let error = split("a.md", "title = \"x\"\n", true).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("did you forget the opening `+++`")
        );
        let error = split("a.md", "+++\ntitle = \"x\"\n", true).unwrap_err();
        assert!(error.to_string().contains("never closed"));
        let optional = split("a.md", "# Just text\n", false).unwrap();
        assert_eq!(optional.body, "# Just text\n");
    }
}
