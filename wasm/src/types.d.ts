
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
  /** Frames per second: a number (`30`, `29.97`) or `"num/den"` (`"30000/1001"`). */
  fps: number | string;
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
}

/** One ffmpeg extraction: a range of one source at one rate and format. */
export interface ExtractionUnit {
  /** `u1`, `u2`, … in plan order. */
  id: string;
  /** The `src` of the unit's leader, as written. */
  src: string;
  source: SourceIdentity;
  /** First frame's source time, microseconds. */
  startUs: number;
  fps: Fps;
  format: ImageFormat;
  transfer?: Transfer;
  /** PNG frames keep an alpha channel. */
  alpha: boolean;
  /** Frames the extraction must produce, exactly. */
  frameCount: number;
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
}

/** A field of an element, as spelled in the composition. */
export type Field =
  | "id" | "src" | "mediaStart" | "duration" | "fps" | "format" | "sdrToHdrTransfer"
  | "identity";

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

/** Elements with equal keys need exactly the same frames. */
export interface DedupeKey {
  source: SourceIdentity;
  startUs: number;
  durationUs: number;
  fps: Fps;
  format: ImageFormat;
  transfer?: Transfer;
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
