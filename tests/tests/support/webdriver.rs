//! A small W3C WebDriver client: headless Chromium driven through the
//! `chromedriver` that Debian's `chromium-driver` installs (the same pair
//! wasm-bindgen-test-runner uses). Plain HTTP on 127.0.0.1, through ureq.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// The key W3C WebDriver uses for element references.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1 (free when asked; good enough for a test).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A browser session; the browser and its driver end when it is dropped.
pub struct Browser {
    agent: ureq::Agent,
    session: String,
    _driver: Process,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromedriver` and a headless `chromium` with a fresh profile,
    /// its window `width`×`height`.
    pub fn start(chromium: &Path, chromedriver: &Path, width: u32, height: u32) -> Browser {
        let port = free_port();
        let driver = Process(
            Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display())),
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = agent
                .get(format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let mut browser = Browser {
            agent,
            session: String::new(),
            _driver: driver,
            _profile: profile,
        };
        let created = browser.command("POST", &format!("{base}/session"), Some(capabilities));
        browser.session = format!(
            "{base}/session/{}",
            created["sessionId"].as_str().expect("a session id")
        );
        browser
    }

    fn command(&self, method: &str, url: &str, body: Option<Value>) -> Value {
        let response = match (method, body) {
            ("GET", _) => self.agent.get(url).call(),
            ("DELETE", _) => self.agent.delete(url).call(),
            (_, body) => self.agent.post(url).send_json(body.unwrap_or(json!({}))),
        };
        let mut response = response.unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"));
        let status = response.status();
        let value: Value = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_json()
            .unwrap_or_else(|e| panic!("WebDriver {method} {url}: reading the answer: {e}"));
        assert!(
            status.is_success(),
            "WebDriver {method} {url}: {status}: {}",
            value["value"]["message"]
        );
        value["value"].clone()
    }

    fn session_command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, &format!("{}{path}", self.session), body)
    }

    /// Opens `url`.
    pub fn open(&self, url: &str) {
        self.session_command("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page
    /// and returns what it returns.
    pub fn eval(&self, script: &str, args: Value) -> Value {
        self.session_command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Waits until `script` returns something truthy, and returns it.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(script, json!([]));
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            if Instant::now() > deadline {
                let state = self.eval(
                    "return document.body.dataset.state + ': ' + document.getElementById('status').textContent",
                    json!([]),
                );
                panic!("timed out waiting for {what} (page: {state})");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, css: &str) -> String {
        let found = self.session_command(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        found[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    /// Types `text` into an element, as a person would (for a file input:
    /// chooses the file at that path).
    pub fn type_into(&self, element: &str, text: &str) {
        self.session_command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Clicks an element.
    pub fn click(&self, element: &str) {
        self.session_command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Clears an input or textarea (as a person selecting all and deleting).
    pub fn clear(&self, element: &str) {
        self.session_command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
    }

    /// Sets the window's outer size.
    pub fn resize(&self, width: u32, height: u32) {
        self.session_command(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Saves a PNG of the whole page (the window sized to the page's height).
    pub fn screenshot(&self, path: &Path, width: u32) -> PathBuf {
        // Shrink first, so that the page's height is its content's, then grow
        // the window to it (plus the window's own frame).
        let resize = |height: u64| {
            self.session_command(
                "POST",
                "/window/rect",
                Some(json!({ "width": width, "height": height })),
            )
        };
        resize(600);
        let height = self
            .eval(
                "return Math.ceil(document.documentElement.scrollHeight \
                 + window.outerHeight - window.innerHeight)",
                json!([]),
            )
            .as_u64()
            .unwrap_or(1000);
        resize(height.clamp(600, 8000));
        let data = self.session_command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 PNG"))
            .expect("valid base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artifact directory");
        }
        std::fs::write(path, png).expect("write screenshot");
        path.to_path_buf()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.agent.delete(&self.session).call();
        }
    }
}

/// Starts `framex preview` on a free port serving `dir`, and returns it with
/// the URL it printed on its first line.
pub fn start_preview(framex: &Path, dir: &Path) -> (Process, String) {
    let mut child = Command::new(framex)
        .args(["preview", "--port", "0", "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} preview: {e}", framex.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let process = Process(child);
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .expect("framex preview prints its URL");
    // Keep reading, so that later output never meets a closed pipe.
    std::thread::spawn(move || reader.lines().map_while(Result::ok).for_each(drop));
    let url = line
        .trim()
        .strip_prefix("framex preview: ")
        .unwrap_or_else(|| panic!("unexpected first line from framex preview: {line:?}"))
        .to_string();
    (process, url)
}
