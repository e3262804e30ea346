/**
 * Arm SMMUv1/v2 fault registers as data: the context bank's CB_FSR, CB_FSYNR0, CB_FSYNR1,
 * CB_FAR, CB_PAR, CB_SCTLR, the global CBFRSYNRA(n), and the secure/non-secure global fault
 * registers sGFSR and sGFSYNR0..2. Keys are the names the log records use.
 *
 * Bit positions: Linux arm-smmu.h (6.12); meanings where Linux is silent: the Cavium CN8xxx and
 * HiSilicon Hi3650 (MMU-500) generated register headers (see the shared fault-encodings reference §1).
 * The legacy Qualcomm msm_iommu (pre-SMMU, MSM8x60/APQ8064) FSR has different bits 4..7 and 16,
 * so it has a description of its own (key `msm_iommu_fsr`).
 */
import type { FieldDescription, RegisterDescription } from '../register';

const SRC_LINUX = 'Linux drivers/iommu/arm/arm-smmu/arm-smmu.h (6.12)';
const SRC_IMPL = 'Cavium cavm-csrs-smmu.h and HiSilicon Hi3650 MMU-500 register headers';

function bit(n: number, name: string, title: string, doc: string, whenClear?: string): FieldDescription {
  const f: FieldDescription = { name, bits: [n, n], title, doc };
  if (whenClear !== undefined) f.whenClear = whenClear;
  return f;
}

export const CB_FSR: RegisterDescription = {
  id: 'arm-smmu.fsr',
  family: 'arm-smmu',
  name: 'CB_FSR',
  key: 'fsr',
  width: 32,
  title: 'Context bank Fault Status Register',
  doc: 'Which kind of fault the context bank recorded. Exactly one fault bit is normally set; the translation table format tells how to read the page tables.',
  source: `${SRC_LINUX}; ${SRC_IMPL}`,
  fields: [
    bit(31, 'MULTI', 'Multiple faults', 'another fault happened while this one was still pending: only the first one is described by FAR/FSYNR0'),
    bit(30, 'SS', 'Stalled', 'the faulting transaction is stalled (held) in the SMMU waiting for the driver to retry or terminate it', 'the faulting transaction was terminated (not stalled)'),
    { name: 'RES_29_11', bits: [29, 11], title: 'Reserved', reserved: true },
    {
      name: 'FORMAT', bits: [10, 9], title: 'Translation table format', format: 'dec',
      doc: 'translation scheme of the context bank (reported by Linux 6.11+ as Format=N)',
      values: {
        0: { name: 'AArch32-S', text: 'AArch32 short-descriptor (v7s) tables' },
        1: { name: 'AArch32-L', text: 'AArch32 long-descriptor (LPAE) tables' },
        2: { name: 'AArch64', text: 'AArch64 (VMSAv8-64) tables' },
        3: { name: 'reserved', text: 'reserved encoding' },
      },
    },
    bit(8, 'UUT', 'Unsupported upstream transaction', 'the device issued a transaction type this SMMU does not support (e.g. an unsupported atomic or cache maintenance operation)'),
    bit(7, 'ASF', 'Address size fault', 'an input address was larger than the context bank allows, or a table/output address exceeded the configured output size (Qualcomm prints MHF for this bit)'),
    bit(6, 'TLBLKF', 'TLB lock fault', 'a TLB entry lock operation failed'),
    bit(5, 'TLBMCF', 'TLB match conflict fault', 'more than one TLB entry matched the address: overlapping mappings or a missing TLB invalidation'),
    bit(4, 'EF', 'External fault', 'the bus returned an error (external abort) for the access or for a page-table walk'),
    bit(3, 'PF', 'Permission fault', 'the address is mapped but the mapping does not allow this access (e.g. a write to a read-only page, or an instruction fetch from a no-exec page)'),
    bit(2, 'AFF', 'Access flag fault', 'the page table entry has its Access Flag clear and hardware does not set it'),
    bit(1, 'TF', 'Translation fault', 'no valid translation: the address is not mapped, or a page table entry on the way is invalid'),
    { name: 'RES_0', bits: [0, 0], title: 'Reserved', reserved: true },
  ],
};

