/** A snapshot after loading: what walkers get. See docs/snapshot-format.md for the file format. */
import type { PhysicalMemory } from './memory';
import type { SanityFinding } from '../walk/types';

export type IommuModel = 'arm-smmu-v2' | 'arm-smmu-v3' | 'intel-vtd' | 'amd-vi' | 'arm-lpae' | 'arm-v7s';

export interface IommuFeatures {
  ias?: number;
  oas?: number;
  asidBits?: number;
  vmidBits?: number;
  ssidBits?: number;
  pasidBits?: number;
  sidBits?: number;
  granules?: ('4k' | '16k' | '64k')[];
  formats?: ('aarch64' | 'aarch32-lpae' | 'v7s')[];
  stall?: boolean;
  pri?: boolean;
  ats?: boolean;
  btm?: boolean;
  httu?: 'none' | 'access' | 'access+dirty';
  levels?: number[];
  scalableMode?: boolean;
  firstLevel?: boolean;
  secondLevel?: boolean;
  nested?: boolean;
}

/** Register values: plain registers as bigint; SMMUv2's arrays and context banks keep their shape. */
export interface SmmuV2Registers {
  smr: bigint[];
  s2cr: bigint[];
  contextBanks: Record<number, Partial<Record<'sctlr' | 'tcr' | 'tcr2' | 'ttbr0' | 'ttbr1' | 'mair0' | 'mair1' | 'cbar' | 'cba2r', bigint>>>;
}

export interface Snapshot {
  /** manifest path, for messages */
  path: string;
  description?: string;
  model: IommuModel;
  name?: string;
  features: IommuFeatures;
  /** flat registers by lowercase architectural name (everything except SMMUv2's smr/s2cr/contextBanks) */
  registers: Record<string, bigint>;
  /** present for arm-smmu-v2 */
  smmuV2?: SmmuV2Registers;
  memory: PhysicalMemory;
  /** configuration sanity findings found on load */
  findings: SanityFinding[];
}
