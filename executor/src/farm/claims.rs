//! Claims on units of work in the shared store: taken before making a
//! unit, renewed every third of a lease while it is worked on, taken over
//! when a holder stops renewing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::extract::RunWork;
use crate::shard::Unit;
use crate::store::remote::ClaimBody;

use super::Farm;

impl Farm<'_> {
    pub(super) fn claim_body(&self, renewal: u64) -> ClaimBody {
        ClaimBody {
            holder: self.holder.clone(),
            shard: self.options.shard.to_string(),
            renewal,
            lease_ms: self.options.lease.as_millis() as u64,
        }
    }

    /// Claims a unit (creating the claim, or replacing the stale version
    /// `stale`). True when this process holds it now, or when the store
    /// cannot say (correctness never depends on claims).
    pub(super) async fn claim(&mut self, unit: &Unit, stale: Option<String>) -> bool {
        let Some(remote) = self.remote.filter(|_| self.down.is_none()) else {
            return true;
        };
        match remote
            .write_claim(&unit.key, &self.claim_body(0), stale)
            .await
        {
            Ok(Some(_)) => true,
            // Someone else's, or ours from a write whose answer was lost.
            Ok(None) => match remote.read_claim(&unit.key).await {
                Ok(Some(claim)) => claim.body.holder == self.holder,
                Ok(None) => false,
                Err(_) => true,
            },
            Err(err) => {
                tracing::warn!(error = %err, unit = %unit.key, "claiming failed; making the unit anyway");
                self.down.get_or_insert(err);
                true
            }
        }
    }

    /// After the wait: whether this process may make `unit` now (no claim,
    /// or one whose version did not change for a lease, seen from here).
    pub(super) async fn take_over(
        &mut self,
        unit: &Unit,
        observed: &mut BTreeMap<String, (Option<String>, Instant)>,
    ) -> bool {
        let Some(remote) = self.remote else {
            return true;
        };
        let claim = match remote.read_claim(&unit.key).await {
            Ok(claim) => claim,
            Err(err) => {
                tracing::warn!(error = %err, "reading a claim failed; making the unit anyway");
                return true;
            }
        };
        let Some(claim) = claim else {
            return self.claim(unit, None).await;
        };
        if claim.body.holder == self.holder {
            return true;
        }
        let now = Instant::now();
        let seen = observed
            .entry(unit.key.clone())
            .or_insert((claim.e_tag.clone(), now));
        if seen.0 != claim.e_tag {
            *seen = (claim.e_tag.clone(), now);
        }
        let lease = Duration::from_millis(claim.body.lease_ms);
        if now.duration_since(seen.1) < lease {
            return false;
        }
        tracing::info!(unit = %unit.key, holder = %claim.body.holder, shard = %claim.body.shard, "a claim was not renewed within its lease; taking the unit over");
        match claim.e_tag {
            Some(e_tag) => self.claim(unit, Some(e_tag)).await,
            None => true,
        }
    }

    /// Renews the claims of `works` every third of a lease until the
    /// returned token is cancelled.
    pub(super) fn renew_claims(&self, works: &[RunWork]) -> CancellationToken {
        let stop = CancellationToken::new();
        let Some(remote) = self.remote.cloned() else {
            return stop;
        };
        let units: Vec<String> = works.iter().map(|w| w.id.clone()).collect();
        let (every, holder, body) = (
            self.options.lease / 3,
            self.holder.clone(),
            self.claim_body(0),
        );
        let token = stop.clone();
        tokio::spawn(async move {
            let mut renewal = 0;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = token.cancelled() => return,
                }
                renewal += 1;
                for unit in &units {
                    let Ok(Some(claim)) = remote.read_claim(unit).await else {
                        continue;
                    };
                    if claim.body.holder != holder {
                        continue;
                    }
                    let body = ClaimBody {
                        renewal,
                        ..body.clone()
                    };
                    let _ = remote.write_claim(unit, &body, claim.e_tag).await;
                }
            }
        });
        stop
    }
}
