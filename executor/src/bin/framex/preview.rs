//! `framex preview`: serves the browser preview page on 127.0.0.1.

use std::path::{Component, Path, PathBuf};

/// The page's directory in a source checkout.
pub fn default_www_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FRAMEX_WWW").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm/www")
}

/// Checks that `www` holds the page and the built wasm package.
pub fn check_www(www: &Path) -> Result<(), String> {
    if !www.join("index.html").is_file() {
        return Err(format!(
            "no preview page at {} (expected index.html; pass --dir)",
            www.display()
        ));
    }
    if !www.join("pkg/framex_wasm.js").is_file() {
        return Err(format!(
            "the wasm package is not built ({} is missing): run scripts/build-wasm.sh",
            www.join("pkg/framex_wasm.js").display()
        ));
    }
    Ok(())
}

/// Serves `www` on 127.0.0.1:`port` (0 picks a free port). Prints the URL,
/// then serves until the process ends.
pub fn serve(www: &Path, port: u16) -> Result<(), String> {
    check_www(www)?;
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or("the server has no IP address")?;
    println!("framex preview: http://{addr}/");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    for request in server.incoming_requests() {
        let response = respond(www, request.url());
        let _ = request.respond(response);
    }
    Ok(())
}

fn respond(www: &Path, url: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() {
        "index.html"
    } else {
        relative
    };
    let safe = Path::new(relative)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let file = www.join(relative);
    match std::fs::read(&file) {
        Ok(bytes) if safe => {
            let header = tiny_http::Header::from_bytes("Content-Type", content_type(&file))
                .expect("valid header");
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
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
