
// ---- Inputs -----------------------------------------------------------------

/** A composition: the video elements of a timeline. */
export interface Composition {
  /** The elements, in timeline order. The first of a set of duplicates leads. */
  elements: ElementInput[];
}

/** One element as written in a composition (validated by the planner). */
export interface ElementInput {
  /** Unique id; becomes the name of the element's output directory. */
  id: string;
  /** The source clip, as written; `Request.sources` is keyed by it. */
  src: string;
  /** Where in the source the element starts, in seconds. */
  mediaStart: number;
  /** How long the element lasts, in seconds. */
  duration: number;
  /**
   * Optional: seconds of source one pass plays (the trim); default: to the
   * source's end. A longer slot holds the pass's last frame, or loops.
   */
  mediaDuration?: number | null;
  /** Frames per second: a number (`30`, `29.97`) or `"num/den"` (`"30000/1001"`). */
  fps: number | string;
  /**
   * Optional playback rate in [1/100, 100], a number (`2`, `0.5`) or
   * `"num/den"`, read like `fps`; default 1. Frame `j` shows source time
   * `mediaStart + j × playbackRate / fps`.
   */
  playbackRate?: number | string | null;
  /** Optional: play the pass again for as long as the slot lasts (default false). */
  loop?: boolean;
  /** `"png"` or `"jpeg"`. */
  format: string;
  /** Optional SDR→HDR transfer conversion: `"pq"` or `"hlg"`. */
  sdrToHdrTransfer?: string | null;
  /**
   * Optional: how the executor keys the source, `"file"` (path, size, mtime;
   * the default) or `"content"` (a blake3 digest of its bytes). The planner
   * only checks the value: the identity itself comes in `Request.sources`.
   */
  identity?: "file" | "content" | string | null;
}

/**
 * Who a source is: two elements share work only if their sources have the
 * same identity. 64-bit integers may be given as numbers (safe integers) or
 * as `BigInt`s; outputs use a number when it is exact, else a `BigInt`.
 */
export type SourceIdentity =
  | { kind: "file"; path: string; size: number | bigint; mtimeNs: number | bigint }
  | { kind: "content"; blake3: string }
  | { kind: "name"; name: string };

/** What the caller knows about one source. */
export interface SourceFacts {
  identity: SourceIdentity;
  /** Probed duration in microseconds (end of the last frame), when known. */
  durationUs?: number | bigint;
  /** The source has an alpha channel (PNG frames are then `rgba`). */
  alpha?: boolean;
  /** The source has a variable frame rate. */
  vfr?: boolean;
}

/** Planning options. */
export interface PlanOptions {
  /** Merge overlapping trims of one source into superset extractions (default true). */
  superset?: boolean;
  /** Also merge trims at most this far apart, in microseconds (default 0). */
  supersetGapUs?: number | bigint;
}

/** Everything the planner needs. Unknown fields are refused. */
export interface Request {
  composition: Composition;
  /** Facts per source, keyed by `src` exactly as written; default: a name-only identity. */
  sources?: Record<string, SourceFacts>;
  /** Cache keys that already have a good entry. */
  cachedKeys?: string[];
  options?: PlanOptions;
}

// ---- Outputs ----------------------------------------------------------------

/** A reduced frame rate, `"num/den"` (`"30/1"`, `"30000/1001"`). */
export type Fps = string;
/** An image format. */
export type ImageFormat = "png" | "jpeg";
/** An SDR→HDR transfer. */
export type Transfer = "pq" | "hlg";

/** The plan: what to extract, and where each element's frames come from. */
export interface Plan {
  /** Version of this shape. */
  schema: number;
  totals: Totals;
  /** The extractions to run, in order of their leader's first appearance. */
  units: ExtractionUnit[];
  /** One per element, in input order. */
  assignments: Assignment[];
  /** Present when there is something to say (a slot starting past its source's end). */
  warnings?: Warning[];
}

/** Something about an element that is no error but likely a mistake. */
export interface Warning {
  elementId: string;
  message: string;
}

/** The numbers a person wants to see. */
export interface Totals {
  elements: number;
  /** Distinct dedupe keys. */
  uniqueWorks: number;
  /** Elements that share a work led by an earlier element. */
  dedupeHits: number;
  /** Units that cover more than one unique work. */
  supersetGroups: number;
  /** Unique works with a good cache entry already. */
  cacheHits: number;
  /** Extraction units (ffmpeg runs) to perform. */
  units: number;
  /** Frames over all elements, duplicates included. */
  framesRequested: number;
  /** Frames the units extract. */
  framesToExtract: number;
  /** `framesRequested − framesToExtract` (negative only with a superset gap). */
  framesSaved: number;
  /** Frames holding a last frame (linked, not extracted); absent when 0. */
  framesHeld?: number;
  /** Frames of loops past their first cycle (linked, not extracted); absent when 0. */
  framesLooped?: number;
}

/**
 * One ffmpeg extraction: a range of one source at one rate and format, or
 * (`lastFrame`) the source's true last frame.
 */