export const CB_FSYNR0: RegisterDescription = {
  id: 'arm-smmu.fsynr0',
  family: 'arm-smmu',
  name: 'CB_FSYNR0',
  key: 'fsynr0',
  width: 32,
  title: 'Context bank Fault Syndrome Register 0',
  doc: 'How the faulting transaction accessed memory (read/write, instruction/data, privilege) and where the walk failed. Linux prints it as fsynr=.',
  source: `${SRC_LINUX}; ${SRC_IMPL}`,
  fields: [
    { name: 'RES_31_24', bits: [31, 24], title: 'Reserved', reserved: true },
    { name: 'S1CBNDX', bits: [23, 16], title: 'Stage 1 context bank index', format: 'dec', doc: 'for a nested (stage 1 + stage 2) fault reported in a stage 2 bank: the stage 1 context bank involved; UNKNOWN otherwise' },
    { name: 'RES_15_12', bits: [15, 12], title: 'Reserved', reserved: true },
    bit(11, 'AFR', 'Asynchronous fault recorded', 'the fault was recorded asynchronously (e.g. a write whose error came back after the transaction completed)', 'synchronous fault'),
    bit(10, 'PTWF', 'Page table walk fault', 'the fault happened while the SMMU was reading a translation table, not on the final access itself'),
    bit(9, 'ATOF', 'Address translation operation fault', 'the fault came from a software address translation operation (ATOS), not from a device transaction'),
    bit(8, 'NSATTR', 'Non-secure attribute', 'the transaction was non-secure', 'the transaction was secure'),
    bit(7, 'NSSTATE', 'Non-secure state', 'the client was in the non-secure state'),
    bit(6, 'IND', 'Instruction access', 'the faulting access was an instruction fetch', 'the faulting access was a data access'),
    bit(5, 'PNU', 'Privileged access', 'the faulting access was privileged', 'the faulting access was unprivileged'),
    bit(4, 'WNR', 'Write', 'the faulting access was a write', 'the faulting access was a read'),
    { name: 'IMPDEF_3_2', bits: [3, 2], title: 'Implementation defined', doc: 'implementation defined (Cavium: bit 3 = stage 2 fault during a stage 1 walk, bit 2 = nested); reserved on MMU-500' },
    {
      name: 'PLVL', bits: [1, 0], title: 'Fault level', format: 'dec',
      doc: 'translation table level where the fault happened',
      values: {
        0: { name: 'L0', text: 'translation table level 0 (reserved in some implementations)' },
        1: { name: 'L1', text: 'translation table level 1' },
        2: { name: 'L2', text: 'translation table level 2' },
        3: { name: 'L3', text: 'translation table level 3 (the last level for 4K pages)' },
      },
    },
  ],
};

export const CB_FSYNR1: RegisterDescription = {
  id: 'arm-smmu.fsynr1',
  family: 'arm-smmu',
  name: 'CB_FSYNR1',
  key: 'fsynr1',
  width: 32,
  title: 'Context bank Fault Syndrome Register 1 (implementation defined)',
  doc: 'IMPLEMENTATION DEFINED: the architecture leaves its contents to the SMMU vendor. The fields below are the Qualcomm layout (client bus, process and master IDs); on other SMMUs read the vendor manual. Adreno GPUs use bits 7:0 to name the GPU block that faulted.',
  source: 'Qualcomm downstream msm-5.15 arm-smmu.h (ARM_SMMU_FSYNR1_BID/PID/MID)',
  fields: [
    { name: 'IMPDEF_31_16', bits: [31, 16], title: 'Implementation defined', doc: 'implementation defined' },
    { name: 'BID', bits: [15, 13], title: 'Bus ID (Qualcomm)', doc: 'Qualcomm: bus ID of the faulting client' },
    { name: 'PID', bits: [12, 8], title: 'Process ID (Qualcomm)', doc: 'Qualcomm: process ID of the faulting client' },
    { name: 'MID', bits: [7, 0], title: 'Master ID (Qualcomm)', doc: 'Qualcomm: master ID of the faulting client (Adreno: the GPU block)' },
  ],
};

export const CBFRSYNRA: RegisterDescription = {
  id: 'arm-smmu.cbfrsynra',
  family: 'arm-smmu',
  name: 'CBFRSYNRA',
  key: 'cbfrsynra',
  width: 32,
  title: 'Context Bank Fault Restricted Syndrome Register A',
  doc: 'Identifies the device (Stream ID) whose transaction faulted. Linux prints the whole register, also as SID= in the 6.11+ print.',
  source: `${SRC_LINUX} (ARM_SMMU_CBFRSYNRA_SID); Cavium cavm_smmux_cbfrsynrax`,
  fields: [
    { name: 'SSD', bits: [31, 16], title: 'Security state determination index', doc: 'secure software only: the SSD index of the transaction (reads as zero for the non-secure driver)' },
    { name: 'SID', bits: [15, 0], title: 'Stream ID', doc: 'Stream ID of the faulting transaction: which device (or device function) issued it' },
  ],
};

