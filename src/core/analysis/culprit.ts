/**
 * Suspected culprit from a walk result: the stage that failed points at a party (DESIGN.md
 * "Suspected culprit: the walk stage decides"). Always with the evidence (the failing step and
 * the rule applied) and a confidence, never a bare verdict.
 */
import type { Culprit, WalkResult, WalkStep } from '../walk/types';
import type { IommuModel } from '../snapshot/types';

export interface CulpritContext {
  model: IommuModel;
  /** the address is known to have faulted (it comes from a fault record, or the user says so) */
  faulted?: boolean;
  /** the snapshot configures nested translation (e.g. arm-lpae with both stage-1 and stage-2 registers) */
  nested?: boolean;
}

const DEVICE_TABLE_OWNER: Record<IommuModel, string> = {
  'arm-smmu-v3': 'host IOMMU driver (arm-smmu-v3 stream table) or firmware description (IORT / DT iommu-map: wrong StreamID)',
  'arm-smmu-v2': 'host IOMMU driver (arm-smmu SMR/S2CR programming) or firmware description (DT iommus / IORT: wrong StreamID)',
  'intel-vtd': 'host IOMMU driver (intel-iommu root/context tables) or firmware description (DMAR device scope)',
  'amd-vi': 'host IOMMU driver (amd-iommu device table) or firmware description (IVRS: DeviceID / alias)',
  'arm-lpae': 'host IOMMU driver (translation regime configuration)',
  'arm-v7s': 'host IOMMU driver (translation regime configuration)',
};

function failingStep(steps: WalkStep[]): WalkStep | undefined {
  for (let i = steps.length - 1; i >= 0; i--) if (!steps[i]!.ok) return steps[i];
  return steps[steps.length - 1];
}

function evidence(step: WalkStep | undefined): string {
  if (!step) return 'no structure was read';
  const parts = [step.structure];
  if (step.level !== undefined) parts.push(`level ${step.level}`);
  if (step.address) parts.push(`at ${step.address}`);
  // 512-bit STE/CD values: the low end holds the fields that matter, the rest would drown the sentence
  if (step.value !== undefined) parts.push(`= ${step.value.length > 34 ? '…' + step.value.slice(-32) : step.value}`);
  const s = parts.join(' ');
  return step.rule ? `${s} (${step.rule})` : s;
}

/** A decoded field anywhere in the steps, under any of the spellings walkers use. */
function decodedField(steps: WalkStep[], names: readonly string[]): unknown {
  for (const s of steps) {
    const d = s.decoded;
    if (!d) continue;
    for (const n of names) if (d[n] !== undefined) return d[n];
  }
  return undefined;
}

/** Did the walk go through guest-owned structures (nested translation)? */
export function walkIsNested(result: WalkResult, ctx: CulpritContext): boolean {
  if (ctx.nested) return true;
  const stages = new Set(result.steps.map((s) => s.stage).filter((s): s is string => typeof s === 'string'));
  if ([...stages].some((s) => /1/.test(s)) && [...stages].some((s) => /2/.test(s))) return true;
  const config = decodedField(result.steps, ['config', 'Config', 'CONFIG']);
  if (config === 7 || config === '0b111' || (typeof config === 'string' && /nested|s1\s*\+\s*s2/i.test(config))) return true;
  const pgtt = decodedField(result.steps, ['pgtt', 'PGTT']);
  if (pgtt === 3 || (typeof pgtt === 'string' && /nested/i.test(pgtt))) return true;
  return false;
}

const NOT_IN_SNAPSHOT = /not in (the )?snapshot|outside (the )?snapshot|not captured/i;

function notInSnapshot(result: WalkResult, step: WalkStep | undefined): boolean {
  const r = result.fault?.reason;
  if (!r) return false;
  if (NOT_IN_SNAPSHOT.test(`${r.name} ${r.text}`)) return true;
  return step !== undefined && !step.ok && (step.decoded?.inSnapshot === false || NOT_IN_SNAPSHOT.test(step.rule ?? ''));
}

