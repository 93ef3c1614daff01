//! Making one source ready: resolving (or downloading) it, keying it by path
//! or content, and finding its probe (a farm's shared one, the stored one,
//! or a fresh ffprobe run, retried once when it fails transiently).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use framex_core::SourceIdentity;

use super::{ReadySource, SharedProbes};
use crate::content::{ContentDigests, FileStamp};
use crate::download::{is_url, DownloadOptions, Downloader};
use crate::error::ExtractError;
use crate::probe::{probe, stored_probe_path, Probe};
use crate::process::Limits;
use crate::source::{resolve, ResolvedSource};
use crate::store::Store;
use crate::tools::Tools;

/// How the elements using one `src` want it keyed.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Wanted {
    /// Some element says `"identity": "content"`.
    pub(super) content: bool,
    /// Some element says nothing: a `--content-identity` directory decides.
    pub(super) by_directory: bool,
}

/// What every source's preparation shares.
pub(super) struct SourceContext {
    pub(super) base: PathBuf,
    pub(super) tools: Tools,
    pub(super) cache: Option<Store>,
    pub(super) limits: Limits,
    pub(super) content_dirs: Vec<PathBuf>,
    pub(super) content_always: bool,
    pub(super) shared_probes: Option<Arc<dyn SharedProbes>>,
    pub(super) digests: ContentDigests,
    pub(super) downloader: Option<Result<Arc<Downloader>, ExtractError>>,
    pub(super) probe_retries: AtomicU64,
}

/// Downloads go to `<cache>/downloads`, or without a cache to a temporary
/// directory that `keep` holds for the run.
pub(super) fn open_downloader(
    cache: Option<&Store>,
    options: &DownloadOptions,
    keep: &mut Option<tempfile::TempDir>,
) -> Result<Downloader, ExtractError> {
    let dir = match cache {
        Some(cache) => cache.root().join("downloads"),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("framex-downloads-")
                .tempdir()
                .map_err(|e| ExtractError::io("creating", std::env::temp_dir(), &e))?;
            keep.insert(temp).path().to_path_buf()
        }
    };
    Downloader::new(&dir, options.clone()).map_err(|e| ExtractError::io("creating", &dir, &e))
}

pub(super) async fn prepare_source(
    context: &SourceContext,
    src: &str,
    wanted: Wanted,
) -> Result<ReadySource, ExtractError> {
    let resolved = if is_url(src) {
        let downloader = match &context.downloader {
            Some(Ok(d)) => d,
            Some(Err(err)) => return Err(err.clone()),
            None => unreachable!("a downloader is opened when a src is a URL"),
        };
        let downloaded = downloader.fetch(src).await?;
        let meta = std::fs::metadata(&downloaded.path)
            .map_err(|e| ExtractError::io("stat", &downloaded.path, &e))?;
        ResolvedSource {
            stamp: FileStamp::of(&downloaded.path, &meta),
            identity: SourceIdentity::Content {
                blake3: downloaded.blake3,
            },
            size: downloaded.size,
            path: downloaded.path,
        }
    } else {
        let mut resolved = resolve(&context.base, src)?;
        let in_content_dir = || {
            context
                .content_dirs
                .iter()
                .any(|dir| resolved.path.starts_with(dir))
        };
        if context.content_always || wanted.content || (wanted.by_directory && in_content_dir()) {
            let blake3 = context.digests.digest(&resolved.stamp).await?;
            resolved.identity = SourceIdentity::Content { blake3 };
        }
        resolved
    };
    let stored = context
        .cache
        .as_ref()
        .map(|c| stored_probe_path(c.root(), &resolved.identity));
    // A farm's shared probe first: the local one may come from another ffprobe.
    let shared = match &context.shared_probes {
        Some(shared) => shared.fetch(&resolved.identity).await,
        None => None,
    };
    if let Some(probe) = shared {
        if let Some(path) = &stored {
            remember_probe(path, &probe);
        }
        return Ok(ReadySource {
            resolved,
            probe: Arc::new(probe),
        });
    }
    if let Some(path) = &stored {
        if let Some(probe) = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Probe>(&bytes).ok())
        {
            let probe = share_probe(context, &resolved.identity, probe).await;
            return Ok(ReadySource {
                resolved,
                probe: Arc::new(probe),
            });
        }
    }
    let run_probe = || {
        let (ffprobe, path, limits) = (
            context.tools.ffprobe.clone(),
            resolved.path.clone(),
            context.limits.clone(),
        );
        async move {
            tokio::task::spawn_blocking(move || probe(|| ffprobe, &path, &limits))
                .await
                .map_err(|_| ExtractError::Cancelled)?
                .map_err(ExtractError::from)
        }
    };
    let probe = match run_probe().await {
        Err(err) if err.is_transient() => {
            tracing::warn!(src, error = %err, "ffprobe failed transiently; retrying once");
            context.probe_retries.fetch_add(1, Ordering::Relaxed);
            run_probe().await?
        }
        other => other?,
    };
    let probe = share_probe(context, &resolved.identity, probe).await;
    if let Some(path) = stored {
        remember_probe(&path, &probe);
    }
    Ok(ReadySource {
        resolved,
        probe: Arc::new(probe),
    })
}

/// The probe every machine of a farm uses: this one, unless another was
/// published first.
async fn share_probe(context: &SourceContext, identity: &SourceIdentity, probe: Probe) -> Probe {
    match &context.shared_probes {
        Some(shared) => shared.publish(identity, probe).await,
        None => probe,
    }
}

/// Keeps a probe in the store. Best effort: a failed write only costs a
/// probe next time.
fn remember_probe(path: &Path, probe: &Probe) {
    crate::remember::remember_json(path, probe);
}
