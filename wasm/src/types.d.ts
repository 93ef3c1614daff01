
// framex-wasm's inputs and outputs: framex-core's serde shapes, in camelCase.
// Written by hand and checked by `tsc` (wasm/tests/ts/README.md): every
// request and plan of the snapshot corpus must type-check against these, and
// a typed test file calls every function with them.

// ---- Numbers and names ------------------------------------------------------

/** A reduced rational `"num/den"`: frame rates (`"30/1"`, `"30000/1001"`), playback rates, time bases (`"1/15360"`). */
export type Ratio = `${number}/${number}`;
/** A frame rate in an output: always `"num/den"`, reduced. */
export type Fps = Ratio;
/** Frames per tick of a `FrameRun`: `"2"`, `"4/5"`, `"0"` (a held frame). */
export type Step = `${number}` | Ratio;
/**
 * A set of source frame indices (0-based) as text: `"0-89"` (0 to 89),
 * `"0-118/2"` (every other one), `"3,7,12-20"`.
 */
export type IndexRuns = string;
/** A 64-bit integer: a number when exact (up to 2^53 − 1), else a `BigInt`. */
export type Int64 = number | bigint;
/** An image format. */
export type ImageFormat = "png" | "jpeg";
/** An SDR→HDR transfer. */
export type Transfer = "pq" | "hlg";

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
   * Optional: where the element starts on the composition's timeline, in
   * seconds (default 0); chunked renders (`framex extract --frames`) use it.
   */
  start?: number | null;
  /**
   * Optional: seconds of source one pass plays (the trim); default: to the
   * source's end. A longer slot holds the pass's last frame, or loops.
   */
  mediaDuration?: number | null;
  /** Frames per second: a number (`30`, `29.97`) or `"num/den"` (`"30000/1001"`). */
  fps: number | string;
  /**
   * Optional playback rate in [1/100, 100], a number (`2`, `0.5`) or
   * `"num/den"`, read like `fps`; default 1. Tick `j` shows source time
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
  identity?: string | null;
}

/**
 * Who a source is: two elements share frames only if their sources have the
 * same identity.
 */
export type SourceIdentity =
  | { kind: "file"; path: string; size: Int64; mtimeNs: Int64 }
  | { kind: "content"; blake3: string }
  | { kind: "name"; name: string };

/**
 * A probed source's frames: presentation times (ticks of `timeBase`, from
 * the first frame) and keyframe indices, as runs `[first, step, count]`, and
 * the end of the last frame.
 */
export interface Timeline {
  timeBase: Ratio;
  pts: [Int64, Int64, Int64][];
  end: Int64;
  keyframes?: [Int64, Int64, Int64][];
}

/** What the caller knows about one source. */
export interface SourceFacts {
  identity: SourceIdentity;
  /** The source has an alpha channel (PNG frames are then RGBA). */
  alpha?: boolean;
  /** Every frame's time and the keyframes, from a probe. */
  timeline?: Timeline | null;
  /**
   * Without a timeline: the constant rate to assume, as text (`"30"`,
   * `"29.97"`, `"30000/1001"`); default `"30/1"`. Every frame then counts as
   * a keyframe.
   */
  frameRate?: string | null;
  /** Without a timeline: the duration in microseconds, when known. */
  durationUs?: Int64 | null;
}

/** Planning options. */
export interface PlanOptions {
  /**
   * What a new decode run costs, in frames decoded (default 24): two runs of
   * one source and recipe merge when fewer frames lie between them.
   */
  seekCostFrames?: number;
}

/** Everything the planner needs. Unknown fields are refused. */
export interface Request {
  composition: Composition;
  /** Facts per source, keyed by `src` exactly as written; default: a name-only identity at 30 fps. */
  sources?: Record<string, SourceFacts>;
  /**
   * Frames the store already holds: per recipe key (`recipeKey`, a plan's
   * `sources[].recipes[].key`), their presentation times (ticks of the
   * source's time base; for an assumed timeline, the frame index).
   */
  cachedFrames?: Record<string, Int64[]>;
  options?: PlanOptions;
}

// ---- The plan ---------------------------------------------------------------

/**
 * The plan: which source frame every tick of every element shows, and the
 * decode runs that make each distinct frame not yet stored, once.
 */
export interface Plan {
  /** Version of this shape. */
  schema: number;
  totals: Totals;
  /** Each distinct source (by identity), in order of the first element using it. */
  sources: SourcePlan[];
  /** One per element, in input order. */
  elements: ElementPlan[];
  /** Present when there is something to say (a slot starting past its source's end). */
  warnings?: Warning[];
}

/** Something about an element that is no error but likely a mistake. */
export interface Warning {
  elementId: string;
  message: string;
}

/** Totals, counted in frames: a frame is one source frame in one recipe. */
export interface Totals {
  elements: number;
  /** Ticks over all elements: the files the element directories hold. */
  framesRequested: number;
  /** Distinct frames those ticks show. */
  distinctFrames: number;
  /** `framesRequested − distinctFrames`. */
  dedupeHits: number;
  /** Distinct frames the store holds already. */
  cacheHits: number;
  /** Frames to decode and encode: `distinctFrames − cacheHits`. */
  framesToMake: number;
  /** `framesRequested − framesToMake`. */
  framesSaved: number;
  /** Decode runs (ffmpeg passes). */
  decodeRuns: number;
  /** Frames the runs decode, from their keyframes on. */
  framesToDecode: number;
  /** Elements that show exactly the frames of an earlier one. */
  duplicates: number;
}

