/**
 * The typed messages between the extension host and the "Fault Details" webview. This is the
 * only module both sides import; everything in it is plain JSON (no bigint, no class instances)
 * so it survives postMessage and the webview's persisted state unchanged.
 */
import type { FaultRecord } from './logs/record';
import type { DecodedRegister } from './decode/register';
import type { WalkResult } from './walk/types';

/** A log line the webview may link back to. */
export interface SourceLine {
  /** 1-based line number */
  line: number;
  /** the line as read, shown as text only */
  text: string;
}

/** What the walk was asked for, echoed as strings so the page can show it. */
export interface WalkRequestView {
  iova: string;
  streamId?: string;
  device?: string;
  pasid?: string;
  contextBank?: number;
  access?: string;
}

export interface WalkView {
  /** manifest path of the snapshot the walk ran on */
  snapshot: string;
  request: WalkRequestView;
  /** present when the walk ran */
  result?: WalkResult;
  /** present when the walk could not run (snapshot unreadable, missing identifiers, ...) */
  error?: string;
}

/** Everything the details page shows for one fault, or for one decoded value. */
export interface FaultDetails {
  /** page heading */
  title: string;
  /** the log document the fault came from (a URI string), for links back */
  uri?: string;
  record?: FaultRecord;
  registers: DecodedRegister[];
  /** the record's own lines */
  lines: SourceLine[];
  /** other occurrences of the same group (first ones), for navigation */
  related?: SourceLine[];
  /** how many records the group holds in total */
  groupCount?: number;
  walk?: WalkView;
}

/** Host → webview. */
export type ToWebview =
  | { type: 'show'; details: FaultDetails };

/** Webview → host. */
export type FromWebview =
  /** the page script runs; `hasState` when it restored a persisted page */
  | { type: 'ready'; hasState: boolean }
  /** the page rendered details: what it drew, so tests and logs can check the round trip */
  | { type: 'rendered'; title: string; steps: number; failingStep?: number; registers: number; theme: string }
  | { type: 'revealLine'; uri: string; line: number }
  | { type: 'walkAgain' };

/** The view type of the details panel, shared by the host and the serializer registration. */
export const DETAILS_VIEW_TYPE = 'iommuLens.faultDetails';

/** Defensive check for messages arriving from the webview (it renders untrusted log text). */
export function isFromWebview(m: unknown): m is FromWebview {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  switch (t) {
    case 'ready': return typeof (m as { hasState?: unknown }).hasState === 'boolean';
    case 'rendered': return typeof (m as { title?: unknown }).title === 'string';
    case 'revealLine': {
      const r = m as { uri?: unknown; line?: unknown };
      return typeof r.uri === 'string' && typeof r.line === 'number' && Number.isInteger(r.line) && r.line >= 1;
    }
    case 'walkAgain': return true;
    default: return false;
  }
}