export const CB_FAR: RegisterDescription = {
  id: 'arm-smmu.far',
  family: 'arm-smmu',
  name: 'CB_FAR',
  key: 'far',
  width: 64,
  title: 'Context bank Fault Address Register',
  doc: 'The input (I/O virtual) address of the faulting transaction; Linux prints it as iova=.',
  source: SRC_LINUX,
  fields: [{ name: 'FADDR', bits: [63, 0], title: 'Faulting address', doc: 'input address the device tried to access' }],
};

export const CB_PAR: RegisterDescription = {
  id: 'arm-smmu.par',
  family: 'arm-smmu',
  name: 'CB_PAR',
  key: 'par',
  width: 64,
  title: 'Context bank Physical Address Register (result of a software translation, ATOS)',
  doc: 'Result of the last address translation operation the driver ran (Qualcomm prints it after a fault). PA is only meaningful when F is clear.',
  source: `${SRC_LINUX} (ARM_SMMU_CB_PAR_F); Qualcomm arm-smmu-qcom-debug.c (PA bits 47:12)`,
  fields: [
    { name: 'ATTR', bits: [63, 56], title: 'Memory attributes', doc: 'memory attributes of the translation (when F is clear)' },
    { name: 'PA', bits: [47, 12], title: 'Physical address', addressShift: 12, doc: 'output address of the translation when F is clear' },
    bit(0, 'F', 'Translation failed', 'the software translation failed (the bits above then describe the fault, not an address)', 'the software translation succeeded'),
  ],
};

export const CB_SCTLR: RegisterDescription = {
  id: 'arm-smmu.sctlr',
  family: 'arm-smmu',
  name: 'CB_SCTLR',
  key: 'sctlr',
  width: 32,
  title: 'Context bank System Control Register',
  doc: 'How the context bank behaves on a fault: report it (interrupt), stall or terminate the transaction.',
  source: `${SRC_LINUX} (ARM_SMMU_SCTLR_*)`,
  fields: [
    bit(8, 'HUPCF', 'Hit under previous context fault', 'later transactions keep being translated while a fault is stalled'),
    bit(7, 'CFCFG', 'Context fault configuration', 'a faulting transaction is stalled until software retries or terminates it', 'a faulting transaction is terminated (the device gets an abort)'),
    bit(6, 'CFIE', 'Context fault interrupt enable', 'context faults raise an interrupt (and so get printed)', 'context faults raise no interrupt: they are not printed'),
    bit(5, 'CFRE', 'Context fault report enable', 'faults are reported to the device as an abort'),
    bit(4, 'E', 'Big endian', 'translation tables are read big endian', 'translation tables are read little endian'),
    bit(3, 'AFFD', 'Access flag fault disable', 'access flag faults are disabled'),
    bit(2, 'AFE', 'Access flag enable', 'the Access Flag in table entries is checked'),
    bit(1, 'TRE', 'TEX remap enable', 'TEX remap is enabled'),
    bit(0, 'M', 'MMU enable', 'translation is enabled for this context bank', 'translation is DISABLED: the context bank does not translate'),
  ],
};

export const GFSR: RegisterDescription = {
  id: 'arm-smmu.gfsr',
  family: 'arm-smmu',
  name: 'sGFSR',
  key: 'gfsr',
  width: 32,
  title: 'Global Fault Status Register',
  doc: 'Faults found before a context bank was chosen: the transaction did not match the SMMU\'s stream configuration.',
  source: `${SRC_LINUX} (ARM_SMMU_sGFSR_USF); HiSilicon Hi3650 soc_smmu500_s_interface.h`,
  fields: [
    bit(31, 'MULTI', 'Multiple faults', 'another global fault happened while this one was still pending'),
    { name: 'RES_30_8', bits: [30, 8], title: 'Reserved', reserved: true },
    bit(7, 'PF', 'Permission fault', 'a configuration access was not permitted (e.g. a non-secure access to a secure-only resource)'),
    bit(6, 'EF', 'External fault', 'the bus returned an error for a global access'),
    bit(5, 'CAF', 'Configuration access fault', 'software accessed an SMMU register in a way that is not allowed'),
    bit(4, 'UCIF', 'Unimplemented context interrupt fault', 'a context bank was configured to use an interrupt that does not exist'),
    bit(3, 'UCBF', 'Unimplemented context bank fault', 'a stream was routed to a context bank that does not exist'),
    bit(2, 'SMCF', 'Stream match conflict fault', 'more than one stream match register (SMR) matched the transaction\'s Stream ID: overlapping SMR entries'),
    bit(1, 'USF', 'Unidentified stream fault', 'no stream match register matched the Stream ID: the device is not attached to (or not described for) this SMMU, and bypass is disabled'),
    bit(0, 'ICF', 'Invalid context fault', 'the transaction was routed to the fault context (S2CR type "fault")'),
  ],
};

