//! The extract stage: decode runs → raw frames → encoders → blobs and index
//! records in the store.
//!
//! Decoders (one ffmpeg process each, at most `decoders` at once) feed a
//! bounded queue of raw frames; `encoders` threads encode them, name them by
//! their digest and store them. Memory is bounded by the queue, never by
//! the number of frames: the encoders hand the raw-frame buffers back to
//! the decoders, and only a batch of records per segment waits to be
//! published. A long run is split at keyframes into segments
//! decoded in parallel when there are fewer runs than decoders. A segment
//! that fails transiently is retried once, for the frames it had not yet
//! delivered. Each segment's index records are appended as soon as all its
//! frames are stored, so what a failed or cancelled run made is kept.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use framex_core::{Recipe, Timeline};

use crate::decode::{decode, DecodeError, Segment};
use crate::encode::{encode_into, FramePool, RawFrame};
use crate::error::ExtractError;
use crate::probe::Probe;
use crate::process::Limits;
use crate::store::{BlobRef, PendingBlob, Store};

/// One decode run of the plan, ready to run.
#[derive(Clone, Debug)]
pub struct RunWork {
    /// The plan's run id (`r1`, …).
    pub id: String,
    /// The source file.
    pub src: PathBuf,
    /// Its probe.
    pub probe: Arc<Probe>,
    /// The recipe.
    pub recipe: Recipe,
    /// Its recipe key (index records go there).
    pub recipe_key: String,
    /// The keyframe the run starts from (frame index).
    pub keyframe: u64,
    /// The frames to make (frame indices, ascending).
    pub make: Vec<u64>,
}

/// How to extract.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// ffmpeg.
    pub ffmpeg: Result<PathBuf, ExtractError>,
    /// Decode processes at once.
    pub decoders: usize,
    /// Encoder threads.
    pub encoders: usize,
    /// Per process timeout and cancellation.
    pub limits: Limits,
}

/// What extraction did.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Per run id: success, or why it failed.
    pub runs: BTreeMap<String, Result<(), ExtractError>>,
    /// Per recipe key: the frames made, by time.
    pub made: BTreeMap<String, BTreeMap<i64, BlobRef>>,
    /// Frames encoded.
    pub frames_encoded: u64,
    /// Bytes of the encoded frames.
    pub bytes_encoded: u64,
    /// ffmpeg processes started.
    pub ffmpeg_runs: u64,
    /// Segments retried after a transient failure.
    pub retries: u64,
}

/// Frames published at once: one filesystem sync for each batch.
const PUBLISH_BATCH: usize = 24;

/// News from the decoders and encoders waiting for the publisher (which
/// syncs): more make the encoders wait rather than pile up.
const EVENTS_WAITING: usize = 4 * PUBLISH_BATCH;

/// How many keyframes further back a segment is tried when its decoder
/// drops a planned frame.
const MAX_EARLIER: u32 = 3;

/// A segment of a run.
struct Part {
    run: usize,
    segment: Segment,
}

/// Splits runs at keyframes so `decoders` processes have work.
fn parts(runs: &[RunWork], decoders: usize) -> Vec<Part> {
    let per_run = if runs.is_empty() || runs.len() >= decoders {
        1
    } else {
        decoders.div_ceil(runs.len())
    };
    let mut parts = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        let timeline: &Timeline = &run.probe.timeline;
        let last = run.make.last().copied().unwrap_or(run.keyframe);
        let keyframes: Vec<u64> = timeline
            .keyframes()
            .iter()
            .copied()
            .filter(|&k| k > run.keyframe && k <= last)
            .collect();
        let target = (last - run.keyframe + 1).div_ceil(per_run as u64).max(1);
        let mut starts = vec![run.keyframe];
        for k in keyframes {
            if k - starts.last().copied().unwrap_or(0) >= target && starts.len() < per_run {
                starts.push(k);
            }
        }
        // Each frame goes to the last segment that starts at or before the
        // keyframe it must be decoded from.
        let mut wants: Vec<Vec<i64>> = vec![Vec::new(); starts.len()];
        for &f in &run.make {
            let from = timeline.keyframe_for(f);
            let s = starts.partition_point(|&k| k <= from).max(1) - 1;
            wants[s].push(timeline.pts(f));
        }
        for (start, want) in starts.into_iter().zip(wants) {
            if !want.is_empty() {
                parts.push(Part {
                    run: r,
                    segment: Segment {
                        keyframe: start,
                        want,
                    },
                });
            }
        }
    }
    parts
}

