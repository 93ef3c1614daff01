//! An MP4 or MOV file's index, read in-process: what ffprobe reports for a
//! file whose one video track is H.264, taken from the sample tables alone,
//! with no process started and no packet read. An hour of video is read in
//! milliseconds, where ffprobe reads every packet.
//!
//! It answers only where it knows ffprobe's answer exactly, and otherwise
//! declines, saying why (then ffprobe reads the file):
//! - a box mp4-atom does not know (its `strict` mode), a fragmented file,
//!   not exactly one video track with one sample description;
//! - a codec other than H.264 (`avc1`), an interlaced or monochrome stream,
//!   RGB coded as 4:4:4, a parameter set it cannot read;
//! - a display size or matrix other than the coded size (rotation, and
//!   the aspect ffmpeg derives from a track header);
//! - negative composition offsets, partial sync samples, and edit lists
//!   other than one edit in which every sample starts.
//!
//! `tests/tests/probe_index.rs` holds it to ffprobe's answer on every MP4
//! and MOV clip of the test matrix.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use framex_core::MAX_TIMELINE_FRAMES;
use h264_reader::nal::sps::{ChromaFormat, FrameMbsFlags, SeqParameterSet};
use h264_reader::rbsp::{decode_nal, BitReader};
use mp4_atom::{Codec, Colr, FourCC, Header, Moov, ReadAtom, ReadFrom, StszSamples, Trak};

use super::{from_raw, Probe, Raw, RawPacket, RawStream};

/// The largest `moov` read (its sample tables): far above an hour's few MB.
const MAX_MOOV_BYTES: usize = 256 << 20;
/// Top-level boxes looked at before giving up on finding `moov`.
const MAX_TOP_LEVEL_BOXES: usize = 4096;

/// The probe of `path` from its index, or why ffprobe must read it.
pub fn read(path: &Path) -> Result<Probe, String> {
    let moov = read_moov(path)?;
    from_raw(raw(&moov)?)
}

/// Finds and decodes the `moov` box, skipping every other top-level box
/// without reading it.
fn read_moov(path: &Path) -> Result<Moov, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut file = BufReader::new(file);
    for index in 0..MAX_TOP_LEVEL_BOXES {
        let header = Option::<Header>::read_from(&mut file)
            .map_err(|e| format!("not an MP4/MOV box: {e}"))?
            .ok_or("no moov box")?;
        let kind = header.kind;
        if index == 0
            && ![b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"]
                .iter()
                .any(|k| kind == FourCC::new(k))
        {
            return Err("not an MP4/MOV file".into());
        }
        if kind == FourCC::new(b"moof") {
            return Err("fragmented".into());
        }
        if kind == FourCC::new(b"moov") {
            match header.size {
                Some(size) if size <= MAX_MOOV_BYTES => {}
                _ => return Err("moov box too large or unbounded".into()),
            }
            return Moov::read_atom(&header, &mut file).map_err(|e| format!("moov: {e}"));
        }
        let size = header.size.ok_or("the box before moov runs to the end")?;
        let size = i64::try_from(size).map_err(|_| "box too large")?;
        file.seek_relative(size)
            .map_err(|e| format!("cannot skip a box: {e}"))?;
    }
    Err("no moov box among the first top-level boxes".into())
}

/// What ffprobe would print for the file's video stream and its packets.
fn raw(moov: &Moov) -> Result<Raw, String> {
    if moov.mvex.is_some() {
        return Err("fragmented".into());
    }
    let videos: Vec<&Trak> = moov
        .trak
        .iter()
        .filter(|t| t.mdia.hdlr.handler == FourCC::new(b"vide"))
        .collect();
    let [trak] = videos[..] else {
        return Err(format!("{} video tracks", videos.len()));
    };
    let stream = stream(trak)?;
    let packets = packets(trak, moov.mvhd.timescale)?;
    Ok(Raw {
        streams: vec![stream],
        packets,
    })
}