export function suspectCulprit(result: WalkResult, ctx: CulpritContext): Culprit {
  if (result.result === 'translated') {
    return {
      party: 'none in the tables: stale IOTLB (missing invalidation), a map that raced with the DMA, or a snapshot taken after the mapping changed',
      confidence: ctx.faulted ? 'medium' : 'low',
      why:
        `the snapshot's tables translate this address (to ${result.pa ?? '?'}${result.pageSize ? `, ${result.pageSize}-byte page` : ''}), so a fault on it ` +
        (ctx.faulted ? 'was not caused by the tables as dumped' : 'would not come from the tables as dumped') +
        '; check for a missing TLB invalidation after map/unmap, DMA started before the map completed, or a dump taken later than the fault',
    };
  }
  // the evidence sentence is only needed for faults: a translated walk (a storm of them) skips building it
  const step = failingStep(result.steps);
  const ev = evidence(step);
  const fault = result.fault;
  const reason = fault ? `${fault.reason.name}: ${fault.reason.text}` : 'unknown fault';
  const firstStageFailed = step?.stage !== undefined && /1/.test(step.stage) && !/2/.test(step.stage);
  const secondStageFailed = step?.stage !== undefined && /2/.test(step.stage);
  if (notInSnapshot(result, step)) {
    return {
      party: 'undetermined: a table the walk needs is not in the snapshot (a pointer outside the dumped RAM, or an incomplete dump)',
      confidence: 'low',
      why: `${reason}; failing step: ${ev}. A real IOMMU would take an external abort here: a corrupt or stale pointer written by the table's owner, unless the dump simply left that memory out`,
    };
  }
  switch (fault?.stage) {
    case 'device-entry':
      return {
        party: DEVICE_TABLE_OWNER[ctx.model],
        confidence: 'medium',
        why: `the device entry failed (${reason}); failing step: ${ev}. The host driver did not set up this device (or not yet / no longer), or firmware told it a different ID than the device uses`,
      };
    case 'pasid-entry':
      return walkIsNested(result, ctx)
        ? {
            party: 'guest IOMMU driver (the PASID / context-descriptor table is guest-owned in nested translation)',
            confidence: 'medium',
            why: `the PASID/CD stage failed (${reason}); failing step: ${ev}; the structure belongs to the guest in a nested setup`,
          }
        : {
            party: 'host IOMMU driver, or host userspace (VMM) that bound the PASID / CD table',
            confidence: 'low',
            why: `the PASID/CD stage failed (${reason}); failing step: ${ev}. Also check that the device used the PASID/SSID its driver was given`,
          };
    case 'table-root':
      return {
        party: firstStageFailed && walkIsNested(result, ctx) ? 'guest IOMMU driver (owner of the stage-1 page table in nested translation)' : 'the IOMMU driver that owns this page table (host, or guest when nested)',
        confidence: 'medium',
        why: `the page-table root is unusable (${reason}); failing step: ${ev}`,
      };
    case 'table-entry':
      if (secondStageFailed && walkIsNested(result, ctx)) {
        return {
          party: 'host / VMM: the stage-2 mapping of guest memory is missing (or the guest used an address outside its memory)',
          confidence: 'medium',
          why: `the stage-2 walk failed (${reason}); failing step: ${ev}`,
        };
      }
      return {
        party: 'device driver: DMA to an address never mapped, already unmapped, or outside the buffer (less often a vIOMMU driver that did not populate the tables)',
        confidence: ctx.faulted ? 'high' : 'medium',
        why: `the translation stops at a page-table entry (${reason}); failing step: ${ev}`,
      };
    case 'permission':
      return {
        party: 'device driver: the mapping exists but with the wrong direction or rights (e.g. device write to a DMA_TO_DEVICE buffer)',
        confidence: ctx.faulted ? 'high' : 'medium',
        why: `the leaf entry forbids this access (${reason}); failing step: ${ev}`,
      };
    case 'configuration':
    default:
      return {
        party: 'host IOMMU driver (register or translation-control programming), or a snapshot whose registers were captured inconsistently',
        confidence: 'low',
        why: `the configuration does not allow a walk (${reason}); failing step: ${ev}`,
      };
  }
}
