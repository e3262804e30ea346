/**
 * Suspected culprit from the log alone: the printed reason names the translation stage that
 * failed, and culprit.ts maps a stage to a party. One confidence step lower than the same stage
 * found by a walk, because a reason code does not show which table entry was wrong.
 */
import type { Culprit, WalkStage } from '../walk/types';
import type { IommuModel } from '../snapshot/types';
import { suspectCulprit } from './culprit';

const STAGES: readonly WalkStage[] = ['device-entry', 'pasid-entry', 'table-root', 'table-entry', 'permission', 'configuration'];

const BY_NAME: Record<string, WalkStage> = {
  // SMMUv3 event names
  C_BAD_STREAMID: 'device-entry', F_STE_FETCH: 'device-entry', C_BAD_STE: 'device-entry', F_STREAM_DISABLED: 'device-entry',
  C_BAD_SUBSTREAMID: 'pasid-entry', F_CD_FETCH: 'pasid-entry', C_BAD_CD: 'pasid-entry',
  F_WALK_EABT: 'table-entry', F_TRANSLATION: 'table-entry', F_ADDR_SIZE: 'table-entry',
  F_ACCESS: 'permission', F_PERMISSION: 'permission',
  F_TLB_CONFLICT: 'configuration', F_CFG_CONFLICT: 'configuration', F_TRANSL_FORBIDDEN: 'configuration', F_BAD_ATS_TREQ: 'configuration', F_UUT: 'configuration',
  // SMMUv1/v2 FSR / GFSR bits
  TF: 'table-entry', EF: 'table-entry', PF: 'permission', AFF: 'permission', ASF: 'configuration', TLBMCF: 'configuration', TLBLKF: 'configuration', UUT: 'configuration',
  USF: 'device-entry', SMCF: 'device-entry', UCBF: 'device-entry', UCIF: 'device-entry', ICF: 'configuration', CAF: 'configuration',
  // AMD-Vi event types
  ILLEGAL_DEV_TABLE_ENTRY: 'device-entry', DEV_TAB_HARDWARE_ERROR: 'device-entry', PAGE_TAB_HARDWARE_ERROR: 'table-entry',
  INVALID_DEVICE_REQUEST: 'configuration', ILLEGAL_COMMAND_ERROR: 'configuration', COMMAND_HARDWARE_ERROR: 'configuration', IOTLB_INV_TIMEOUT: 'configuration',
  // generic fault API (dev_fault trace)
  PASID_FETCH: 'pasid-entry', BAD_PASID_ENTRY: 'pasid-entry', PASID_INVALID: 'pasid-entry', WALK_EABT: 'table-entry', PTE_FETCH: 'table-entry',
  PERMISSION: 'permission', ACCESS: 'permission', OOR_ADDRESS: 'table-root',
  // VT-d legacy names without a decoded stage
  PTE_READ: 'table-entry', PTE_WRITE: 'table-entry',
};

const MODEL: Record<string, IommuModel> = {
  'arm-smmu': 'arm-smmu-v2', 'arm-smmu-v3': 'arm-smmu-v3', 'intel-vtd': 'intel-vtd', 'amd-vi': 'amd-vi',
};

export interface LogReason {
  name?: string;
  text?: string;
  /** the family's own stage for this reason (VT-d records carry one) */
  stage?: string;
}

/** The walk stage a printed reason points at, when it points at one. */
export function stageOfReason(r: LogReason): WalkStage | undefined {
  if (r.stage && (STAGES as readonly string[]).includes(r.stage)) return r.stage as WalkStage;
  const name = (r.name ?? '').toUpperCase();
  for (const part of name.split('+')) if (BY_NAME[part]) return BY_NAME[part];
  if (name === 'IO_PAGE_FAULT') return /permission|not allowed|forbid/i.test(r.text ?? '') ? 'permission' : 'table-entry';
  if (/PERMISSION/.test(name)) return 'permission';
  if (/TRANSLATION|PAGE_FAULT|INVALID_SMMU_PAGE|NOT_PRESENT|^PF$/.test(name)) return 'table-entry';
  return undefined;
}

const LOWER: Record<Culprit['confidence'], Culprit['confidence']> = { high: 'medium', medium: 'low', low: 'low' };

/** The culprit a group's dominant reason points at, or undefined when the reason names no stage. */
export function culpritFromLog(family: string, reason: LogReason, count: number): (Culprit & { stage: WalkStage }) | undefined {
  if (reason.stage === 'interrupt-entry') {
    return {
      stage: 'device-entry',
      party: 'interrupt remapping setup: host IOMMU driver or firmware (DMAR/IVRS IOAPIC/HPET scope), or the device\'s MSI programming',
      confidence: 'low',
      why: `${count} interrupt-remapping fault${count === 1 ? '' : 's'} (${reason.name ?? '?'}: ${reason.text ?? ''}); interrupt remapping is not a page walk, so a snapshot walk does not apply`,
    };
  }
  const stage = stageOfReason(reason);
  if (!stage) return undefined;
  const model = MODEL[family] ?? 'arm-lpae';
  const c = suspectCulprit({ result: 'fault', steps: [], fault: { stage, reason: { name: reason.name ?? '?', text: reason.text ?? '' } } }, { model, faulted: true });
  return {
    stage,
    party: c.party,
    confidence: LOWER[c.confidence],
    why: `${count} record${count === 1 ? '' : 's'} with reason ${reason.name ?? '?'}${reason.text ? ` (${reason.text})` : ''}: the ${stage} stage failed. Log evidence only: attach a snapshot to see which entry was wrong.`,
  };
}
