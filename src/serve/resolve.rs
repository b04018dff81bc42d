//! Request paths → files of the in-memory site, and their content types.
//!
//! Pure functions over strings, so every traversal trick is a unit test.
//! The rule is strict on purpose: a path is a sequence of plain names.
//! Anything that could mean "somewhere else" — `.` or `..` segments (also
//! percent-encoded), an encoded `/`, a backslash, a NUL, a drive letter, an
//! empty segment (`//etc/passwd`) or invalid encoding — is not found. The
//! server only ever looks names up in a map, so none of these could reach
//! the disk anyway; refusing them keeps that true if that ever changes.

use crate::output::Output;

/// What a request path leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A file of the site, by its output path (`handoffs/x/index.html`).
    File(String),
    /// A folder asked for without its trailing slash: where to send it.
    Redirect(String),
    /// Nothing here, or a path that tries to leave the site.
    NotFound,
}

/// Resolves the request target (`/x/y?query`) against the site's files.
pub fn resolve(target: &str, output: &Output) -> Resolution {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let path = path.split_once('#').map_or(path, |(path, _)| path);
    let Some(name) = output_path(path) else {
        return Resolution::NotFound;
    };
    let wants_folder = name.is_empty() || name.ends_with('/');
    if wants_folder {
        let index = format!("{name}index.html");
        return match output.get(&index) {
            Some(_) => Resolution::File(index),
            None => Resolution::NotFound,
        };
    }
    if output.get(&name).is_some() {
        return Resolution::File(name);
    }
    if output.get(&format!("{name}/index.html")).is_some() {
        // Keep the path as the client sent it (still encoded).
        let location = match query {
            Some(query) => format!("{path}/?{query}"),
            None => format!("{path}/"),
        };
        return Resolution::Redirect(location);
    }
    Resolution::NotFound
}

/// The decoded output path for a URL path, or `None` if the path tries to
/// leave the site or is not well formed. `/` becomes `""`, `/a/b/` becomes
/// `"a/b/"`.
pub fn output_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() {
        return Some(String::new());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    let mut names = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            // Only a trailing slash may leave an empty segment.
            if i == last {
                break;
            }
            return None;
        }
        let name = percent_decode(segment)?;
        if !is_plain_name(&name) {
            return None;
        }
        names.push(name);
    }
    let mut joined = names.join("/");
    if segments[last].is_empty() {
        joined.push('/');
    }
    Some(joined)
}

/// A single file or folder name that cannot mean anything else.
fn is_plain_name(name: &str) -> bool {
    name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0', ':'])
        && !name.chars().any(char::is_control)
}

/// Decodes `%XX` escapes; `None` for a broken escape or bytes that are not
/// UTF-8. `+` stays `+` (it only means a space in query strings).
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

/// The `Content-Type` for an output path, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "md" => "text/markdown; charset=utf-8",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Output {
        let mut output = Output::default();
        for path in [
            "index.html",
            "404.html",
            "style.css",
            "handoffs/index.html",
            "handoffs/acme/index.html",
            "Zoë Deal.txt",
            "a b.txt",
        ] {
            output.insert(path.to_string(), path.as_bytes().to_vec());
        }
        output
    }

    fn file(path: &str) -> Resolution {
        Resolution::File(path.to_string())
    }

    #[test]
    fn folders_serve_their_index() {
        let site = site();
        assert_eq!(resolve("/", &site), file("index.html"));
        assert_eq!(resolve("/?x=1", &site), file("index.html"));
        assert_eq!(resolve("/handoffs/", &site), file("handoffs/index.html"));
        assert_eq!(
            resolve("/handoffs/acme/#top", &site),
            file("handoffs/acme/index.html")
        );
        assert_eq!(
            resolve("/handoffs/acme/index.html", &site),
            file("handoffs/acme/index.html")
        );
    }

    #[test]
    fn folders_without_a_slash_redirect() {
        let site = site();
        assert_eq!(
            resolve("/handoffs/acme", &site),
            Resolution::Redirect("/handoffs/acme/".into())
        );
        assert_eq!(
            resolve("/handoffs?page=2", &site),
            Resolution::Redirect("/handoffs/?page=2".into())
        );
        assert_eq!(resolve("/style.css/", &site), Resolution::NotFound);
    }

    #[test]
    fn names_are_percent_decoded() {
        let site = site();
        assert_eq!(resolve("/Zo%C3%AB%20Deal.txt", &site), file("Zoë Deal.txt"));
        assert_eq!(resolve("/a%20b.txt", &site), file("a b.txt"));
        assert_eq!(resolve("/a+b.txt", &site), Resolution::NotFound);
        assert_eq!(resolve("/st%79le.css", &site), file("style.css"));
    }

    #[test]
    fn unknown_paths_are_not_found() {
        let site = site();
        assert_eq!(resolve("/nope", &site), Resolution::NotFound);
        assert_eq!(resolve("/nope/", &site), Resolution::NotFound);
        assert_eq!(resolve("", &site), Resolution::NotFound);
        assert_eq!(resolve("*", &site), Resolution::NotFound);
        assert_eq!(resolve("http://example.com/", &site), Resolution::NotFound);
    }

    #[test]
    fn paths_that_leave_the_site_are_not_found() {
        let site = site();
        for attack in [
            "/../site.toml",
            "/handoffs/../index.html",
            "/./index.html",
            "/%2e%2e/site.toml",
            "/%2E%2E/site.toml",
            "/.%2e/site.toml",
            "/..%2fsite.toml",
            "/..%2Fsite.toml",
            "/handoffs%2facme/index.html",
            "/..%5csite.toml",
            "/..\\site.toml",
            "/handoffs\\acme\\index.html",
            "//etc/passwd",
            "/handoffs//acme/",
            "/C:/Windows/win.ini",
            "/c%3a/Windows/win.ini",
            "/index.html%00.css",
            "/%00",
            "/%",
            "/%2",
            "/%zz",
            "/%c3",
            "/%0aindex.html",
        ] {
            assert_eq!(resolve(attack, &site), Resolution::NotFound, "{attack}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        for (path, expected) in [
            ("index.html", "text/html; charset=utf-8"),
            ("style.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("search.json", "application/json"),
            ("favicon.svg", "image/svg+xml"),
            ("a.PNG", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.jpeg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("favicon.ico", "image/x-icon"),
            ("robots.txt", "text/plain; charset=utf-8"),
            ("sitemap.xml", "application/xml"),
            ("llms.md", "text/markdown; charset=utf-8"),
            ("f.woff2", "font/woff2"),
            ("doc.pdf", "application/pdf"),
            ("LICENSE", "application/octet-stream"),
        ] {
            assert_eq!(content_type(path), expected, "{path}");
        }
    }
}
