//! `framex extract`'s farm options: `--store`, `--shard`, `--frames`, and
//! what they imply.

use std::time::Duration;

use framex_core::OutputFrames;
use framex_executor::farm::FarmOptions;
use framex_executor::prepare::SourceOptions;
use framex_executor::store::remote::RemoteOptions;

use crate::args::FarmArgs;

/// The farm a run takes part in, if any. `--store` keys every source by
/// content: the machines of a farm see the same files at different paths.
pub fn options(args: &FarmArgs, sources: &mut SourceOptions) -> Option<FarmOptions> {
    if args.store.is_none() && args.frames.is_none() {
        return None;
    }
    let timeout = Duration::from_secs(args.store_timeout.max(1));
    let remote = args.store.as_ref().map(|url| RemoteOptions {
        url: url.clone(),
        endpoint: args.store_endpoint.clone(),
        region: args.store_region.clone(),
        request_timeout: timeout,
        retry_timeout: timeout * 4,
    });
    sources.content_always |= remote.is_some();
    let frames = match (args.frames, args.fps) {
        (Some((from, to)), Some(fps)) => Some(OutputFrames { from, to, fps }),
        _ => None,
    };
    Some(FarmOptions {
        remote,
        shard: args.shard.unwrap_or_default(),
        wait: Duration::from_secs(args.shard_wait),
        lease: Duration::from_secs(args.lease.max(1)),
        frames,
    })
}