/// A raw frame on its way to an encoder.
struct Job {
    part: usize,
    frame: RawFrame,
}

/// News from a decoder or an encoder.
enum Event {
    Stored {
        part: usize,
        pts: i64,
        result: Result<PendingBlob, ExtractError>,
    },
    Decoded {
        part: usize,
        result: Result<u64, ExtractError>,
    },
}

/// Runs `runs`, storing their frames in `store`; `on_frame` is told of each
/// frame stored (the index of its run in `runs`).
pub fn extract(
    store: &Store,
    runs: &[RunWork],
    options: &ExtractOptions,
    on_frame: &(dyn Fn(usize) + Sync),
) -> Extracted {
    let mut out = Extracted::default();
    let parts = parts(runs, options.decoders.max(1));
    let ffmpeg = match &options.ffmpeg {
        Ok(path) => path.clone(),
        Err(err) => {
            for run in runs {
                out.runs.insert(run.id.clone(), Err(err.clone()));
            }
            return out;
        }
    };
    let processes = AtomicU64::new(0);
    let retries = AtomicU64::new(0);
    let encoders = options.encoders.max(1);
    let decoders = options.decoders.max(1).min(parts.len().max(1));
    let queued = encoders * 2;
    let (job_tx, job_rx) = crossbeam_channel::bounded::<Job>(queued);
    // Raw frames in flight: queued, being encoded, being decoded into.
    let buffers = FramePool::new(queued + encoders + decoders);
    let (event_tx, event_rx) = crossbeam_channel::bounded::<Event>(EVENTS_WAITING);
    let (part_tx, part_rx) = crossbeam_channel::unbounded::<usize>();
    for p in 0..parts.len() {
        let _ = part_tx.send(p);
    }
    drop(part_tx);
    // Per part: frames delivered (once decoded), stored and not yet
    // published (at most a batch), made.
    let mut delivered: Vec<Option<u64>> = vec![None; parts.len()];
    let mut stored: Vec<Vec<(i64, PendingBlob)>> = (0..parts.len()).map(|_| Vec::new()).collect();
    let mut made = vec![0u64; parts.len()];
    let mut failed: Vec<Option<ExtractError>> = vec![None; parts.len()];
    let mut appended = vec![false; parts.len()];
    std::thread::scope(|scope| {
        for _ in 0..encoders {
            let (job_rx, event_tx) = (job_rx.clone(), event_tx.clone());
            let (parts, buffers) = (&parts, &buffers);
            scope.spawn(move || {
                let mut bytes = Vec::new();
                for job in job_rx.iter() {
                    let run = &runs[parts[job.part].run];
                    let result = encode_into(&job.frame, run.recipe, &mut bytes)
                        .map_err(ExtractError::bad_output)
                        .and_then(|()| {
                            store
                                .write_blob(&bytes, run.recipe.format.extension())
                                .map_err(|e| {
                                    ExtractError::io("storing a frame in", store.root(), &e)
                                })
                        });
                    let (part, pts) = (job.part, job.frame.pts);
                    buffers.give(job.frame.data);
                    let _ = event_tx.send(Event::Stored { part, pts, result });
                }
            });
        }
        drop(job_rx);
        for _ in 0..decoders {
            let (part_rx, job_tx, event_tx) = (part_rx.clone(), job_tx.clone(), event_tx.clone());
            let (parts, ffmpeg, processes, retries) = (&parts, &ffmpeg, &processes, &retries);
            let buffers = &buffers;
            scope.spawn(move || {
                for p in part_rx.iter() {
                    let run = &runs[parts[p].run];
                    let mut segment = parts[p].segment.clone();
                    let mut total = 0u64;
                    let mut attempt = 1;
                    let mut earlier = 0;
                    let result = loop {
                        if options.limits.cancel.is_cancelled() {
                            break Err(ExtractError::Cancelled);
                        }
                        processes.fetch_add(1, Ordering::Relaxed);
                        let mut sent = 0usize;
                        let result = decode(
                            ffmpeg,
                            &run.src,
                            &run.probe,
                            run.recipe,
                            &segment,
                            &options.limits,
                            buffers,
                            |frame| {
                                sent += 1;
                                !options.limits.cancel.is_cancelled()
                                    && job_tx.send(Job { part: p, frame }).is_ok()
                            },
                        );
                        total += sent as u64;
                        let missed = matches!(
                            result,
                            Err(DecodeError::MissedFrame { .. } | DecodeError::ZeroOutput { .. })
                        );
                        match result {
                            Ok(_) => break Ok(total),
                            // A decoder may drop frames after a seek (open
                            // GOPs): decode the rest from the keyframe before.
                            Err(err) if missed && segment.keyframe > 0 && earlier < MAX_EARLIER => {
                                tracing::debug!(run = %run.id, error = %err, "starting from an earlier keyframe");
                                segment.want.drain(..sent.min(segment.want.len()));
                                segment.keyframe = run.probe.timeline.keyframe_for(segment.keyframe - 1);
                                earlier += 1;
                            }
                            Err(err) if err.is_transient() && attempt == 1 => {
                                tracing::warn!(run = %run.id, error = %err, "decoding failed transiently; retrying once");
                                retries.fetch_add(1, Ordering::Relaxed);
                                segment.want.drain(..sent.min(segment.want.len()));
                                attempt += 1;
                            }
                            Err(err) => break Err(err.into()),
                        }
                    };
                    let _ = event_tx.send(Event::Decoded { part: p, result });
                }
            });
        }
        drop(job_tx);
        drop(event_tx);
        for event in event_rx.iter() {
            let part = match event {
                Event::Stored { part, pts, result } => {
                    match result {
                        Ok(pending) => {
                            on_frame(parts[part].run);
                            out.frames_encoded += 1;
                            out.bytes_encoded += pending.blob.size;
                            if appended[part] {
                                // Its part failed and is over: not published.
                                pending.discard();
                            } else {
                                stored[part].push((pts, pending));
                                made[part] += 1;
                                // Published in batches as they come: one
                                // sync per batch, and a run killed midway
                                // keeps what it made.
                                if stored[part].len() >= PUBLISH_BATCH {
                                    let pending = std::mem::take(&mut stored[part]);
                                    let run = &runs[parts[part].run];
                                    publish(store, run, pending, &mut failed[part], &mut out.made);
                                }
                            }
                        }
                        Err(err) => {
                            failed[part].get_or_insert(err);
                        }
                    }
                    part
                }
                Event::Decoded { part, result } => {
                    match result {
                        Ok(n) => delivered[part] = Some(n),
                        Err(err) => {
                            // Frames it delivered before failing are still stored.
                            delivered[part] = Some(u64::MAX);
                            failed[part].get_or_insert(err);
                        }
                    }
                    part
                }
            };
            let done = match delivered[part] {
                Some(u64::MAX) => false,
                Some(n) => made[part] == n || failed[part].is_some(),
                None => false,
            };
            if done && !appended[part] {
                appended[part] = true;
                let pending = std::mem::take(&mut stored[part]);
                let run = &runs[parts[part].run];
                publish(store, run, pending, &mut failed[part], &mut out.made);
            }
        }
    });
    // Parts that failed while decoding: keep the frames they did store.
    for part in 0..parts.len() {
        if !appended[part] {
            let pending = std::mem::take(&mut stored[part]);
            let run = &runs[parts[part].run];
            publish(store, run, pending, &mut failed[part], &mut out.made);
        }
    }
    for run in runs {
        out.runs.insert(run.id.clone(), Ok(()));
    }
    for part in 0..parts.len() {
        let run = &runs[parts[part].run];
        if let Some(err) = failed[part].take() {
            let slot = out.runs.get_mut(&run.id).expect("every run has a slot");
            if slot.is_ok() {
                *slot = Err(err);
            }
        }
    }
    out.ffmpeg_runs = processes.into_inner();
    out.retries = retries.into_inner();
    out
}

/// Publishes a part's blobs (one sync, then renames) and appends their
/// records to its recipe's index; a failure fails the part (its frames
/// would not be found again). The records published go to `made`.
fn publish(
    store: &Store,
    run: &RunWork,
    pending: Vec<(i64, PendingBlob)>,
    failed: &mut Option<ExtractError>,
    made: &mut BTreeMap<String, BTreeMap<i64, BlobRef>>,
) {
    let records: Vec<(i64, BlobRef)> = pending.iter().map(|(pts, p)| (*pts, p.blob)).collect();
    let blobs = pending.into_iter().map(|(_, p)| p).collect();
    let result = store
        .publish_blobs(blobs)
        .and_then(|()| store.append_index(&run.recipe_key, &records));
    match result {
        Ok(()) => made
            .entry(run.recipe_key.clone())
            .or_default()
            .extend(records),
        Err(e) => {
            let path = store.index_path(&run.recipe_key);
            failed.get_or_insert(ExtractError::io("publishing frames to", path, &e));
        }
    }
}
