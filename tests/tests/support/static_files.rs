//! A static file server on 127.0.0.1 for the page test: what `framex
//! preview` does, without building the executor (it does not build on the
//! `frames` branch yet). Same rules: `/` is `index.html`, only plain relative
//! paths, the content types a browser needs (`application/wasm` for
//! `WebAssembly.instantiateStreaming`).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Serves a directory until dropped.
pub struct StaticFiles {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    /// `http://127.0.0.1:PORT/`
    pub url: String,
}

impl StaticFiles {
    /// Serves `dir` on a free port.
    pub fn start(dir: &Path) -> StaticFiles {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a local port"));
        let addr = server.server_addr().to_ip().expect("an IP address");
        let (serving, dir) = (Arc::clone(&server), dir.to_path_buf());
        let thread = std::thread::spawn(move || {
            for request in serving.incoming_requests() {
                let response = respond(&dir, request.url());
                let _ = request.respond(response);
            }
        });
        StaticFiles {
            server,
            thread: Some(thread),
            url: format!("http://{addr}/"),
        }
    }
}

impl Drop for StaticFiles {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn respond(dir: &Path, url: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let relative = match path.trim_start_matches('/') {
        "" => "index.html",
        relative => relative,
    };
    let safe = Path::new(relative)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let file: PathBuf = dir.join(relative);
    match std::fs::read(&file) {
        Ok(bytes) if safe => {
            let header = tiny_http::Header::from_bytes("Content-Type", content_type(&file))
                .expect("a valid header");
            tiny_http::Response::from_data(bytes).with_header(header)
        }
        _ => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
