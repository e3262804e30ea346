/**
 * RISC-V IOMMU (drivers/iommu/riscv/iommu.c, 6.13+), dev_warn_ratelimited on the IOMMU device:
 *
 *   riscv,iommu 3010000.iommu: Fault 13 devid: 0x8 iotval: 7f001000 iotval2: 0
 *   riscv,iommu 3010000.iommu: Queue #0 error; fault:0 timeout:1 illegal:0 fence_w_ip:0
 *
 * "Fault %d devid: 0x%x iotval: %llx iotval2: %llx": the fault-queue record's CAUSE (decimal),
 * DID (the device ID, a PCI requester ID for PCIe devices), IOTVAL (the faulting IOVA for the
 * access and page faults) and IOTVAL2 (guest-physical address bits for guest-page faults).
 * The platform driver's name holds a comma ("riscv,iommu").
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';

const FAMILY = 'riscv-iommu';
const RE_FAULT = /(?:^|[\s\]>|`])(?:([\w.,-]{1,64}) ([\w.:@/-]{1,96}): )?Fault (\d{1,4}) devid: 0x([0-9a-fA-F]{1,6}) iotval: ([0-9a-fA-F]{1,16}) iotval2: ([0-9a-fA-F]{1,16})\s*$/;
const RE_QUEUE = /(?:^|[\s\]>|`])(?:([\w.,-]{1,64}) ([\w.:@/-]{1,96}): )?Queue #(\d{1,2}) error; fault:([01]) timeout:([01]) illegal:([01]) fence_w_ip:([01])\s*$/;

/** Fault-queue CAUSE values (RISC-V IOMMU spec table 11, Linux enum riscv_iommu_fq_causes). */
const CAUSES: Readonly<Record<number, [string, string, 'read' | 'write' | 'exec' | undefined]>> = {
  1: ['INST_FAULT', 'instruction access fault', 'exec'],
  4: ['RD_ADDR_MISALIGNED', 'read address misaligned', 'read'],
  5: ['RD_FAULT', 'read access fault', 'read'],
  6: ['WR_ADDR_MISALIGNED', 'write/AMO address misaligned', 'write'],
  7: ['WR_FAULT', 'write/AMO access fault', 'write'],
  12: ['INST_FAULT_S', 'instruction page fault (first stage)', 'exec'],
  13: ['RD_FAULT_S', 'read page fault (first stage): the IOVA is not mapped for reading', 'read'],
  15: ['WR_FAULT_S', 'write/AMO page fault (first stage): the IOVA is not mapped for writing', 'write'],
  20: ['INST_FAULT_VS', 'instruction guest-page fault (second stage)', 'exec'],
  21: ['RD_FAULT_VS', 'read guest-page fault (second stage): the guest-physical address is not mapped', 'read'],
  23: ['WR_FAULT_VS', 'write/AMO guest-page fault (second stage): the guest-physical address is not mapped for writing', 'write'],
  256: ['DMA_DISABLED', 'all inbound transactions disallowed (DDTP mode Off)', undefined],
  257: ['DDT_LOAD_FAULT', 'device-directory entry load access fault: the DDT pointer or a DDT page points to no memory', undefined],
  258: ['DDT_INVALID', 'device-directory entry not valid: the device ID has no device context', undefined],
  259: ['DDT_MISCONFIGURED', 'device context misconfigured', undefined],
  260: ['TTYP_BLOCKED', 'transaction type disallowed for this device', undefined],
  261: ['MSI_LOAD_FAULT', 'MSI page-table entry load access fault', undefined],
  262: ['MSI_INVALID', 'MSI page-table entry not valid', undefined],
  263: ['MSI_MISCONFIGURED', 'MSI page-table entry misconfigured', undefined],
  264: ['MRIF_FAULT', 'MRIF access fault', undefined],
  265: ['PDT_LOAD_FAULT', 'process-directory entry load access fault', undefined],
  266: ['PDT_INVALID', 'process-directory entry not valid: the PASID has no process context', undefined],
  267: ['PDT_MISCONFIGURED', 'process context misconfigured', undefined],
  268: ['DDT_CORRUPTED', 'device-directory data corruption', undefined],
  269: ['PDT_CORRUPTED', 'process-directory data corruption', undefined],
  270: ['MSI_PT_CORRUPTED', 'MSI page-table data corruption', undefined],
  271: ['MRIF_CORRUPTED', 'MRIF data corruption', undefined],
  272: ['INTERNAL_DP_ERROR', 'internal data path error', undefined],
  273: ['MSI_WR_FAULT', 'the IOMMU\'s own MSI write faulted', undefined],
  274: ['PT_CORRUPTED', 'first/second-stage page-table data corruption', undefined],
};

/** The causes whose IOTVAL is the faulting IOVA. */
const IOVA_CAUSES = new Set([1, 4, 5, 6, 7, 12, 13, 15, 20, 21, 23]);

export const riscvIommuRecognizer: Recognizer = {
  family: FAMILY,
  keys: [' iotval2: ', ' fence_w_ip:'],
  recognize(line) {
    const msg = line.message;
    let m = RE_FAULT.exec(msg);
    if (m) {
      const cause = Number(m[3]);
      const c = CAUSES[cause];
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: cause >= 256 ? 'event' : 'page-fault' };
      if (m[2] !== undefined) rec.iommu = m[2];
      rec.streamId = hex('0x' + m[4])!;
      if (IOVA_CAUSES.has(cause)) rec.iova = hex('0x' + m[5])!;
      if (c?.[2]) rec.access = c[2];
      rec.registers = { iotval: hex('0x' + m[5])!, iotval2: hex('0x' + m[6])! };
      rec.decoded = { cause, devid: Number('0x' + m[4]) };
      rec.reason = c
        ? { code: cause, name: c[0], text: c[1] }
        : { code: cause, name: 'UNKNOWN', text: cause >= 2048 ? 'implementation-defined cause' : 'reserved cause value' };
      return { record: rec };
    }
    m = RE_QUEUE.exec(msg);
    if (m) {
      const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'queue-error' };
      if (m[2] !== undefined) rec.iommu = m[2];
      const flags = { memoryFault: m[4] === '1', timeout: m[5] === '1', illegal: m[6] === '1', fenceWaitInProgress: m[7] === '1' };
      rec.decoded = { queue: Number(m[3]), ...flags };
      const what = [flags.memoryFault && 'queue memory access fault', flags.timeout && 'command timeout', flags.illegal && 'illegal command'].filter(Boolean);
      rec.reason = { name: 'QUEUE_ERROR', text: what.length ? `command queue error: ${what.join(', ')}` : 'command queue error' };
      return { record: rec };
    }
    return undefined;
  },
};
