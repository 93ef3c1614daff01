//! Probes shared by a farm's machines, so every one plans a source from
//! the same facts.

use framex_core::SourceIdentity;
use futures::future::BoxFuture;

use crate::prepare::SharedProbes;
use crate::probe::{stored_probe_path, Probe};
use crate::store::remote::RemoteStore;

/// Probes shared through the farm's store (`v2/probes/`), named like the
/// local store's.
#[derive(Debug)]
pub struct StoreProbes(pub RemoteStore);

impl StoreProbes {
    fn name(identity: &SourceIdentity) -> String {
        let path = stored_probe_path(std::path::Path::new(""), identity);
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        stem.unwrap_or_default()
    }

    async fn read(&self, identity: &SourceIdentity) -> Option<Probe> {
        let bytes = self.0.get_probe(&Self::name(identity)).await.ok()??;
        serde_json::from_slice(&bytes).ok()
    }
}

impl SharedProbes for StoreProbes {
    fn fetch<'a>(&'a self, identity: &'a SourceIdentity) -> BoxFuture<'a, Option<Probe>> {
        Box::pin(self.read(identity))
    }

    fn publish<'a>(&'a self, identity: &'a SourceIdentity, probe: Probe) -> BoxFuture<'a, Probe> {
        Box::pin(async move {
            let bytes = serde_json::to_vec(&probe).expect("probes serialize");
            match self.0.create_probe(&Self::name(identity), bytes).await {
                Ok(false) => self.read(identity).await.unwrap_or(probe),
                _ => probe,
            }
        })
    }
}
