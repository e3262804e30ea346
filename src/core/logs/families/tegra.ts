/**
 * NVIDIA Tegra SMMU and GART faults. tegra-smmu itself prints nothing on a fault: the memory
 * controller does (drivers/memory/tegra/mc.c tegra30_mc_handle_irq, tegra20.c), one line per
 * error, dev_err_ratelimited:
 *
 *   tegra-mc 70019000.memory-controller: display0a: read @0xfe000000: EMEM address decode error (SMMU translation error [--S])
 *   format "%s: %s%s @%pa: %s (%s%s)": client, "secure "?, read|write, address, status name,
 *   error-type name, and for SMMU translation errors the page's permissions " [RWS]"
 *   (R readable, W writable, S secure; '-' when not).
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { byPatterns, wrappedContinuation } from './wrapped';

const FAMILY = 'tegra';
// Tegra264 (NVIDIA's tegra-mc-err) prints "non-secure " where older SoCs print nothing.
// A print quoted inline in markdown ("`tegra-mc ...: ... (EMEM decode error)` (text)") ends at
// its closing backtick.
const RE = /(?:^|[\s\]>|`])([\w.-]{1,64}) ([\w.:@-]{1,96}): ([\w.-]{1,48}): ((?:non-)?secure )?(read|write) @(0x[0-9a-fA-F]{1,16}): ([A-Za-z][\w .-]{1,60}?) \(([A-Za-z][\w .-]{0,60}?)(?: \[([R-])([W-])([S-])\])?\)\s*(?:`.{0,200})?$/;

// The same print wrapped after the address (or inside the status) by a mail client, or cut
// right after the address (a forum title that quotes the line).
const RE_HEAD = /(?:^|[\s\]>|`])([\w.-]{1,64}) ([\w.:@-]{1,96}): ([\w.-]{1,48}): ((?:non-)?secure )?(read|write) @(0x[0-9a-fA-F]{1,16})(?::(?: [A-Za-z][\w .-]{0,60})?)?\s*$/;
// Tegra186+ memory controllers (and NVIDIA's L4T kernels) may print only the MC_INTSTATUS name.
const RE_STATUS_ONLY = /(?:^|[\s\]>|])(tegra[\w-]{0,16}mc) ([\w.:@-]{1,96}): (EMEM address decode error|GART page fault|Page fault|Security violation|VPR violation|Secure carveout violation|MTS carveout violation|Generalized carveout violation|Route Sanity error|GIC_MSI error|Invalid address|External interrupt)\s*$/;

// Tegra264 hub errors: "%s: @%pa: %s status:%#x" (client, address, tegra_hub_status_names, raw status).
const RE_HUB = /(?:^|[\s\]>|])([\w.-]{1,64}) ([\w.:@-]{1,96}): ([\w.-]{1,48}): @(0x[0-9a-fA-F]{1,16}): (coalescer error|SMMU BYPASS ALLOW error|Illegal tbugrp_id error|Malformed MSI request error|Read response with poison bit error|Restricted access violation error|Reserved PA error) status:(0x[0-9a-fA-F]{1,8}|\d{1,10})\s*$/;
const HUB: Readonly<Record<string, [string, string]>> = {
  'coalescer error': ['HUB_COALESCER', 'request coalescer error in the memory hub'],
  'SMMU BYPASS ALLOW error': ['HUB_SMMU_BYPASS', 'a client bypassed the SMMU where bypass is not allowed'],
  'Illegal tbugrp_id error': ['HUB_ILLEGAL_TBUGRP', 'request carried an illegal TBU group id'],
  'Malformed MSI request error': ['HUB_MALFORMED_MSI', 'malformed MSI request'],
  'Read response with poison bit error': ['HUB_READ_POISON', 'the read returned poisoned data (uncorrected memory error or an aborted access upstream)'],
  'Restricted access violation error': ['HUB_RESTRICTED_ACCESS', 'access to a restricted region'],
  'Reserved PA error': ['HUB_RESERVED_PA', 'access to a reserved physical address'],
};

/** MC_INTSTATUS bit names (tegra_mc_status_names) and their architectural short names. */
const STATUS: Readonly<Record<string, string>> = {
  'EMEM address decode error': 'DECERR_EMEM',
  'GART page fault': 'GART_PAGE_FAULT',
  'Page fault': 'INVALID_SMMU_PAGE',
  'Security violation': 'SECERR',
  'VPR violation': 'DECERR_VPR',
  'Secure carveout violation': 'SECERR_SEC',
  'MTS carveout violation': 'DECERR_MTS',
  'Generalized carveout violation': 'DECERR_GENERALIZED_CARVEOUT',
  'Route Sanity error': 'DECERR_ROUTE_SANITY',
};

