/**
 * A fault record: one IOMMU fault print (possibly several lines) found in a log.
 * Field names and meanings are the `iommu-lens scan --json` contract of DESIGN.md:
 * extend with optional fields only, never rename or remove.
 */
export type Host = 'linux' | 'xen';

export interface FaultReason {
  /** architectural code (number), or the code as printed when it is not numeric */
  code?: number | string;
  /** short architectural name: TF, F_TRANSLATION, IO_PAGE_FAULT, ... */
  name?: string;
  /** the reason in words */
  text?: string;
}

export interface FaultRecord {
  file?: string;
  /** 1-based line of the record's first line */
  line: number;
  /** last line of a multi-line record (absent for single-line records) */
  endLine?: number;
  family: string;
  host?: Host;
  kind: string;
  /** seconds, from the line's timestamp */
  time?: number;
  iommu?: string;
  /** PCI BDF normalised to DDDD:BB:DD.F, or the device name as printed */
  device?: string;
  streamId?: string;
  substreamId?: string;
  pasid?: string;
  domain?: string;
  contextBank?: number;
  /** lowercase hex with 0x, no leading zeros */
  iova?: string;
  /** read, write, exec, joined by + */
  access?: string;
  /** raw register values, lowercase hex strings keyed by lowercase architectural name */
  registers?: Record<string, string>;
  reason?: FaultReason;
  /** decoded bit fields: register name -> field name -> value */
  decoded?: Record<string, unknown>;
}

/** The contract's fields, in the order `scan --json` prints them. */
export const RECORD_FIELDS = [
  'file', 'line', 'endLine', 'family', 'host', 'kind', 'time', 'iommu', 'device',
  'streamId', 'substreamId', 'pasid', 'domain', 'contextBank', 'iova', 'access',
  'registers', 'reason', 'decoded',
] as const satisfies readonly (keyof FaultRecord)[];

/**
 * Serialise a record with exactly the contract's fields, in a stable order, absent ones left out.
 * One object literal of a fixed shape: JSON.stringify leaves out properties whose value is
 * undefined (and calls toJSON with the same keys), so this prints what stringifying an object
 * holding only the present fields printed, without adding those fields one by one through keyed
 * stores, which made a new hidden-class transition chain per record shape and was the costly part.
 */
export function recordToJson(r: FaultRecord): string {
  return JSON.stringify({
    file: r.file, line: r.line, endLine: r.endLine, family: r.family, host: r.host, kind: r.kind, time: r.time,
    iommu: r.iommu, device: r.device, streamId: r.streamId, substreamId: r.substreamId, pasid: r.pasid,
    domain: r.domain, contextBank: r.contextBank, iova: r.iova, access: r.access,
    registers: r.registers, reason: r.reason, decoded: r.decoded,
  } satisfies Record<(typeof RECORD_FIELDS)[number], unknown>);
}
