/**
 * Turning a fault record (or what the user typed) into a WalkRequest. Pure, unit-tested.
 */
import type { FaultRecord } from '../core/logs/record';
import type { Access, WalkRequest } from '../core/walk/types';
import { parseHex, normalizeBdf } from '../core/logs/normalize';
import type { WalkRequestView } from '../core/protocol';

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  // Plain digits are decimal (what people type); 0x… and anything with hex letters is hex.
  const v = /^\d{1,15}$/.test(t) ? BigInt(t) : parseHex(t);
  return v !== undefined && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
}

function firstAccess(a: string | undefined): Access | undefined {
  const first = a?.split('+')[0];
  return first === 'read' || first === 'write' || first === 'exec' ? first : undefined;
}

/** undefined when the record has no faulting address to walk */
export function requestFromRecord(r: FaultRecord): WalkRequest | undefined {
  const iova = parseHex(r.iova);
  if (iova === undefined) return undefined;
  const req: WalkRequest = { iova };
  const sid = num(r.streamId);
  if (sid !== undefined) req.streamId = sid;
  if (r.device && normalizeBdf(r.device)) req.device = normalizeBdf(r.device)!;
  const pasid = num(r.pasid ?? r.substreamId);
  if (pasid !== undefined) req.pasid = pasid;
  if (r.contextBank !== undefined) req.contextBank = r.contextBank;
  const acc = firstAccess(r.access);
  if (acc) req.access = acc;
  return req;
}

/**
 * Parse what a user types in "Walk Address…": `ADDR [stream=N|sid=N] [device=BDF] [pasid=N]
 * [cb=N] [access=read|write|exec]`, the same words as the CLI's batch file.
 */
export function parseWalkInput(text: string): { request?: WalkRequest; error?: string } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return { error: 'type an address, e.g. 0x8424cb148 stream=0x10' };
  const iova = parseHex(words[0]!) ?? (/^\d{1,20}$/.test(words[0]!) ? BigInt(words[0]!) : undefined);
  if (iova === undefined) return { error: `not an address: ${words[0]}` };
  const req: WalkRequest = { iova };
  for (const w of words.slice(1)) {
    const eq = w.indexOf('=');
    if (eq <= 0) return { error: `expected name=value, got ${w}` };
    const k = w.slice(0, eq).toLowerCase();
    const v = w.slice(eq + 1);
    switch (k) {
      case 'stream': case 'sid': case 'streamid': {
        const n = num(v); if (n === undefined) return { error: `bad stream ${v}` }; req.streamId = n; break;
      }
      case 'device': case 'bdf': {
        const b = normalizeBdf(v); if (!b) return { error: `bad PCI device ${v} (expected DDDD:BB:DD.F or BB:DD.F)` }; req.device = b; break;
      }
      case 'pasid': case 'ssid': case 'substream': {
        const n = num(v); if (n === undefined) return { error: `bad PASID ${v}` }; req.pasid = n; break;
      }
      case 'cb': case 'context-bank': case 'contextbank': {
        const n = num(v); if (n === undefined) return { error: `bad context bank ${v}` }; req.contextBank = n; break;
      }
      case 'access': {
        const a = firstAccess(v); if (!a) return { error: `access must be read, write or exec, got ${v}` }; req.access = a; break;
      }
      default: return { error: `unknown word ${k} (stream, device, pasid, cb, access)` };
    }
  }
  return { request: req };
}

export function requestView(req: WalkRequest): WalkRequestView {
  const v: WalkRequestView = { iova: '0x' + req.iova.toString(16) };
  if (req.streamId !== undefined) v.streamId = '0x' + req.streamId.toString(16);
  if (req.device !== undefined) v.device = req.device;
  if (req.pasid !== undefined) v.pasid = '0x' + req.pasid.toString(16);
  if (req.contextBank !== undefined) v.contextBank = req.contextBank;
  if (req.access !== undefined) v.access = req.access;
  return v;
}

/** Snapshot models that can hold the tables behind a family's faults. */
const MODELS_OF_FAMILY: Record<string, readonly string[]> = {
  'arm-smmu': ['arm-smmu-v2', 'arm-lpae', 'arm-v7s'],
  'arm-smmu-v3': ['arm-smmu-v3', 'arm-lpae'],
  'intel-vtd': ['intel-vtd'],
  'amd-vi': ['amd-vi'],
};

export function snapshotFits(family: string, model: string): boolean {
  // SoC IOMMUs without a model of their own (Rockchip, MediaTek, DART, ...) walk bare Arm tables.
  return (MODELS_OF_FAMILY[family] ?? ['arm-lpae', 'arm-v7s']).includes(model);
}