export const GFSYNR0: RegisterDescription = {
  id: 'arm-smmu.gfsynr0',
  family: 'arm-smmu',
  name: 'sGFSYNR0',
  key: 'gfsynr0',
  width: 32,
  title: 'Global Fault Syndrome Register 0',
  doc: 'How the transaction that caused the global fault accessed memory.',
  source: 'HiSilicon Hi3650 soc_smmu500_s_interface.h',
  fields: [
    { name: 'RES_31_16', bits: [31, 16], title: 'Reserved', reserved: true },
    { name: 'IMPDEF', bits: [15, 8], title: 'Implementation defined', doc: 'implementation defined' },
    { name: 'RES_7_6', bits: [7, 6], title: 'Reserved', reserved: true },
    bit(5, 'NSATTR', 'Non-secure attribute', 'the transaction was non-secure', 'the transaction was secure'),
    bit(4, 'NSSTATE', 'Non-secure state', 'the client was in the non-secure state'),
    bit(3, 'IND', 'Instruction access', 'the faulting access was an instruction fetch', 'the faulting access was a data access'),
    bit(2, 'PNU', 'Privileged access', 'the faulting access was privileged', 'the faulting access was unprivileged'),
    bit(1, 'WNR', 'Write', 'the faulting access was a write', 'the faulting access was a read'),
    bit(0, 'NESTED', 'Nested', 'the fault happened in a nested (stage 1 + stage 2) configuration'),
  ],
};

export const GFSYNR1: RegisterDescription = {
  id: 'arm-smmu.gfsynr1',
  family: 'arm-smmu',
  name: 'sGFSYNR1',
  key: 'gfsynr1',
  width: 32,
  title: 'Global Fault Syndrome Register 1',
  doc: 'Which device (Stream ID) caused the global fault; Linux prints bits 15:0 in "Blocked unknown Stream ID".',
  source: 'HiSilicon Hi3650 soc_smmu500_s_interface.h; Linux arm-smmu.c ((u16)gfsynr1)',
  fields: [
    { name: 'RES_31', bits: [31, 31], title: 'Reserved', reserved: true },
    { name: 'SSD_INDEX', bits: [30, 16], title: 'Security state determination index', doc: 'secure software only: SSD index of the transaction' },
    { name: 'SID', bits: [15, 0], title: 'Stream ID', doc: 'Stream ID of the transaction that caused the global fault' },
  ],
};

export const GFSYNR2: RegisterDescription = {
  id: 'arm-smmu.gfsynr2',
  family: 'arm-smmu',
  name: 'sGFSYNR2',
  key: 'gfsynr2',
  width: 32,
  title: 'Global Fault Syndrome Register 2 (implementation defined)',
  doc: 'IMPLEMENTATION DEFINED: neither Linux nor Xen decodes it; the meaning is in the SMMU vendor manual.',
  source: 'not decoded by Linux or Xen',
  fields: [{ name: 'IMPDEF', bits: [31, 0], title: 'Implementation defined syndrome', doc: 'implementation defined: see the SMMU vendor manual' }],
};

