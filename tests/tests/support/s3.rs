//! A real S3-compatible server for the farm tests, started in the test
//! process on 127.0.0.1: `s3s` (the S3 protocol: SigV4 authentication,
//! conditional writes, XML errors) over `s3s-fs` (objects as files). It
//! counts the successful PUTs per object and serializes conditional writes
//! (s3s-fs checks `If-None-Match`/`If-Match` and then writes: atomic only
//! one at a time). And a fault-injecting proxy to put between framex and it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;

/// The bucket the tests use.
pub const BUCKET: &str = "farm";
/// Keys the server accepts.
pub const ACCESS_KEY: &str = "framex-test-key";
/// The secret the server accepts.
pub const SECRET_KEY: &str = "framex-test-secret-0123456789";

/// Successful PUTs per object path (`/farm/…`).
pub type PutCounts = Arc<Mutex<BTreeMap<String, u64>>>;

/// The server; stops when dropped.
pub struct S3Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// Where the objects are (`<root>/farm/…`).
    pub root: tempfile::TempDir,
    /// Successful PUTs per object.
    pub puts: PutCounts,
    _runtime: tokio::runtime::Runtime,
}

impl S3Server {
    /// Starts a server with the bucket [`BUCKET`].
    pub fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(BUCKET)).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let puts: PutCounts = Arc::default();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let conditional = Arc::new(tokio::sync::Mutex::new(()));
        let counts = puts.clone();
        runtime.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (service, counts, conditional) =
                    (service.clone(), counts.clone(), conditional.clone());
                let handler = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let (service, counts, conditional) =
                            (service.clone(), counts.clone(), conditional.clone());
                        async move {
                            let put = request.method() == http::Method::PUT;
                            let path = request.uri().path().to_string();
                            let headers = request.headers();
                            let guard = if put
                                && (headers.contains_key("if-none-match")
                                    || headers.contains_key("if-match"))
                            {
                                Some(conditional.lock().await)
                            } else {
                                None
                            };
                            let response = hyper::service::Service::call(&service, request).await;
                            drop(guard);
                            if put && response.as_ref().is_ok_and(|r| r.status().is_success()) {
                                *counts.lock().unwrap().entry(path).or_default() += 1;
                            }
                            response
                        }
                    },
                );
                tokio::spawn(async move {
                    let _ = ConnBuilder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), handler)
                        .await;
                });
            }
        });
        Self {
            endpoint,
            root,
            puts,
            _runtime: runtime,
        }
    }

    /// The bucket's directory.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// Successful PUTs of objects whose path contains `part` (`/blobs/`).
    pub fn puts_of(&self, part: &str) -> BTreeMap<String, u64> {
        self.puts
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.contains(part))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

/// The environment of a framex process using the server: the test's keys,
/// a region, and a home without AWS files.
pub fn store_env(home: &Path, secret: &str) -> Vec<(&'static str, OsString)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", secret.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("HOME", home.as_os_str().to_owned()),
    ]
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// What the proxy does to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded as is.
    Pass,
    /// Answered `500 Internal Server Error` (an S3 `InternalError`).
    Error500,
    /// The connection is closed without an answer.
    Reset,
    /// Never answered: the connection stays open, silent.
    Hang,
    /// Forwarded, and the answer's last body byte flipped.
    Corrupt,
}

/// Decides each request's fault: `(request number from 0, method, path)`.
pub type FaultPlan = Box<dyn Fn(u64, &str, &str) -> Fault + Send + Sync>;

/// A TCP proxy in front of the server that injects faults per request (each
/// request goes over its own upstream connection, asked to close after it).
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// Requests seen.
    pub requests: Arc<AtomicU64>,
    /// Faults injected, by kind.
    pub injected: Arc<Mutex<BTreeMap<String, u64>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://host:port`).
    pub fn start(upstream: &str, plan: FaultPlan) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let plan = Arc::new(plan);
        let requests = Arc::new(AtomicU64::new(0));
        let injected: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (requests, injected, stop) = (requests.clone(), injected.clone(), stop.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let (plan, upstream, requests, injected, stop) = (
                        plan.clone(),
                        upstream.clone(),
                        requests.clone(),
                        injected.clone(),
                        stop.clone(),
                    );
                    std::thread::spawn(move || {
                        serve(client, &upstream, &plan, &requests, &injected, &stop)
                    });
                }
            });
        }
        Self {
            endpoint,
            requests,
            injected,
            stop,
        }
    }

    /// Faults injected of `kind` (`Error500`, …).
    pub fn injected(&self, kind: Fault) -> u64 {
        self.injected
            .lock()
            .unwrap()
            .get(&format!("{kind:?}"))
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

/// Reads up to the end of the request head; returns head and what followed.
fn read_head(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
            return Some((head, buf[end + 4..].to_vec()));
        }
        let n = client.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn serve(
    mut client: TcpStream,
    upstream: &str,
    plan: &FaultPlan,
    requests: &AtomicU64,
    injected: &Mutex<BTreeMap<String, u64>>,
    stop: &AtomicBool,
) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(60)));
    // One request per connection: the client opens a new one for the next.
    let Some((head, rest)) = read_head(&mut client) else {
        return;
    };
    let mut words = head.split_whitespace();
    let (method, path) = (
        words.next().unwrap_or("").to_string(),
        words.next().unwrap_or("").to_string(),
    );
    let n = requests.fetch_add(1, Ordering::Relaxed);
    let fault = plan(n, &method, &path);
    if fault != Fault::Pass {
        *injected
            .lock()
            .unwrap()
            .entry(format!("{fault:?}"))
            .or_default() += 1;
    }
    match fault {
        Fault::Error500 => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>injected</Message></Error>";
            let _ = write!(
                client,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.shutdown(Shutdown::Both);
        }
        Fault::Reset => {
            let _ = client.shutdown(Shutdown::Both);
        }
        Fault::Hang => {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Fault::Pass | Fault::Corrupt => {
            let Ok(mut server) = TcpStream::connect(upstream) else {
                let _ = client.shutdown(Shutdown::Both);
                return;
            };
            // Ask the server to close after this request.
            let mut lines: Vec<&str> = head
                .trim_end_matches("\r\n")
                .split("\r\n")
                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                .collect();
            lines.push("Connection: close");
            let head = format!("{}\r\n\r\n", lines.join("\r\n"));
            if server.write_all(head.as_bytes()).is_err() || server.write_all(&rest).is_err() {
                return;
            }
            let (mut from_client, mut to_server) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from_client, &mut to_server);
            });
            let mut response = Vec::new();
            let _ = server.read_to_end(&mut response);
            if fault == Fault::Corrupt {
                let body_start = response
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(response.len(), |p| p + 4);
                if response.len() > body_start {
                    let last = response.len() - 1;
                    response[last] ^= 0x5a;
                }
            }
            let _ = client.write_all(&response);
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}