/// The stream's facts, from the sample description and its SPS.
fn stream(trak: &Trak) -> Result<RawStream, String> {
    let stbl = &trak.mdia.minf.stbl;
    let [Codec::Avc1(avc1)] = &stbl.stsd.codecs[..] else {
        return Err("not one H.264 (avc1) sample description".into());
    };
    let [sps] = &avc1.avcc.sequence_parameter_sets[..] else {
        return Err("not one sequence parameter set".into());
    };
    let rbsp = decode_nal(sps).map_err(|e| format!("SPS: {e}"))?;
    let sps =
        SeqParameterSet::from_bits(BitReader::new(&*rbsp)).map_err(|e| format!("SPS: {e:?}"))?;
    if !matches!(sps.frame_mbs_flags, FrameMbsFlags::Frames) {
        return Err("interlaced".into());
    }
    let (width, height) = sps.pixel_dimensions().map_err(|e| format!("SPS: {e:?}"))?;
    let visual = &avc1.visual;
    let tkhd = &trak.tkhd;
    let coded = (u32::from(visual.width), u32::from(visual.height));
    let display = (
        u32::from(tkhd.width.integer()),
        u32::from(tkhd.height.integer()),
    );
    // Without `pasp`, ffmpeg takes the aspect from a display size that
    // differs from the coded one; with it, the display size is only
    // informative.
    let display_differs =
        display != coded || tkhd.width.decimal() != 0 || tkhd.height.decimal() != 0;
    if (width, height) != coded
        || (display_differs && avc1.pasp.is_none())
        || tkhd.matrix != mp4_atom::Matrix::default()
    {
        return Err("display size or matrix other than the coded size".into());
    }
    let vui = sps.vui_parameters.as_ref();
    let signal = vui.and_then(|v| v.video_signal_type.as_ref());
    let colr = match &avc1.colr {
        Some(Colr::Nclx {
            transfer_characteristics,
            full_range_flag,
            ..
        }) => Some((*transfer_characteristics, *full_range_flag)),
        _ => None,
    };
    // The decoder's view wins over the container's, as in ffmpeg.
    let full_range = signal.map_or(colr.is_some_and(|c| c.1), |s| s.video_full_range_flag);
    let transfer = signal
        .and_then(|s| s.colour_description.as_ref())
        .map(|c| u16::from(c.transfer_characteristics))
        .or(colr.map(|c| c.0));
    let color_transfer = match transfer {
        None | Some(2) => None,
        Some(t) => Some(transfer_name(t).ok_or(format!("transfer {t}"))?.to_string()),
    };
    Ok(RawStream {
        codec_name: Some("h264".into()),
        pix_fmt: Some(pix_fmt(&sps, full_range)?),
        width: Some(width),
        height: Some(height),
        sample_aspect_ratio: sample_aspect_ratio(avc1.pasp.as_ref(), &sps)?,
        color_transfer,
        time_base: Some(format!("1/{}", trak.mdia.mdhd.timescale)),
        tags: Default::default(),
    })
}

/// ffmpeg's pixel format for the H.264 decoder's output.
fn pix_fmt(sps: &SeqParameterSet, full_range: bool) -> Result<String, String> {
    let chroma = &sps.chroma_info;
    let depth = 8 + u32::from(chroma.bit_depth_luma_minus8);
    if chroma.bit_depth_chroma_minus8 != chroma.bit_depth_luma_minus8
        || chroma.separate_colour_plane_flag
        || !matches!(depth, 8 | 9 | 10 | 12 | 14)
    {
        return Err("unusual bit depth or colour planes".into());
    }
    let rgb = sps
        .vui_parameters
        .as_ref()
        .and_then(|v| v.video_signal_type.as_ref())
        .and_then(|s| s.colour_description.as_ref())
        .is_some_and(|c| c.matrix_coefficients == 0);
    let subsampling = match chroma.chroma_format {
        ChromaFormat::YUV420 => "420",
        ChromaFormat::YUV422 => "422",
        ChromaFormat::YUV444 if !rgb => "444",
        _ => return Err("monochrome, RGB or unknown chroma format".into()),
    };
    Ok(match (depth, full_range) {
        (8, true) => format!("yuvj{subsampling}p"),
        (8, false) => format!("yuv{subsampling}p"),
        (depth, _) => format!("yuv{subsampling}p{depth}le"),
    })
}

/// ffprobe's sample aspect ratio: the container's (`pasp`), else the
/// codec's (the SPS), as `n:d` reduced.
fn sample_aspect_ratio(
    pasp: Option<&mp4_atom::Pasp>,
    sps: &SeqParameterSet,
) -> Result<Option<String>, String> {
    let codec = sps
        .vui_parameters
        .as_ref()
        .and_then(|v| v.aspect_ratio_info.as_ref())
        .and_then(|a| a.get())
        .map(|(n, d)| reduce(u32::from(n), u32::from(d)))
        .filter(|&(n, d)| n > 0 && d > 0);
    let container = match pasp {
        Some(p) if p.h_spacing == 0 || p.v_spacing == 0 => return Err("empty pasp".into()),
        Some(p) => Some(reduce(p.h_spacing, p.v_spacing)),
        None => None,
    };
    if let (Some(c), Some(s)) = (container, codec) {
        if c != s {
            return Err("pasp and SPS disagree on the aspect".into());
        }
    }
    match container.or(codec) {
        Some((n, d)) if n > 32767 || d > 32767 => Err("aspect beyond ffmpeg's range".into()),
        sar => Ok(sar.map(|(n, d)| format!("{n}:{d}"))),
    }
}

fn reduce(n: u32, d: u32) -> (u32, u32) {
    let (mut a, mut b) = (n, d);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    n.checked_div(a).zip(d.checked_div(a)).unwrap_or((n, d))
}