/** The legacy Qualcomm msm_iommu (pre-SMMUv2 IOMMU of MSM8x60/APQ8064): bits 4..7 and 16 differ. */
export const MSM_IOMMU_FSR: RegisterDescription = {
  id: 'arm-smmu.msm_iommu_fsr',
  family: 'arm-smmu',
  name: 'FSR (msm_iommu)',
  key: 'msm_iommu_fsr',
  width: 32,
  title: 'Legacy Qualcomm msm_iommu context Fault Status Register',
  doc: 'The older Qualcomm IOMMU (drivers/iommu/msm_iommu.c): same TF/AFF/permission/SS/MULTI bits as the SMMU, different meanings for bits 4-7 and 16.',
  source: 'Linux drivers/iommu/msm_iommu.c print_ctx_regs() labels',
  fields: [
    bit(31, 'MULTI', 'Multiple faults', 'another fault happened while this one was still pending'),
    bit(30, 'SS', 'Stalled', 'the faulting transaction is stalled'),
    bit(16, 'SL', 'Security level fault', 'security level fault'),
    bit(7, 'MHF', 'Multiple hit fault', 'more than one TLB entry matched the address'),
    bit(6, 'HTWSEEF', 'Walk slave error', 'the hardware table walk got a slave error'),
    bit(5, 'HTWDEEF', 'Walk decode error', 'the hardware table walk got a decode error'),
    bit(4, 'TLBMF', 'TLB miss fault', 'TLB miss fault'),
    bit(3, 'APF', 'Access permission fault', 'the mapping does not allow this access'),
    bit(2, 'AFF', 'Access flag fault', 'the page table entry has its Access Flag clear'),
    bit(1, 'TF', 'Translation fault', 'no valid translation for the address'),
  ],
};

export const ARM_SMMU_REGISTERS: readonly RegisterDescription[] = [
  CB_FSR, CB_FSYNR0, CB_FSYNR1, CBFRSYNRA, CB_FAR, CB_PAR, CB_SCTLR, GFSR, GFSYNR0, GFSYNR1, GFSYNR2, MSM_IOMMU_FSR,
];

/** FSR fault bits from most to least telling, with the reason text records carry. */
export const FSR_REASONS: readonly { mask: number; name: string; text: string }[] = [
  { mask: 1 << 1, name: 'TF', text: 'Translation fault: the address is not mapped (no valid page table entry)' },
  { mask: 1 << 3, name: 'PF', text: 'Permission fault: the address is mapped but does not allow this access' },
  { mask: 1 << 2, name: 'AFF', text: 'Access flag fault: the page table entry has its Access Flag clear' },
  { mask: 1 << 4, name: 'EF', text: 'External fault: the bus returned an error for the access or the table walk' },
  { mask: 1 << 7, name: 'ASF', text: 'Address size fault: an address exceeded the configured input or output size' },
  { mask: 1 << 5, name: 'TLBMCF', text: 'TLB match conflict: more than one TLB entry matched (overlapping mappings or missing invalidation)' },
  { mask: 1 << 6, name: 'TLBLKF', text: 'TLB lock fault' },
  { mask: 1 << 8, name: 'UUT', text: 'Unsupported upstream transaction: the device issued a transaction type the SMMU does not support' },
];

export const GFSR_REASONS: readonly { mask: number; name: string; text: string }[] = [
  { mask: 1 << 1, name: 'USF', text: 'Unidentified stream fault: no stream mapping matched the Stream ID (device not attached, or missing from the firmware description)' },
  { mask: 1 << 2, name: 'SMCF', text: 'Stream match conflict: more than one stream mapping matched the Stream ID' },
  { mask: 1 << 3, name: 'UCBF', text: 'Unimplemented context bank: the stream was routed to a context bank that does not exist' },
  { mask: 1 << 4, name: 'UCIF', text: 'Unimplemented context interrupt: a context bank uses an interrupt that does not exist' },
  { mask: 1 << 0, name: 'ICF', text: 'Invalid context fault: the stream is routed to the fault context' },
  { mask: 1 << 5, name: 'CAF', text: 'Configuration access fault: a register access that is not allowed' },
  { mask: 1 << 6, name: 'EF', text: 'External fault: the bus returned an error for a global access' },
  { mask: 1 << 7, name: 'PF', text: 'Permission fault on a configuration access' },
];

/** Legacy msm_iommu FSR bits (label as printed → reason). */
export const MSM_IOMMU_FSR_REASONS: readonly { mask: number; name: string; text: string }[] = [
  { mask: 1 << 1, name: 'TF', text: 'Translation fault: the address is not mapped' },
  { mask: 1 << 3, name: 'APF', text: 'Access permission fault: the mapping does not allow this access' },
  { mask: 1 << 2, name: 'AFF', text: 'Access flag fault' },
  { mask: 1 << 5, name: 'HTWDEEF', text: 'Hardware table walk decode error' },
  { mask: 1 << 6, name: 'HTWSEEF', text: 'Hardware table walk slave error' },
  { mask: 1 << 7, name: 'MHF', text: 'Multiple TLB hit fault' },
  { mask: 1 << 4, name: 'TLBMF', text: 'TLB miss fault' },
  { mask: 1 << 16, name: 'SL', text: 'Security level fault' },
];
