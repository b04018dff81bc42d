//! Reading TOML (site.toml and front matter) with every key's position.
//!
//! We walk the spanned `DeTable` by hand instead of deriving `Deserialize`
//! because serde stops at the first problem; walking lets us report every
//! unknown key, bad grade and missing field of a file in one run, each at its
//! real line in the file.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostics::{Diagnostic, Diagnostics, LineIndex, Position, did_you_mean};

/// A TOML text that sits at `offset` bytes into a file (front matter starts
/// after its `+++` line), so spans can be mapped to the file's own lines.
pub struct TomlSource<'a> {
    pub file: &'a str,
    lines: LineIndex<'a>,
    offset: usize,
}

impl<'a> TomlSource<'a> {
    pub fn new(file: &'a str, file_text: &'a str, offset: usize) -> Self {
        TomlSource {
            file,
            lines: LineIndex::new(file_text),
            offset,
        }
    }

    pub fn position(&self, span: &Range<usize>) -> Position {
        self.lines.position(self.offset + span.start)
    }

    pub fn error(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message)
            .in_file(self.file)
            .at(self.position(span))
    }

    pub fn warning(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(message)
            .in_file(self.file)
            .at(self.position(span))
    }

    /// Parses `text`, reporting a syntax error at its real position.
    pub fn parse<'t>(&self, text: &'t str, diagnostics: &mut Diagnostics) -> Option<DeTable<'t>> {
        match DeTable::parse(text) {
            Ok(table) => Some(table.into_inner()),
            Err(error) => {
                let span = error.span().unwrap_or(0..0);
                let message = error.message().trim().to_string();
                diagnostics.push(
                    self.error(&span, format!("invalid TOML: {message}"))
                        .with_hint("check quotes, `=` signs and brackets on this line"),
                );
                None
            }
        }
    }

    /// Reports every key of `table` that is not in `known`, suggesting the
    /// nearest known key for likely typos. Returns the keys suggested, so a
    /// caller need not also call them missing.
    pub fn reject_unknown_keys<'k>(
        &self,
        table: &DeTable<'_>,
        known: &[&'k str],
        context: &str,
        diagnostics: &mut Diagnostics,
    ) -> Vec<&'k str> {
        let mut suggested = Vec::new();
        for key in table.keys() {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                continue;
            }
            let mut diagnostic = self.error(&key.span(), format!("unknown key `{name}`{context}"));
            diagnostic = match did_you_mean(name, known.iter().copied()) {
                Some(suggestion) => {
                    suggested.push(suggestion);
                    diagnostic.with_hint(format!("did you mean `{suggestion}`?"))
                }
                None => diagnostic.with_hint(format!(
                    "known keys: {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            diagnostics.push(diagnostic);
        }
        suggested
    }
}

/// Looks a key up in a table, keeping its key span.
pub fn get<'t, 'i>(
    table: &'t DeTable<'i>,
    key: &str,
) -> Option<(Range<usize>, &'t Spanned<DeValue<'i>>)> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(k, v)| (k.span(), v))
}

pub fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Typed accessors that report a wrong type at the value's position.
pub struct Reader<'s, 'a> {
    pub source: &'s TomlSource<'a>,
    pub diagnostics: &'s mut Diagnostics,
}

impl Reader<'_, '_> {
    fn wrong_type(&mut self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        let message = format!(
            "`{key}` must be {expected}, found {}",
            type_name(value.get_ref())
        );
        let example = match expected {
            "a string" => format!("{key} = \"…\""),
            "`true` or `false`" => format!("{key} = true"),
            "a whole number" => format!("{key} = 5"),
            "a table" => format!("[{key}]"),
            _ => key.to_string(),
        };
        let diagnostic = self
            .source
            .error(&value.span(), message)
            .with_hint(format!("write it like `{example}`"));
        self.diagnostics.push(diagnostic);
    }

    pub fn string(&mut self, table: &DeTable<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let (_, value) = get(table, key)?;
        match value.get_ref() {
            DeValue::String(text) => Some((text.to_string(), value.span())),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    pub fn boolean(&mut self, table: &DeTable<'_>, key: &str) -> Option<bool> {
        let (_, value) = get(table, key)?;
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            _ => {
                self.wrong_type(key, value, "`true` or `false`");
                None
            }
        }
    }

    /// A non-negative integer that fits `u32`.
    pub fn count(&mut self, table: &DeTable<'_>, key: &str) -> Option<(u32, Range<usize>)> {
        let (_, value) = get(table, key)?;
        let parsed = match value.get_ref() {
            DeValue::Integer(number) => {
                i64::from_str_radix(&number.as_str().replace('_', ""), number.radix())
                    .ok()
                    .and_then(|n| u32::try_from(n).ok())
            }
            _ => {
                self.wrong_type(key, value, "a whole number");
                return None;
            }
        };
        match parsed {
            Some(n) => Some((n, value.span())),
            None => {
                let diagnostic = self
                    .source
                    .error(
                        &value.span(),
                        format!("`{key}` must be a whole number of 0 or more"),
                    )
                    .with_hint("negative numbers and fractions have no meaning here");
                self.diagnostics.push(diagnostic);
                None
            }
        }
    }

    /// A bare TOML date (`2026-10-02`), without a time or offset.
    pub fn date(&mut self, table: &DeTable<'_>, key: &str) -> Option<jiff::civil::Date> {
        let (_, value) = get(table, key)?;
        let bad = |reader: &mut Self, found: String| {
            let diagnostic = reader
                .source
                .error(
                    &value.span(),
                    format!("`{key}` must be a date like 2026-10-02, found {found}"),
                )
                .with_hint("write a bare TOML date without quotes or time: `date = 2026-10-02`");
            reader.diagnostics.push(diagnostic);
            None
        };
        match value.get_ref() {
            DeValue::Datetime(datetime) => match (datetime.date, datetime.time, datetime.offset) {
                (Some(d), None, None) => {
                    match jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8) {
                        Ok(date) => Some(date),
                        Err(_) => bad(self, format!("`{datetime}`")),
                    }
                }
                _ => bad(self, format!("`{datetime}`")),
            },
            DeValue::String(text) => bad(self, format!("the string \"{text}\"")),
            other => bad(self, type_name(other).to_string()),
        }
    }

    pub fn table<'t, 'i>(&mut self, table: &'t DeTable<'i>, key: &str) -> Option<&'t DeTable<'i>> {
        let (_, value) = get(table, key)?;
        match value.get_ref() {
            DeValue::Table(inner) => Some(inner),
            _ => {
                self.wrong_type(key, value, "a table");
                None
            }
        }
    }
}

/// Converts a TOML value to JSON for templates (`[extra]` tables).
pub fn to_json(value: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value;
    match value {
        DeValue::String(text) => Value::String(text.to_string()),
        DeValue::Integer(number) => {
            i64::from_str_radix(&number.as_str().replace('_', ""), number.radix())
                .map_or(Value::Null, Value::from)
        }
        DeValue::Float(number) => number
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        DeValue::Boolean(flag) => Value::Bool(*flag),
        DeValue::Datetime(datetime) => Value::String(datetime.to_string()),
        DeValue::Array(items) => Value::Array(items.iter().map(|v| to_json(v.get_ref())).collect()),
        DeValue::Table(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}
