//! Live reload: the script injected into every page in serve mode, the
//! server-sent events it listens to, and the page shown when no build has
//! succeeded yet.
//!
//! Server-sent events rather than a websocket: the browser reconnects by
//! itself, the protocol is a few lines of text, and tiny_http needs no
//! upgrade dance. Each connected tab holds one thread that waits on a
//! channel; a build publishes one preformatted frame to every channel.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The reserved path browsers listen on; no site file can live under
/// `__trustcard/` without being shadowed here.
pub const EVENTS_PATH: &str = "/__trustcard/events";

/// How often an idle stream sends a comment, so proxies keep it open and a
/// closed tab is noticed (its thread ends on the next failed write).
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// Inserted before `</body>` of every page, and only in serve mode.
///
/// Our build-error event is named `error`, which is also the name of the
/// event `EventSource` fires when the connection drops; those carry no
/// `data`, so the handler ignores them and the browser simply reconnects.
pub const SCRIPT: &str = r#"<script>/* trustcard serve: live reload */
(() => {
  const events = new EventSource("/__trustcard/events");
  events.addEventListener("reload", () => location.reload());
  events.addEventListener("error", (event) => {
    if (typeof event.data !== "string") return;
    let errors;
    try { errors = JSON.parse(event.data).errors; } catch { return; }
    let box = document.getElementById("trustcard-overlay");
    if (!box) {
      box = document.createElement("div");
      box.id = "trustcard-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;padding:2rem;background:rgba(30,0,0,.94);color:#fff;font:14px/1.5 ui-monospace,monospace";
      box.title = "click to hide; fixing the error reloads the page";
      box.addEventListener("click", () => box.remove());
      document.body.appendChild(box);
    }
    const title = document.createElement("strong");
    title.textContent = "trustcard: the build failed (the page below is the last good version); fix the error and it reloads";
    const list = document.createElement("pre");
    list.style.cssText = "white-space:pre-wrap;margin-top:1rem";
    list.textContent = errors.join("\n");
    box.replaceChildren(title, list);
  });
})();
</script>
"#;

/// The frame that tells every tab to reload.
pub fn reload_frame() -> Arc<str> {
    Arc::from("event: reload\ndata: \n\n")
}

/// The frame that shows a failed build's messages over the page. The data
/// is one line of JSON (`{"errors": [...]}`): JSON escapes the newlines
/// of multi-line diagnostics, and the script escapes nothing because it
/// only ever sets `textContent`.
pub fn error_frame(messages: &[String]) -> Arc<str> {
    let data = serde_json::json!({ "errors": messages });
    Arc::from(format!("event: error\ndata: {data}\n\n"))
}

/// The page served for every path while no build has succeeded yet. It
/// carries the script, so fixing the error reloads it into the site.
pub fn error_page(messages: &[String]) -> String {
    let text = escape_html(&messages.join("\n"));
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Build failed · trustcard</title></head>\n\
         <body style=\"margin:0;background:#1e0000\">\n\
         <div id=\"trustcard-overlay\" role=\"alert\" style=\"padding:2rem;color:#fff;font:14px/1.5 ui-monospace,monospace\">\
         <strong>trustcard: the build failed; fix the error and this page reloads</strong>\
         <pre style=\"white-space:pre-wrap;margin-top:1rem\">{text}</pre></div>\n{SCRIPT}</body>\n</html>\n"
    )
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Every connected tab's channel.
#[derive(Debug, Default)]
pub struct Hub {
    clients: Mutex<Vec<Sender<Arc<str>>>>,
}

impl Hub {
    pub fn subscribe(&self) -> Receiver<Arc<str>> {
        let (sender, receiver) = mpsc::channel();
        self.lock().push(sender);
        receiver
    }

    /// Sends `frame` to every tab still listening, forgetting the rest.
    pub fn broadcast(&self, frame: &Arc<str>) {
        self.lock()
            .retain(|client| client.send(Arc::clone(frame)).is_ok());
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sender<Arc<str>>>> {
        // A panicking sender cannot leave the list half-updated.
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Streams events to one tab until it goes away (a write fails) or the hub
/// drops its channel. Writes the HTTP response by hand, chunk by chunk,
/// because tiny_http's own chunked encoder buffers 8 KiB before sending.
pub fn stream(
    mut writer: impl Write,
    events: &Receiver<Arc<str>>,
    first: Option<Arc<str>>,
    keepalive: Duration,
) -> io::Result<()> {
    writer.write_all(
        b"HTTP/1.1 200 OK\r\n\
          Content-Type: text/event-stream; charset=utf-8\r\n\
          Cache-Control: no-store\r\n\
          X-Accel-Buffering: no\r\n\
          Transfer-Encoding: chunked\r\n\
          \r\n",
    )?;
    // Reconnect quickly after the server restarts.
    write_chunk(&mut writer, "retry: 1000\n\n")?;
    if let Some(frame) = first {
        write_chunk(&mut writer, &frame)?;
    }
    loop {
        match events.recv_timeout(keepalive) {
            Ok(frame) => write_chunk(&mut writer, &frame)?,
            Err(RecvTimeoutError::Timeout) => write_chunk(&mut writer, ": keepalive\n\n")?,
            Err(RecvTimeoutError::Disconnected) => {
                writer.write_all(b"0\r\n\r\n")?;
                return writer.flush();
            }
        }
    }
}

fn write_chunk(writer: &mut impl Write, text: &str) -> io::Result<()> {
    write!(writer, "{:x}\r\n{text}\r\n", text.len())?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_frames_are_one_line_of_json() {
        let frame = error_frame(&["a.md:1:2: error: <bad>\n  hint: \"x\"".to_string()]);
        let lines: Vec<&str> = frame.lines().collect();
        assert_eq!(lines[0], "event: error");
        assert_eq!(
            lines[1],
            r#"data: {"errors":["a.md:1:2: error: <bad>\n  hint: \"x\""]}"#
        );
        assert!(frame.ends_with("\n\n"));
    }

    #[test]
    fn the_error_page_escapes_messages() {
        let page = error_page(&["x.md: error: <script>alert(1)</script> & co".to_string()]);
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(!page.contains("<script>alert"));
        assert!(page.contains(EVENTS_PATH));
    }

    #[test]
    fn streams_are_chunked_and_end_when_the_hub_forgets_them() {
        let hub = Hub::default();
        let receiver = hub.subscribe();
        hub.broadcast(&reload_frame());
        assert_eq!(hub.len(), 1);
        drop(hub);
        let mut written = Vec::new();
        let first = Some(error_frame(&["e".to_string()]));
        stream(&mut written, &receiver, first, KEEPALIVE).expect("in memory");
        let text = String::from_utf8(written).expect("utf-8");
        let body = text.split_once("\r\n\r\n").expect("headers").1;
        assert_eq!(
            body,
            "d\r\nretry: 1000\n\n\r\n\
             25\r\nevent: error\ndata: {\"errors\":[\"e\"]}\n\n\r\n\
             16\r\nevent: reload\ndata: \n\n\r\n\
             0\r\n\r\n"
        );
    }

    #[test]
    fn the_hub_forgets_closed_tabs() {
        let hub = Hub::default();
        let kept = hub.subscribe();
        drop(hub.subscribe());
        hub.broadcast(&reload_frame());
        assert_eq!(hub.len(), 1);
        assert_eq!(&*kept.recv().expect("frame"), "event: reload\ndata: \n\n");
    }
}
