/**
 * Writes examples/mixed-faults.iommu.json (+ its table memory) — the VT-d snapshot that goes with
 * examples/mixed-faults.log: what Linux's intel-iommu had programmed for dmar0 when the faults
 * were logged. Re-run with `npm run example:snapshot` after changing the scenario below.
 *
 *   0000:00:02.0 (i915)  buffers mapped at 0x7f300000..0x7f3a0fff; 0x7f3a1000.. were unmapped
 *                        before the GPU stopped reading them -> the log's reason 0x06 faults
 *   0000:00:1f.2 (AHCI)  no context entry: the device was never attached -> reason 0x02
 *   0000:01:00.0 (NVMe), 0000:00:19.0 (e1000e)  ordinary DMA mappings
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SparseMemory } from '../test/builder/sparse-memory';
import { buildSecondStage, buildVtdLegacy, type X86Mapping } from '../test/builder/x86-tables';
import { manifestJson, rawRuns } from '../test/builder/snapshot-writer';

const out = resolve(__dirname, '..', 'examples');
const mem = new SparseMemory(0x2600000n);
const page = (iova: bigint, pa: bigint, write = true): X86Mapping => ({ iova, pa, size: 4096n, read: true, write });
const range = (iova: bigint, pa: bigint, pages: number, write = true) =>
  Array.from({ length: pages }, (_, i) => page(iova + BigInt(i) * 4096n, pa + BigInt(i) * 4096n, write));

const LEVELS = 3; // AW=1: 39-bit, as cap 0xd2008c22260206 (SAGAW=3-level) allows
const gpu = buildSecondStage(mem, LEVELS, [...range(0x7f300000n, 0x1a2000000n, 0xa1), { iova: 0x7f600000n, pa: 0x1b0000000n, size: 0x200000n, read: true, write: true }]);
const nvme = buildSecondStage(mem, LEVELS, [...range(0xfffff000n, 0x17ed4000n, 1), ...range(0xffffe000n, 0x17ed5000n, 1, false)]);
const nic = buildSecondStage(mem, LEVELS, range(0xffe00000n, 0x3c400000n, 16));
const rtaddr = buildVtdLegacy(mem, [
  { bus: 0, devfn: (0x02 << 3) | 0, aw: LEVELS - 2, slptptr: gpu, did: 1 },
  { bus: 0, devfn: (0x19 << 3) | 0, aw: LEVELS - 2, slptptr: nic, did: 3 },
  { bus: 1, devfn: 0, aw: LEVELS - 2, slptptr: nvme, did: 2 },
]);

const memory = rawRuns(mem).map((r, i) => {
  const file = `mixed-faults.tables${i ? '-' + i : ''}.bin`;
  writeFileSync(join(out, file), r.bytes);
  return { kind: 'raw' as const, file, base: '0x' + r.base.toString(16) };
});
const manifest = manifestJson({
  model: 'intel-vtd',
  name: 'dmar0',
  description: 'dmar0 of the x86 host in examples/mixed-faults.log: legacy root/context tables and 3-level second-level page tables as intel-iommu programmed them (tables only; built by scripts/make-example-snapshot.ts)',
  features: { levels: [3], scalableMode: false, pasidBits: 0, ias: 39, oas: 39 },
  registers: { rtaddr, cap: '0xd2008c22260206', ecap: '0xf00f4a', gsts: '0xc7000000', ver: '0x10' },
  memory: mem,
}, memory);
writeFileSync(join(out, 'mixed-faults.iommu.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote ${join(out, 'mixed-faults.iommu.json')} (${memory.length} memory file(s), rtaddr 0x${rtaddr.toString(16)})`);
