/**
 * The one entry point for walks: picks the walker for the snapshot's model, then attaches the
 * configuration findings that concern this walk and the suspected culprit. Walkers never see
 * each other; adding a model is one import and one table entry here.
 */
import type { IommuModel, Snapshot } from '../snapshot/types';
import type { SanityFinding, WalkRequest, WalkResult } from './types';
import { type CulpritContext, suspectCulprit } from '../analysis/culprit';
import { walkArmLpae } from './arm-lpae';
import { walkArmV7s } from './arm-v7s';
import { walkSmmuV2 } from './smmu-v2';
import { walkSmmuV3 } from './smmu-v3';
import { walkIntelVtd } from './intel-vtd';
import { walkAmdVi } from './amd-vi';

export type Walker = (snap: Snapshot, req: WalkRequest) => WalkResult;

export const WALKERS: Record<IommuModel, Walker> = {
  'arm-lpae': walkArmLpae,
  'arm-v7s': walkArmV7s,
  'arm-smmu-v2': walkSmmuV2,
  'arm-smmu-v3': walkSmmuV3,
  'intel-vtd': walkIntelVtd,
  'amd-vi': walkAmdVi,
};

export interface WalkOptions {
  /** the address is known to have faulted (from a fault record): sharpens the culprit */
  faulted?: boolean;
}

const BANK_WHERE = /^contextBanks\.(\d+)\./;

/** Findings of the snapshot that bear on this walk: SMMUv2 bank findings only for the bank used. */
function relevantFindings(snap: Snapshot, req: WalkRequest, result: WalkResult): SanityFinding[] {
  const all = snap.findings;
  let out: SanityFinding[];
  if (all.length === 0) {
    out = [];
  } else {
    // the steps are searched for the bank only when some finding is about a bank (SMMUv2)
    let banks: Set<number> | undefined;
    for (const f of all) {
      if (!f.where.startsWith('contextBanks.')) continue;
      banks = new Set<number>();
      if (req.contextBank !== undefined) banks.add(req.contextBank);
      for (const s of result.steps) {
        const cb = s.decoded && (s.decoded.cbndx ?? s.decoded.CBNDX ?? s.decoded.contextBank);
        if (typeof cb === 'number') banks.add(cb);
      }
      break;
    }
    out = all.filter((f) => {
      if (f.where === 'manifest') return false;
      const m = banks && BANK_WHERE.exec(f.where);
      return !m || banks!.has(Number(m[1]));
    });
  }
  // a PASID/SSID wider than the IOMMU implements cannot have come from this IOMMU's requests
  const bits = snap.model === 'arm-smmu-v3' || snap.model === 'arm-smmu-v2' ? snap.features.ssidBits : snap.features.pasidBits;
  if (req.pasid !== undefined && bits !== undefined && req.pasid >= 2 ** bits) {
    const name = snap.model.startsWith('arm-smmu') ? 'substream ID' : 'PASID';
    out.push({ severity: 'warning', where: 'request.pasid', message: `${name} 0x${req.pasid.toString(16)} needs more than the ${bits} bits this IOMMU implements (features.${snap.model.startsWith('arm-smmu') ? 'ssidBits' : 'pasidBits'})` });
  }
  return out;
}

function noWalker(snap: Snapshot): WalkResult {
  return {
    result: 'fault',
    steps: [],
    fault: { stage: 'configuration', reason: { name: 'NO_WALKER', text: `this build of iommu-lens has no page-table walker for the ${snap.model} model` } },
  };
}

export function walk(snap: Snapshot, req: WalkRequest, options: WalkOptions = {}): WalkResult {
  const walker = (WALKERS as Partial<Record<string, Walker>>)[snap.model];
  let result: WalkResult;
  if (!walker) {
    result = noWalker(snap);
  } else {
    try {
      result = walker(snap, req);
    } catch (e) {
      // a walker bug must not take the whole batch (or the extension) down; report it as such
      const msg = e instanceof Error ? e.message : String(e);
      result = { result: 'fault', steps: [], fault: { stage: 'configuration', reason: { name: 'WALKER_ERROR', text: `internal error in the ${snap.model} walker: ${msg}` } } };
    }
  }
  let extra = relevantFindings(snap, req, result);
  if (extra.length && result.findings?.length) {
    const seen = new Set(result.findings.map((f) => `${f.where}\n${f.message}`));
    extra = extra.filter((f) => !seen.has(`${f.where}\n${f.message}`));
  }
  if (extra.length) result.findings = [...(result.findings ?? []), ...extra];
  if (!result.culprit) {
    const r = snap.registers;
    const nested = (snap.model === 'arm-lpae' && r.tcr !== undefined && r.vtcr !== undefined);
    const ctx: CulpritContext = { model: snap.model, nested };
    if (options.faulted !== undefined) ctx.faulted = options.faulted;
    result.culprit = suspectCulprit(result, ctx);
  }
  return result;
}
