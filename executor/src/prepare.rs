//! Preparing a request: reading the composition, resolving and probing each
//! source once, and asking the core for the plan.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use framex_core::{
    plan, validate_fields, Composition, Plan, PlanError, PlanOptions, Request, SourceFacts,
};
use tokio::task::JoinSet;

use crate::cache::Cache;
use crate::error::ExtractError;
use crate::probe::{probe, stored_probe_path, Probe};
use crate::source::{resolve, ResolvedSource};
use crate::tools::Tools;

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
    /// The composition is malformed or has invalid elements.
    #[error("{}: {error}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        error: PlanError,
    },
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
}

impl Prepared {
    /// The elements whose source could not be used, with the error.
    pub fn source_errors(&self) -> Vec<(String, ExtractError)> {
        self.composition
            .elements
            .iter()
            .filter_map(|e| match self.sources.get(&e.src) {
                Some(Err(err)) => Some((e.id.clone(), err.clone())),
                _ => None,
            })
            .collect()
    }

    /// Plans the elements whose sources are usable, marking `cached` keys as hits.
    pub fn plan(
        &self,
        cached_keys: BTreeSet<String>,
        options: &PlanOptions,
    ) -> Result<Plan, PlanError> {
        let facts: BTreeMap<String, SourceFacts> = self
            .sources
            .iter()
            .filter_map(|(src, s)| {
                let ready = s.as_ref().ok()?;
                Some((
                    src.clone(),
                    ready.probe.facts(ready.resolved.identity.clone()),
                ))
            })
            .collect();
        let mut composition = self.composition.clone();
        composition.elements.retain(|e| facts.contains_key(&e.src));
        plan(&Request {
            composition,
            sources: facts,
            cached_keys,
            options: options.clone(),
        })
    }

    /// Plans, looking every unique work up in `cache` first.
    pub fn plan_with_cache(
        &self,
        cache: Option<&Cache>,
        options: &PlanOptions,
    ) -> Result<Plan, PlanError> {
        let first = self.plan(BTreeSet::new(), options)?;
        let Some(cache) = cache else { return Ok(first) };
        let hits: BTreeSet<String> = first
            .assignments
            .iter()
            .flat_map(|a| a.cache_keys())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|key| cache.lookup(key).is_some())
            .map(str::to_string)
            .collect();
        if hits.is_empty() {
            return Ok(first);
        }
        self.plan(hits, options)
    }
}

/// Reads and checks the composition, then resolves and probes every distinct
/// source (at most `jobs` at once). Probes are remembered in the cache, keyed
/// by source identity, so warm runs start no ffprobe.
pub async fn prepare(
    composition_path: &Path,
    tools: &Tools,
    cache: Option<&Cache>,
    jobs: usize,
    timeout: Duration,
) -> Result<Prepared, InputError> {
    let text = std::fs::read_to_string(composition_path).map_err(|e| InputError::Read {
        path: composition_path.to_path_buf(),
        message: e.to_string(),
    })?;
    let invalid = |error: PlanError| InputError::Invalid {
        path: composition_path.to_path_buf(),
        error,
    };
    let composition = Composition::from_json(&text).map_err(|e| invalid(e.into()))?;
    // Field errors first, before touching any source.
    validate_fields(&composition).map_err(invalid)?;
    let base = composition_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let srcs: BTreeSet<String> = composition.elements.iter().map(|e| e.src.clone()).collect();
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = JoinSet::new();
    for src in srcs {
        let (base, tools, cache, limit) =
            (base.clone(), tools.clone(), cache.cloned(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let ready = prepare_source(&base, &src, &tools, cache.as_ref(), timeout).await;
            (src, ready)
        });
    }
    let mut sources = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (src, ready) = done.expect("source preparation does not panic");
        sources.insert(src, ready);
    }
    Ok(Prepared {
        composition,
        sources,
    })
}

async fn prepare_source(
    base: &Path,
    src: &str,
    tools: &Tools,
    cache: Option<&Cache>,
    timeout: Duration,
) -> Result<ReadySource, ExtractError> {
    let resolved = resolve(base, src)?;
    let stored = cache.map(|c| stored_probe_path(c.root(), &resolved.identity));
    if let Some(path) = &stored {
        if let Some(probe) = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Probe>(&bytes).ok())
        {
            return Ok(ReadySource {
                resolved,
                probe: Arc::new(probe),
            });
        }
    }
    let ffprobe = tools.ffprobe.clone()?;
    let probe = probe(&ffprobe, &resolved.path, timeout).await?;
    if let Some(path) = stored {
        // Best effort: a failed write only costs a probe next time. Written
        // to a temporary name and renamed, so readers never see half a file.
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
            let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
            if std::fs::write(&tmp, serde_json::to_vec(&probe).unwrap_or_default()).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            } else {
                // A full disk: leave no empty or half-written file behind.
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
    Ok(ReadySource {
        resolved,
        probe: Arc::new(probe),
    })
}
