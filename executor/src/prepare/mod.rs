//! Preparing a request: reading the composition, resolving and probing each
//! source once, and asking the core for the plan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use framex_core::{
    validate_fields, Composition, IdentityMode, PlanError, SourceFacts, SourceIdentity,
};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::content::ContentDigests;
use crate::download::{is_url, DownloadOptions, DownloadStats};
use crate::error::ExtractError;
use crate::probe::Probe;
use crate::process::Limits;
use crate::source::ResolvedSource;
use crate::store::Store;
use crate::tools::Tools;

mod ready;

use ready::{open_downloader, prepare_source, SourceContext, Wanted};

/// Why a run could not start: the input is invalid (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The composition file could not be read.
    #[error("cannot read composition {}: {message}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// A `--content-identity` directory cannot be used.
    #[error("content identity directory {}: {message}", .path.display())]
    ContentDir {
        /// The directory as given.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// The composition is malformed or has invalid elements.
    #[error("{}: {error}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        error: PlanError,
    },
}

/// Where sources come from and how they are keyed.
#[derive(Clone, Debug, Default)]
pub struct SourceOptions {
    /// Sources under these directories are keyed by content (a blake3 digest
    /// of their bytes) unless an element says `"identity": "file"`.
    pub content_dirs: Vec<PathBuf>,
    /// How remote (`https://`) sources are fetched.
    pub download: DownloadOptions,
    /// Key every source by content, whatever its element says (a farm's
    /// machines see the same files at different paths).
    pub content_always: bool,
    /// Probes shared by the machines of a farm, so every machine plans from
    /// the same one.
    pub shared_probes: Option<Arc<dyn SharedProbes>>,
}

/// Probes shared by the machines of a farm: every machine must plan a
/// source from the same probe (the plan decides who makes what), whatever
/// ffprobe it has; the first one published wins.
pub trait SharedProbes: Send + Sync + std::fmt::Debug {
    /// The shared probe of a source, if one was published (and can be read).
    fn fetch<'a>(
        &'a self,
        identity: &'a SourceIdentity,
    ) -> futures::future::BoxFuture<'a, Option<Probe>>;
    /// Publishes this machine's probe unless one is there: returns the
    /// probe every machine uses (this one when the store cannot say).
    fn publish<'a>(
        &'a self,
        identity: &'a SourceIdentity,
        probe: Probe,
    ) -> futures::future::BoxFuture<'a, Probe>;
}

/// A source ready for extraction.
#[derive(Clone, Debug)]
pub struct ReadySource {
    /// Where and who it is.
    pub resolved: ResolvedSource,
    /// What ffprobe said.
    pub probe: Arc<Probe>,
}

/// A composition with its sources resolved and probed.
#[derive(Debug)]
pub struct Prepared {
    /// The composition as read.
    pub composition: Composition,
    /// Per `src` as written: the source, or why it cannot be used.
    pub sources: BTreeMap<String, Result<ReadySource, ExtractError>>,
    /// What preparing cost.
    pub stats: PrepareStats,
    /// Downloads of a run without a cache live here until the run ends.
    _download_dir: Option<tempfile::TempDir>,
}

/// What preparing the sources did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrepareStats {
    /// Source files read to compute a content digest.
    pub sources_hashed: u64,
    /// Their bytes.
    pub bytes_hashed: u64,
    /// Remote sources.
    pub downloads: DownloadStats,
    /// ffprobe runs retried after a transient failure.
    pub probe_retries: u64,
}

impl Prepared {
    /// The elements that will get no frames before anything is extracted:
    /// their source could not be used. In composition order.
    pub fn element_errors(&self) -> Vec<(String, ExtractError)> {
        self.composition
            .elements
            .iter()
            .filter_map(|e| match self.sources.get(&e.src) {
                Some(Err(err)) => Some((e.id.clone(), err.clone())),
                _ => None,
            })
            .collect()
    }