export interface ExtractionUnit {
  /** `u1`, `u2`, … in plan order. */
  id: string;
  /** The `src` of the unit's leader, as written. */
  src: string;
  source: SourceIdentity;
  /** First frame's source time, microseconds (0 for a last-frame unit). */
  startUs: number;
  /** The rate on the source's timeline: an element's fps over its playback rate (`"1/1"` for a last frame). */
  fps: Fps;
  format: ImageFormat;
  transfer?: Transfer;
  /** PNG frames keep an alpha channel. */
  alpha: boolean;
  /** Frames the extraction must produce, exactly. */
  frameCount: number;
  /** One frame: the source's true last frame, found by the executor from the frame timestamps. */
  lastFrame?: boolean;
  /** The element whose extraction this is. */
  leader: string;
  /** The unique works the unit covers. */
  members: UnitMember[];
}

/** A unique work inside a unit: a slice of its frames. */
export interface UnitMember {
  /** The work's leading element. */
  leader: string;
  cacheKey: string;
  slice: Slice;
}

/** Frames `offset .. offset + count` of a unit (0-based). */
export interface Slice {
  offset: number;
  count: number;
}

/** How an element gets its frames. */
export type Role =
  | { kind: "leader" }
  | { kind: "duplicate"; leader: string }
  | { kind: "supersetMember"; unit: string; leader: string }
  | { kind: "cacheHit" };

/** Where one element's frames come from. */
export interface Assignment {
  elementId: string;
  role: Role;
  /** Cache key of its unique work. */
  cacheKey: string;
  /** The work's frames are in the cache: nothing to extract. */
  cacheHit: boolean;
  /** The unit that extracts its frames (absent for a cache hit). */
  unit?: string;
  /** Its frames within the unit (for a cache hit: within the entry). */
  slice: Slice;
  /** First frame's source time, microseconds. */
  startUs: number;
  fps: Fps;
  /** Frames in the element's directory, when not `slice.count` (a loop, held frames). */
  frames?: number;
  /** The playback rate, when not 1 (`"2/1"`). */
  playbackRate?: string;
  /** A loop longer than its pass: frame `j` is slice frame `j mod cycle.frames`. */
  cycle?: Cycle;
  /** Frames past the slice that hold a last frame. */
  held?: Held;
}

/** One pass of a loop: the slice's frames, repeated. */
export interface Cycle {
  frames: number;
}

/** The frames of an element past the end of its pass. */
export interface Held {
  frames: number;
  /** `trim`: the slice's last frame; `source`: the source's true last frame, a work of its own. */
  from: "trim" | "source";
  /** For `source`: the last-frame work's cache key. */
  cacheKey?: string;
  /** For `source`: the last frame is cached already. */
  cacheHit?: boolean;
  /** For `source`: the unit that extracts it (absent for a cache hit). */
  unit?: string;
}

/** A field of an element, as spelled in the composition. */
export type Field =
  | "id" | "src" | "mediaStart" | "duration" | "fps" | "format" | "sdrToHdrTransfer"
  | "mediaDuration" | "playbackRate" | "loop" | "identity";

/** One element's error. */
export interface ErrorDetail {
  /** Position of the element in the composition (0-based). */
  index: number;
  /** The element's id as written. */
  elementId: string;
  field: Field;
  /** The whole message, as natively. */
  message: string;
}

/**
 * Elements with equal keys need exactly the same frames. A plain element's
 * key is `(source, startUs, durationUs, fps, format, transfer)`; an element
 * with a playback rate, a loop or a `mediaDuration` is keyed by `frames`
 * frames of the source grid `fps` (no `durationUs`); a source's last frame
 * by `lastFrame` (start 0, fps `"1/1"`).
 */
export interface DedupeKey {
  source: SourceIdentity;
  startUs: number;
  durationUs?: number;
  fps: Fps;
  format: ImageFormat;
  transfer?: Transfer;
  frames?: number;
  lastFrame?: boolean;
}

/** The input of `dedupeKey`. */
export interface DedupeKeyInput {
  element: ElementInput;
  /** Facts about the element's source; default: `{ identity: { kind: "name", name: element.src } }`. */
  source?: SourceFacts;
}

/** The result of `dedupeKey`. */
export interface DedupeKeyResult {
  key: DedupeKey;
  /** The key's canonical, length-prefixed encoding. */
  canonical: string;
  /** 64 hex digits: blake3 of the versioned encoding. */
  cacheKey: string;
}

/**
 * What every function throws: an `Error` whose `message` is the native error's
 * text (`framex plan` prints the same).
 */
export interface FramexError extends Error {
  name: "FramexError";
  /** `parse`: not well-formed; `invalid`: elements failed validation; `tooManyElements`. */
  kind: "parse" | "invalid" | "tooManyElements";
  /** Every element error (empty unless `kind` is `invalid`). */
  errors: ErrorDetail[];
  /** The first invalid element's id, field and position. */
  elementId?: string;
  field?: Field;
  index?: number;
  /** For `parse`: the path of the offending field (`composition.elements[3].fps`). */
  path?: string;
  /** For `parse` of JSON text: where in the text. */
  line?: number;
  column?: number;
}
