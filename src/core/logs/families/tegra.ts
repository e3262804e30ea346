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

const FAMILY = 'tegra';
const RE = /(?:^|\s)([\w.-]{1,64}) ([\w.:@-]{1,96}): ([\w.-]{1,48}): (secure )?(read|write) @(0x[0-9a-fA-F]{1,16}): ([A-Za-z][\w .-]{1,60}?) \(([A-Za-z][\w .-]{0,60}?)(?: \[([R-])([W-])([S-])\])?\)\s*$/;

/** MC_ERR_STATUS type names (tegra_mc_error_names) and their architectural short names. */
const TYPES: Readonly<Record<string, string>> = {
  'EMEM decode error': 'DECERR_EMEM',
  'TrustZone violation': 'SECURITY_TRUSTZONE',
  'Carveout violation': 'SECURITY_CARVEOUT',
  'SMMU translation error': 'INVALID_SMMU_PAGE',
};

export const tegraRecognizer: Recognizer = {
  family: FAMILY,
  keys: [' @0x'],
  recognize(line) {
    const m = RE.exec(line.message);
    if (!m) return undefined;
    // Only the memory controller prints this shape; do not take other drivers' "x: read @0x..".
    if (!/tegra|mc/.test(m[1]!) && !/memory-controller|\.mc$/.test(m[2]!)) return undefined;
    const status = m[7]!;
    const type = m[8]!;
    const smmu = /SMMU/.test(type) || /Page fault|GART page fault/.test(status);
    const rec: FaultRecord = {
      line: line.line, family: FAMILY, kind: smmu ? 'page-fault' : 'mc-error',
      iommu: m[2]!, device: m[3]!, iova: hex(m[6]!), access: m[5]!,
    };
    const d: Record<string, unknown> = { client: m[3]!, secure: m[4] !== undefined, status, type };
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
    return { record: rec };
  },
};
