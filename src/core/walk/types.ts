/**
 * What every walker takes and returns. The JSON shape of WalkResult is the
 * `iommu-lens walk --json` contract of DESIGN.md: extend with optional fields only.
 */

export type WalkStage = 'device-entry' | 'pasid-entry' | 'table-root' | 'table-entry' | 'permission' | 'configuration';
export type Access = 'read' | 'write' | 'exec';

export interface WalkRequest {
  iova: bigint;
  /** SMMU stream ID, AMD-Vi/VT-d requester ID may also be given as a number */
  streamId?: number;
  /** PCI BDF "DDDD:BB:DD.F" (VT-d, AMD-Vi; SMMU when the manifest maps RIDs to stream IDs) */
  device?: string;
  pasid?: number;
  contextBank?: number;
  access?: Access;
  /** privileged (EL1 / supervisor) access; default unprivileged for device DMA */
  privileged?: boolean;
}

export interface WalkStep {
  /** what was read: "root entry", "context entry", "STE", "CD", "L2 table descriptor", "PTE" ... */
  structure: string;
  /** translation level where applicable (Arm: 0..3, VT-d: 5..1 as the spec numbers them, AMD-Vi: 6..1) */
  level?: number;
  /** physical address read, lowercase hex with 0x */
  address?: string;
  /** raw value read (lowercase hex; 128/256-bit entries as one hex string, most significant first) */
  value?: string;
  /** decoded fields of the value */
  decoded?: Record<string, unknown>;
  /** the architectural rule applied at this step, in words, with its source ("VT-d 3.6: ...") */
  rule?: string;
  /** false for the step where the walk failed */
  ok: boolean;
  /** which stage of a nested walk ("stage 1", "stage 2") */
  stage?: string;
}

export interface WalkFaultReason {
  /** architectural code: VT-d fault reason, SMMUv3 event id, AMD-Vi event code, SMMUv2 FSR bit name */
  code?: number | string;
  name: string;
  text: string;
}

export interface WalkFault {
  stage: WalkStage;
  level?: number;
  reason: WalkFaultReason;
}

export interface Culprit {
  party: string;
  confidence: 'high' | 'medium' | 'low';
  why: string;
}

export interface Permissions {
  read: boolean;
  write: boolean;
  exec: boolean;
  /** accessible from unprivileged (EL0/user) requests, where the format says */
  user?: boolean;
}

export interface SanityFinding {
  severity: 'error' | 'warning' | 'info';
  /** the register, field or structure concerned */
  where: string;
  message: string;
}

export interface WalkResult {
  result: 'translated' | 'fault';
  pa?: string;
  pageSize?: number;
  permissions?: Permissions;
  steps: WalkStep[];
  fault?: WalkFault;
  culprit?: Culprit;
  /** configuration sanity findings relevant to this walk */
  findings?: SanityFinding[];
}

export function hexAddr(v: bigint): string {
  return '0x' + v.toString(16);
}