    /// The facts of every usable source, by `src`.
    pub fn facts(&self) -> BTreeMap<String, SourceFacts> {
        self.sources
            .iter()
            .filter_map(|(src, s)| {
                let ready = s.as_ref().ok()?;
                Some((
                    src.clone(),
                    ready.probe.facts(ready.resolved.identity.clone()),
                ))
            })
            .collect()
    }

    /// The composition without the elements whose source cannot be used.
    pub fn usable_composition(&self) -> Composition {
        let mut composition = self.composition.clone();
        composition
            .elements
            .retain(|e| matches!(self.sources.get(&e.src), Some(Ok(_))));
        composition
    }
}

/// Reads a composition file and checks every field that needs no source
/// facts: what is wrong with the file itself is known before any directory
/// is made or any source touched.
pub fn read_composition(composition_path: &Path) -> Result<Composition, InputError> {
    let text = std::fs::read_to_string(composition_path).map_err(|e| InputError::Read {
        path: composition_path.to_path_buf(),
        message: e.to_string(),
    })?;
    let invalid = |error: PlanError| InputError::Invalid {
        path: composition_path.to_path_buf(),
        error,
    };
    let composition = Composition::from_json(&text).map_err(|e| invalid(e.into()))?;
    validate_fields(&composition).map_err(invalid)?;
    Ok(composition)
}

/// Resolves (downloads, hashes) and probes every distinct source of a
/// composition [`read_composition`] read from `composition_path` (sources
/// are relative to its directory), at most `jobs` at once. Probes are
/// remembered in the cache, keyed by source identity, so warm runs start no
/// ffprobe.
#[allow(clippy::too_many_arguments)]
pub async fn prepare(
    composition_path: &Path,
    composition: Composition,
    tools: &Tools,
    store: Option<&Store>,
    jobs: usize,
    timeout: Duration,
    cancel: &CancellationToken,
    options: &SourceOptions,
) -> Result<Prepared, InputError> {
    let cache = store;
    let content_dirs = options
        .content_dirs
        .iter()
        .map(|dir| {
            std::fs::canonicalize(dir).map_err(|e| InputError::ContentDir {
                path: dir.clone(),
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let base = composition_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut wanted: BTreeMap<String, Wanted> = BTreeMap::new();
    for e in &composition.elements {
        let w = wanted.entry(e.src.clone()).or_default();
        match e.identity.as_deref().and_then(IdentityMode::parse) {
            Some(IdentityMode::Content) => w.content = true,
            Some(IdentityMode::File) => {}
            None => w.by_directory = true,
        }
    }
    let mut download_dir = None;
    let downloader = if wanted.keys().any(|src| is_url(src)) {
        Some(open_downloader(store, &options.download, &mut download_dir).map(Arc::new))
    } else {
        None
    };
    let context = Arc::new(SourceContext {
        base,
        tools: tools.clone(),
        cache: cache.cloned(),
        limits: Limits {
            timeout,
            cancel: cancel.clone(),
        },
        content_dirs,
        content_always: options.content_always,
        shared_probes: options.shared_probes.clone(),
        digests: ContentDigests::new(cache.map(Store::root)),
        downloader,
        probe_retries: AtomicU64::new(0),
    });
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = JoinSet::new();
    for (src, want) in wanted {
        let (context, limit) = (context.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let ready = prepare_source(&context, &src, want).await;
            (src, ready)
        });
    }
    let mut sources = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (src, ready) = done.expect("source preparation does not panic");
        sources.insert(src, ready);
    }
    let (sources_hashed, bytes_hashed) = context.digests.hashed();
    let stats = PrepareStats {
        sources_hashed,
        bytes_hashed,
        downloads: match &context.downloader {
            Some(Ok(d)) => d.stats(),
            _ => DownloadStats::default(),
        },
        probe_retries: context.probe_retries.load(Ordering::Relaxed),
    };
    Ok(Prepared {
        composition,
        sources,
        stats,
        _download_dir: download_dir,
    })
}