/// ffmpeg's names of the transfer characteristics (H.273).
fn transfer_name(code: u16) -> Option<&'static str> {
    Some(match code {
        1 => "bt709",
        4 => "bt470m",
        5 => "bt470bg",
        6 => "smpte170m",
        7 => "smpte240m",
        8 => "linear",
        9 => "log100",
        10 => "log316",
        11 => "iec61966-2-4",
        12 => "bt1361e",
        13 => "iec61966-2-1",
        14 => "bt2020-10",
        15 => "bt2020-12",
        16 => "smpte2084",
        17 => "smpte428",
        18 => "arib-std-b67",
        _ => return None,
    })
}

/// Every sample as a packet, in decode order: its presentation time (the
/// decode time plus the composition offset, less the edit's start), its
/// duration and whether it is a sync sample.
fn packets(trak: &Trak, movie_timescale: u32) -> Result<Vec<RawPacket>, String> {
    let stbl = &trak.mdia.minf.stbl;
    let count = match &stbl.stsz.samples {
        StszSamples::Identical { count, .. } => *count as usize,
        StszSamples::Different { sizes } => sizes.len(),
    };
    if count == 0 || count as u64 > MAX_TIMELINE_FRAMES {
        return Err(format!("{count} samples"));
    }
    let disagree = || "sample tables disagree on the sample count".to_string();
    let runs = stbl.stts.entries.iter();
    let deltas = expand(runs.map(|e| (e.sample_count, e.sample_delta)), count)
        .filter(|d| d.len() == count)
        .ok_or_else(disagree)?;
    let offsets: Vec<i64> = match &stbl.ctts {
        Some(ctts) => expand(
            ctts.entries
                .iter()
                .map(|e| (e.sample_count, e.sample_offset)),
            count,
        )
        .filter(|o| o.len() == count)
        .ok_or_else(disagree)?,
        None => vec![0; count],
    };
    if offsets.iter().any(|&o| o < 0) {
        return Err("negative composition offsets".into());
    }
    let mut cts = Vec::with_capacity(count);
    let mut dts: i64 = 0;
    for (delta, offset) in deltas.iter().zip(&offsets) {
        cts.push(dts + offset);
        dts += i64::from(*delta);
    }
    let shift = edit_start(trak, movie_timescale, &cts)?;
    let mut sync = vec![stbl.stss.is_none(); count];
    for &n in stbl.stss.iter().flat_map(|s| &s.entries) {
        *sync
            .get_mut((n as usize).wrapping_sub(1))
            .ok_or("a sync sample names no sample")? = true;
    }
    Ok(cts
        .iter()
        .zip(&deltas)
        .zip(&sync)
        .map(|((&cts, &delta), &key)| RawPacket {
            pts: Some(cts - shift),
            duration: Some(i64::from(delta)),
            flags: if key { "K_" } else { "__" }.into(),
        })
        .collect())
}

/// Where the one edit starts in the media (0 without an edit list), when
/// every sample starts inside it; otherwise the demuxer would discard or
/// cut samples, and ffprobe is asked.
fn edit_start(trak: &Trak, movie_timescale: u32, cts: &[i64]) -> Result<i64, String> {
    let entries = trak
        .edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .map_or(&[][..], |e| &e.entries[..]);
    let entry = match entries {
        [] => return Ok(0),
        [entry] => entry,
        _ => return Err("an edit list of several edits".into()),
    };
    let (Some(start), 1, 0) = (
        entry.media_time,
        entry.media_rate.integer(),
        entry.media_rate.decimal(),
    ) else {
        return Err("an empty or retimed edit".into());
    };
    let start = i64::try_from(start).map_err(|_| "edit start out of range")?;
    let timescale = i64::from(trak.mdia.mdhd.timescale);
    let movie = i64::from(movie_timescale);
    if movie == 0 || timescale == 0 {
        return Err("zero timescale".into());
    }
    // ffmpeg rescales the edit's duration to the media's timescale, rounded.
    let duration = i64::try_from(entry.segment_duration).map_err(|_| "edit out of range")?;
    let duration =
        (i128::from(duration) * i128::from(timescale) + i128::from(movie / 2)) / i128::from(movie);
    let first = cts.iter().copied().min().unwrap_or(0);
    let last = cts.iter().copied().max().unwrap_or(0);
    // Every sample starts inside the edit: none is discarded or cut, and
    // the last one keeps its own duration.
    if first != start || i128::from(start) + duration <= i128::from(last) {
        return Err("an edit that does not show every sample".into());
    }
    Ok(start)
}

/// A run-length table, one value per sample; `None` when it lists more
/// samples than `count`.
fn expand<T: Copy>(runs: impl Iterator<Item = (u32, T)>, count: usize) -> Option<Vec<T>> {
    let mut out = Vec::with_capacity(count);
    for (n, value) in runs {
        if out.len() + n as usize > count {
            return None;
        }
        out.extend(std::iter::repeat_n(value, n as usize));
    }
    Some(out)
}