/** One distinct source. */
export interface SourcePlan {
  /** `s1`, `s2`, … */
  id: string;
  /** The `src` of the first element using it, as written. */
  src: string;
  identity: SourceIdentity;
  /** The unit frame times are counted in (`"1/30"` for an assumed 30 fps). */
  timeBase: Ratio;
  /** Frames in the source, when known. */
  frames?: number;
  /** Set when its frames were not probed: the constant rate assumed. */
  assumedRate?: Fps;
  /** One per recipe its elements ask for. */
  recipes: RecipePlan[];
}

/** The frames of one source in one recipe. */
export interface RecipePlan {
  /** The recipe key: names every frame of this source in this recipe. */
  key: string;
  format: ImageFormat;
  /** RGBA PNG. */
  alpha: boolean;
  transfer?: Transfer;
  /** Distinct frames its elements show. */
  distinctFrames: number;
  /** Of those, frames the store holds. */
  cacheHits: number;
  /** The frames to make, in decode runs. */
  runs: DecodeRun[];
}

/** One pass of the decoder: from a keyframe through `last`, keeping `make`. */
export interface DecodeRun {
  /** `r1`, `r2`, … in order of their leaders. */
  id: string;
  /** The first element that needs one of its frames. */
  leader: string;
  /** Frame index decoding starts from. */
  keyframe: number;
  /** The last frame index decoded. */
  last: number;
  /** The frames to make. */
  make: IndexRuns;
}

/** How an element gets its frames. */
export type Role =
  | { kind: "leader" }
  | { kind: "duplicate"; of: string }
  | { kind: "shares"; run: string; leader: string }
  | { kind: "cacheHit" };

/**
 * Consecutive ticks: tick `i` (`0 ≤ i < ticks`) shows source frame
 * `frame + ⌊(i × step.num + phase) / step.den⌋`.
 */
export interface FrameRun {
  ticks: number;
  frame: number;
  step: Step;
  /** `0 ≤ phase < step.den`; absent when 0. */
  phase?: number;
}

/** Where one element's frames come from. */
export interface ElementPlan {
  elementId: string;
  role: Role;
  /** Its source's id (`s1`, …). */
  source: string;
  /** Its recipe key. */
  recipe: string;
  /** Start in the source, microseconds. */
  startUs: number;
  fps: Fps;
  /** The playback rate, when not 1. */
  playbackRate?: Ratio;
  /** Ticks in its slot: files in its directory (`frame_000001.png` is tick 0). */
  ticks: number;
  /** Distinct frames it shows. */
  distinctFrames: number;
  /** Of those, frames the store holds. */
  cacheHits: number;
  /** The decode runs that make its other frames (absent when none). */
  runs?: string[];
  /** The frame each tick shows, compactly. */
  frames: FrameRun[];
}

// ---- Errors -----------------------------------------------------------------

/** A field of an element, as spelled in the composition. */
export type Field =
  | "id" | "src" | "mediaStart" | "duration" | "start" | "mediaDuration" | "fps"
  | "playbackRate" | "loop" | "format" | "sdrToHdrTransfer" | "identity";

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
 * What every function throws: an `Error` whose `message` is the native error's
 * text (`framex plan` prints the same).
 */
export interface FramexError extends Error {
  name: "FramexError";
  /**
   * `parse`: not well-formed, or not of the right shape (an unknown field, a
   * value of the wrong type); `invalid`: elements failed validation;
   * `badTimeline`: a source's timeline cannot be used; `tooManyElements`.
   */
  kind: "parse" | "invalid" | "badTimeline" | "tooManyElements";
  /** Every element error (empty unless `kind` is `invalid`). */
  errors: ErrorDetail[];
  /** The first invalid element's id, field and position. */
  elementId?: string;
  field?: Field;
  index?: number;
  /** For `parse`: the path of the offending field (`composition.elements[3].fps`). */
  path?: string;
  /** For `parse`: the parser's own words, without path or position ("did you mean" included). */
  reason?: string;
  /** For `parse` of JSON text: where in the text. */
  line?: number;
  column?: number;
}

// ---- Keys -------------------------------------------------------------------

/** How a frame is rendered. */
export interface Recipe {
  format: ImageFormat;
  /** RGBA PNG (a source with alpha, in PNG). */
  alpha: boolean;
  transfer?: Transfer | null;
}

/** The input of `recipeKey`. */
export interface RecipeKeyInput {
  identity: SourceIdentity;
  /** The source's time base (a plan's `sources[].timeBase`). */
  timeBase: Ratio;
  recipe: Recipe;
}

/** The input of `elementFrames`. */
export interface ElementFramesInput {
  element: ElementInput;
  /** Facts about the element's source; default: `{ identity: { kind: "name", name: element.src } }` at 30 fps. */
  source?: SourceFacts;
}

/** The result of `elementFrames`. */
export interface ElementFrames {
  /** The key of every frame of its source in its recipe (the plan's `elements[].recipe`). */
  recipeKey: string;
  /** The key of what it shows: elements with equal keys are duplicates. */
  elementKey: string;
  timeBase: Ratio;
  /** Set when the source's frames were not probed: the rate assumed. */
  assumedRate?: Fps;
  /** Ticks in its slot. */
  ticks: number;
  /** The frame each tick shows (the plan's `elements[].frames`). */
  frames: FrameRun[];
}