/** MC_ERR_STATUS type names (tegra_mc_error_names) and their architectural short names. */
const TYPES: Readonly<Record<string, string>> = {
  'EMEM decode error': 'DECERR_EMEM',
  'TrustZone violation': 'SECURITY_TRUSTZONE',
  'Carveout violation': 'SECURITY_CARVEOUT',
  'SMMU translation error': 'INVALID_SMMU_PAGE',
};

function fill(rec: FaultRecord, m: RegExpExecArray): void {
  const status = m[7]!;
  const type = m[8]!;
  const smmu = /SMMU/.test(type) || /Page fault|GART page fault/.test(status);
  Object.assign(rec, { kind: smmu ? 'page-fault' : 'mc-error', iommu: m[2]!, device: m[3]!, iova: hex(m[6]!), access: m[5]! });
  const d: Record<string, unknown> = { client: m[3]!, secure: m[4] === 'secure ', status, type };
  let why = '';
  if (m[9] !== undefined) {
    const perms = { readable: m[9] === 'R', writable: m[10] === 'W', secure: m[11] === 'S' };
    d.pagePermissions = perms;
    if (!perms.readable && !perms.writable) why = '; the SMMU page has neither read nor write permission: the address is not mapped for this client';
    else if (m[5] === 'write' && !perms.writable) why = '; the page is mapped read-only';
    else if (m[5] === 'read' && !perms.readable) why = '; the page is mapped without read permission';
  }
  rec.decoded = d;
  rec.reason = { name: TYPES[type] ?? type.toUpperCase().replace(/[ .-]+/g, '_'), text: `${status} (${type}): ${m[3]} ${m[5]} at ${rec.iova}${why}` };
}

/** Only the memory controller prints these shapes; do not take other drivers' "x: read @0x..". */
function isMc(driver: string, device: string): boolean {
  return /tegra|mc/.test(driver) || /memory-controller|\.mc$/.test(device);
}

export const tegraRecognizer: Recognizer = {
  family: FAMILY,
  keys: [' @0x', 'tegra-mc ', ': @0x'],
  recognize(line) {
    const msg = line.message;
    let m = RE.exec(msg);
    if (m) {
      if (!isMc(m[1]!, m[2]!)) return undefined;
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'mc-error' };
      fill(rec, m);
      return { record: rec };
    }
    if ((m = RE_HEAD.exec(msg))) {
      if (!isMc(m[1]!, m[2]!)) return undefined;
      const rec: FaultRecord = {
        line: line.line, family: FAMILY, kind: 'mc-error', iommu: m[2]!, device: m[3]!, iova: hex(m[6]!), access: m[5]!,
        reason: { name: 'MC_ERROR', text: 'memory controller error; the rest of the print was cut off' },
      };
      const more = wrappedContinuation(m[0], byPatterns(RE, RE_HEAD, (f) => fill(rec, f), 2));
      return { record: rec, more };
    }
    if ((m = RE_HUB.exec(msg))) {
      if (!isMc(m[1]!, m[2]!)) return undefined;
      const [name, text] = HUB[m[5]!]!;
      return {
        record: {
          line: line.line, family: FAMILY, kind: 'mc-error', iommu: m[2]!, device: m[3]!, iova: hex(m[4]!),
          registers: { hub_status: hex(/^0x/i.test(m[6]!) ? m[6]! : Number(m[6]))! },
          decoded: { client: m[3]!, status: m[5]! },
          reason: { name, text: `${m[5]}: ${text}; client ${m[3]} at ${hex(m[4]!)}` },
        },
      };
    }
    if ((m = RE_STATUS_ONLY.exec(msg))) {
      const status = m[3]!;
      return {
        record: {
          line: line.line, family: FAMILY, kind: /Page fault|GART/.test(status) ? 'page-fault' : 'mc-error', iommu: m[2]!,
          decoded: { status },
          reason: { name: STATUS[status] ?? status.toUpperCase().replace(/[ .-]+/g, '_'), text: `${status}: this print names no client or address (look for the SMMU fault printed next to it)` },
        },
      };
    }
    return undefined;
  },
};
