/**
 * AMD-Vi (AMD IOMMU) event log entries, IO_PAGE_FAULT flags, PPR log flags, device table
 * entry, control register and command dwords, as data.
 *
 * Facts: Linux drivers/iommu/amd/amd_iommu_types.h and iommu.c (6.12), Xen
 * drivers/passthrough/amd/iommu-defs.h and iommu_init.c; see reference/fault-encodings.md §4.
 * Flag names beyond I and RW are Xen's labels; their meanings follow the AMD IOMMU
 * specification's field names and are not checked against the specification text here.
 */
import type { FieldValue, RegisterDescription } from '../register';

const SRC = 'Linux drivers/iommu/amd/amd_iommu_types.h + iommu.c (6.12); Xen amd/iommu_init.c';

/** Event codes (event dword 1 bits 31:28), Linux print tags. */
export const AMD_EVENT_CODES: Readonly<Record<number, FieldValue>> = {
  0x1: { name: 'ILLEGAL_DEV_TABLE_ENTRY', text: 'the device table entry for the requester is invalid or has reserved bits set' },
  0x2: { name: 'IO_PAGE_FAULT', text: 'a DMA or interrupt request found no valid translation or lacked permission' },
  0x3: { name: 'DEV_TAB_HARDWARE_ERROR', text: 'hardware error (e.g. master/target abort, data error) while fetching a device table entry' },
  0x4: { name: 'PAGE_TAB_HARDWARE_ERROR', text: 'hardware error while fetching a page table entry' },
  0x5: { name: 'ILLEGAL_COMMAND_ERROR', text: 'the IOMMU fetched a command with an unknown opcode or reserved bits set' },
  0x6: { name: 'COMMAND_HARDWARE_ERROR', text: 'hardware error while fetching a command from the command buffer' },
  0x7: { name: 'IOTLB_INV_TIMEOUT', text: 'a device did not complete an ATS invalidation in time' },
  0x8: { name: 'INVALID_DEVICE_REQUEST', text: 'the device issued a request it is not allowed to make (e.g. ATS or PRI when not enabled)' },
  0x9: { name: 'INVALID_PPR_REQUEST', text: 'a peripheral page request (PRI) was malformed or not allowed' },
  0xd: { name: 'RMP_PAGE_FAULT', text: 'SEV-SNP reverse map table check failed for a DMA access' },
  0xe: { name: 'RMP_HW_ERROR', text: 'hardware error while reading the SEV-SNP reverse map table' },
};

/** Xen's names for the same codes (EVENT_STR in iommu_init.c), mapped to the Linux tags. */
export const XEN_EVENT_NAMES: Readonly<Record<string, number>> = {
  ILLEGAL_DEV_TABLE_ENTRY: 0x1,
  IO_PAGE_FAULT: 0x2,
  DEV_TABLE_HW_ERROR: 0x3,
  PAGE_TABLE_HW_ERROR: 0x4,
  ILLEGAL_COMMAND_ERROR: 0x5,
  COMMAND_HW_ERROR: 0x6,
  IOTLB_INV_TIMEOUT: 0x7,
  INVALID_DEV_REQUEST: 0x8,
};

export const AMD_FLAGS: RegisterDescription = {
  id: 'amd-vi.flags',
  family: 'amd-vi',
  name: 'event flags',
  key: 'flags',
  width: 32,
  title: 'AMD-Vi event flags (event dword 1 bits 27:16)',
  doc: 'The 12-bit flags field Linux prints as flags=0x%04x and Xen as flags %#x. Layout of IO_PAGE_FAULT; the other events share GN, I, RW, RZ and TR.',
  source: SRC + '; Xen flag labels ??, TR, RZ, PE, RW, PR, I, US, NX, GN',
  fields: [
    { name: 'GN', bits: [0, 0], title: 'Guest / PASID valid', doc: 'the request carried a PASID: the domain= value Linux prints is then PASID[15:0], and the walk used the guest (GCR3) tables', whenClear: 'no PASID: domain= is the DTE DomainID' },
    { name: 'NX', bits: [1, 1], title: 'No-execute', doc: 'execute permission was requested or denied (NX)' },
    { name: 'US', bits: [2, 2], title: 'User/supervisor', doc: 'user-mode request', whenClear: 'supervisor request' },
    { name: 'I', bits: [3, 3], title: 'Interrupt request', values: {
      0: { name: 'MEMORY', text: 'memory transaction (DMA)' },
      1: { name: 'INTERRUPT', text: 'an interrupt request (MSI) was being remapped, not a memory access' },
    } },
    { name: 'PR', bits: [4, 4], title: 'Present', values: {
      0: { name: 'NOT_PRESENT', text: 'no present translation: the address is not mapped' },
      1: { name: 'PRESENT', text: 'the translation existed: a permission or reserved-bit problem, not a missing mapping' },
    } },
    { name: 'RW', bits: [5, 5], title: 'Read/write', values: {
      0: { name: 'READ', text: 'read transaction' },
      1: { name: 'WRITE', text: 'write transaction' },
    } },
    { name: 'PE', bits: [6, 6], title: 'Permission error', doc: 'the page table denied the requested access (IR/IW or U/S, NX)' },
    { name: 'RZ', bits: [7, 7], title: 'Reserved bit / illegal level', doc: 'a table entry had reserved bits set or an illegal next-level encoding' },
    { name: 'TR', bits: [8, 8], title: 'Translation request', doc: 'an ATS translation request, not a translated or untranslated transaction', whenClear: 'a transaction' },
    { name: 'TYPE', bits: [11, 9], title: 'Event-specific type', doc: 'hardware-error type for *_HARDWARE_ERROR events; reserved in IO_PAGE_FAULT (Xen prints " ??")' },
  ],
};

export const AMD_EVENT_CODE: RegisterDescription = {
  id: 'amd-vi.event_code',
  family: 'amd-vi',
  name: 'event code',
  key: 'event_code',
  width: 32,
  title: 'AMD-Vi event code (event dword 1 bits 31:28, given alone)',
  source: SRC,
  fields: [{ name: 'EventCode', bits: [3, 0], title: 'Event code', values: AMD_EVENT_CODES }],
};

export const AMD_EVENT0: RegisterDescription = {
  id: 'amd-vi.event0',
  family: 'amd-vi',
  name: 'event[0]',
  key: 'event0',
  width: 32,
  title: 'AMD-Vi event log entry, dword 0',
  doc: 'Layout as Linux reads it; for RMP_PAGE_FAULT bits 23:16 are flags_rmp, for INVALID_PPR_REQUEST bits 31:16 are PASID[15:0].',
  source: SRC,
  fields: [
    { name: 'DeviceID', bits: [15, 0], title: 'Requester ID (bus<<8 | devfn)', format: 'hex' },
    { name: 'PASID_19_16', bits: [19, 16], title: 'PASID bits 19:16 (EVENT_DOMID_MASK_HI)', format: 'hex' },
    { name: 'Upper', bits: [31, 20], title: 'Event-specific (flags_rmp / PASID of INVALID_PPR_REQUEST)', format: 'hex' },
  ],
};

export const AMD_EVENT1: RegisterDescription = {
  id: 'amd-vi.event1',
  family: 'amd-vi',
  name: 'event[1]',
  key: 'event1',
  width: 32,
  title: 'AMD-Vi event log entry, dword 1',
  source: SRC,
  fields: [
    { name: 'DomainID', bits: [15, 0], title: 'DomainID, or PASID[15:0] when GN=1 (RMP events: vmg_tag)', format: 'hex' },
    { name: 'Flags', bits: [27, 16], title: 'Event flags (see flags)', format: 'hex' },
    { name: 'EventCode', bits: [31, 28], title: 'Event code', values: AMD_EVENT_CODES },
  ],
};

export const AMD_EVENT2: RegisterDescription = {
  id: 'amd-vi.event2',
  family: 'amd-vi',
  name: 'event[2]',
  key: 'event2',
  width: 32,
  title: 'AMD-Vi event log entry, dword 2: address bits 31:0',
  source: SRC,
  fields: [{ name: 'Address_31_0', bits: [31, 0], title: 'Address bits 31:0', format: 'hex' }],
};

export const AMD_EVENT3: RegisterDescription = {
  id: 'amd-vi.event3',
  family: 'amd-vi',
  name: 'event[3]',
  key: 'event3',
  width: 32,
  title: 'AMD-Vi event log entry, dword 3: address bits 63:32',
  source: SRC,
  fields: [{ name: 'Address_63_32', bits: [31, 0], title: 'Address bits 63:32', format: 'hex' }],
};

export const AMD_PPR_FLAGS: RegisterDescription = {
  id: 'amd-vi.ppr_flags',
  family: 'amd-vi',
  name: 'PPR flags',
  key: 'ppr_flags',
  width: 32,
  title: 'AMD-Vi PPR log entry flags (bits 59:48 of the first qword)',
  source: 'Linux drivers/iommu/amd/amd_iommu_types.h PPR_FLAG_* (6.12)',
  fields: [
    { name: 'EXEC', bits: [1, 1], title: 'Execute permission requested' },
    { name: 'READ', bits: [2, 2], title: 'Read permission requested' },
    { name: 'WRITE', bits: [5, 5], title: 'Write permission requested' },
    { name: 'US', bits: [6, 6], title: 'User request', doc: 'user-mode request', whenClear: 'supervisor request (IOMMU_FAULT_PERM_PRIV)' },
    { name: 'RVSD', bits: [7, 7], title: 'Reserved bit not zero' },
    { name: 'GN', bits: [8, 8], title: 'GVA and PASID valid', whenClear: 'no PASID: Linux ignores the request (GN=0)' },
  ],
};

export const AMD_PPR_TAG: RegisterDescription = {
  id: 'amd-vi.ppr_tag',
  family: 'amd-vi',
  name: 'PPR tag',
  key: 'tag',
  width: 32,
  title: 'AMD-Vi PPR tag (PRG index and last-page bit)',
  source: 'Linux amd_iommu_types.h PPR_TAG (6.12)',
  fields: [
    { name: 'PRGI', bits: [8, 0], title: 'Page request group index', format: 'hex' },
    { name: 'LAST', bits: [9, 9], title: 'Last page request of the group' },
  ],
};

/** Paging modes of DTE Mode and of next-level fields. */
const PAGING_MODES: Readonly<Record<number, FieldValue>> = {
  0: { name: 'NONE', text: 'translation disabled: addresses pass through untranslated' },
  1: { name: '1-LEVEL', text: '1-level page table (21-bit address space)' },
  2: { name: '2-LEVEL', text: '2-level page table (30-bit)' },
  3: { name: '3-LEVEL', text: '3-level page table (39-bit)' },
  4: { name: '4-LEVEL', text: '4-level page table (48-bit)' },
  5: { name: '5-LEVEL', text: '5-level page table (57-bit)' },
  6: { name: '6-LEVEL', text: '6-level page table (64-bit)' },
  7: { name: 'RESERVED', text: 'reserved paging mode: illegal' },
};

const DTE_SRC = 'Linux amd_iommu_types.h DEV_ENTRY_*/DTE_* macros; field names per the AMD IOMMU specification';

export const AMD_DTE0: RegisterDescription = {
  id: 'amd-vi.dte0',
  family: 'amd-vi',
  name: 'DTE[0]',
  key: 'dte0',
  width: 64,
  title: 'Device table entry, bits 63:0',
  source: DTE_SRC,
  fields: [
    { name: 'V', bits: [0, 0], title: 'Valid', doc: 'the entry is valid', whenClear: 'entry not valid: DMA is passed through untranslated (when TV=0) or blocked per IOMMU defaults' },
    { name: 'TV', bits: [1, 1], title: 'Translation information valid', whenClear: 'translation fields not valid' },
    { name: 'HAD', bits: [8, 7], title: 'Host access/dirty update', format: 'hex' },
    { name: 'Mode', bits: [11, 9], title: 'Paging mode', values: PAGING_MODES },
    { name: 'PTRootPtr', bits: [51, 12], title: 'Host page table root pointer', addressShift: 12 },
    { name: 'PPR', bits: [52, 52], title: 'Peripheral page requests enabled' },
    { name: 'GPRP', bits: [53, 53], title: 'Guest PPR response with PASID' },
    { name: 'GIoV', bits: [54, 54], title: 'Guest I/O protection valid' },
    { name: 'GV', bits: [55, 55], title: 'Guest translation valid (GCR3 table in use)' },
    { name: 'GLX', bits: [57, 56], title: 'Guest levels translated (GCR3 table levels)', format: 'hex' },
    { name: 'GCR3_14_12', bits: [60, 58], title: 'GCR3 table root pointer bits 14:12', format: 'hex' },
    { name: 'IR', bits: [61, 61], title: 'Read permission', doc: 'DMA reads allowed', whenClear: 'DMA reads denied' },
    { name: 'IW', bits: [62, 62], title: 'Write permission', doc: 'DMA writes allowed', whenClear: 'DMA writes denied' },
    { name: 'Rsvd63', bits: [63, 63], title: 'Reserved', reserved: true },
  ],
};

export const AMD_DTE1: RegisterDescription = {
  id: 'amd-vi.dte1',
  family: 'amd-vi',
  name: 'DTE[1]',
  key: 'dte1',
  width: 64,
  title: 'Device table entry, bits 127:64',
  source: DTE_SRC,
  fields: [
    { name: 'DomainID', bits: [15, 0], title: 'Domain ID (tags IOTLB entries; printed as domain=)', format: 'hex' },
    { name: 'GCR3_30_15', bits: [31, 16], title: 'GCR3 table root pointer bits 30:15', format: 'hex' },
    { name: 'I', bits: [32, 32], title: 'IOTLB (ATS) enabled' },
    { name: 'SE', bits: [33, 33], title: 'Suppress all I/O page fault events' },
    { name: 'SA', bits: [34, 34], title: 'Suppress repeated I/O page fault events' },
    { name: 'IoCtl', bits: [36, 35], title: 'Port I/O control', format: 'hex' },
    { name: 'Cache', bits: [37, 37], title: 'IOTLB cache hint' },
    { name: 'SD', bits: [38, 38], title: 'Snoop disable' },
    { name: 'EX', bits: [39, 39], title: 'Exclusion range allowed' },
    { name: 'SysMgt', bits: [41, 40], title: 'System management message handling', format: 'hex' },
    { name: 'GCR3_51_31', bits: [63, 43], title: 'GCR3 table root pointer bits 51:31', format: 'hex' },
  ],
};

export const AMD_DTE2: RegisterDescription = {
  id: 'amd-vi.dte2',
  family: 'amd-vi',
  name: 'DTE[2]',
  key: 'dte2',
  width: 64,
  title: 'Device table entry, bits 191:128 (interrupt remapping)',
  source: DTE_SRC,
  fields: [
    { name: 'IV', bits: [0, 0], title: 'Interrupt map valid', whenClear: 'interrupts not remapped by this entry' },
    { name: 'IntTabLen', bits: [4, 1], title: 'Interrupt table length (2^n entries)', format: 'dec' },
    { name: 'IG', bits: [5, 5], title: 'Ignore unmapped interrupts' },
    { name: 'IntTableRootPtr', bits: [51, 6], title: 'Interrupt remapping table root pointer', addressShift: 6 },
    { name: 'InitPass', bits: [56, 56], title: 'INIT messages pass through' },
    { name: 'EIntPass', bits: [57, 57], title: 'ExtInt messages pass through' },
    { name: 'NMIPass', bits: [58, 58], title: 'NMI messages pass through' },
    { name: 'IntCtl', bits: [61, 60], title: 'Fixed/arbitrated interrupt control', values: {
      0: { name: 'ABORT', text: 'fixed and arbitrated interrupts are target-aborted' },
      1: { name: 'PASS', text: 'forwarded unmapped' },
      2: { name: 'REMAP', text: 'remapped through the interrupt table' },
      3: { name: 'RESERVED', text: 'reserved' },
    } },
    { name: 'Lint0Pass', bits: [62, 62], title: 'LINT0 messages pass through' },
    { name: 'Lint1Pass', bits: [63, 63], title: 'LINT1 messages pass through' },
  ],
};

export const AMD_DTE3: RegisterDescription = {
  id: 'amd-vi.dte3',
  family: 'amd-vi',
  name: 'DTE[3]',
  key: 'dte3',
  width: 64,
  title: 'Device table entry, bits 255:192',
  doc: 'Virtualized-IOMMU and SNP attributes; not decoded further here.',
  source: DTE_SRC,
  fields: [{ name: 'Attributes', bits: [63, 0], title: 'Upper attributes (vIOMMU, SNP)', format: 'hex' }],
};

export const AMD_CONTROL: RegisterDescription = {
  id: 'amd-vi.control',
  family: 'amd-vi',
  name: 'Control Reg',
  key: 'control',
  width: 64,
  title: 'IOMMU control register (MMIO 0x18), printed after ILLEGAL_DEV_TABLE_ENTRY',
  source: 'Linux amd_iommu_types.h CONTROL_* bit numbers',
  fields: [
    { name: 'IOMMUEn', bits: [0, 0], title: 'IOMMU enabled', whenClear: 'IOMMU disabled' },
    { name: 'HtTunEn', bits: [1, 1], title: 'HyperTransport tunnel translation' },
    { name: 'EventLogEn', bits: [2, 2], title: 'Event log enabled' },
    { name: 'EventIntEn', bits: [3, 3], title: 'Event log interrupt enabled' },
    { name: 'ComWaitIntEn', bits: [4, 4], title: 'Completion-wait interrupt enabled' },
    { name: 'InvTimeOut', bits: [7, 5], title: 'Invalidation timeout', format: 'hex' },
    { name: 'PassPW', bits: [8, 8], title: 'Pass posted write' },
    { name: 'ResPassPW', bits: [9, 9], title: 'Response pass posted write' },
    { name: 'Coherent', bits: [10, 10], title: 'Coherent table walks' },
    { name: 'Isoc', bits: [11, 11], title: 'Isochronous' },
    { name: 'CmdBufEn', bits: [12, 12], title: 'Command buffer enabled' },
    { name: 'PPRLogEn', bits: [13, 13], title: 'PPR log enabled' },
    { name: 'PprIntEn', bits: [14, 14], title: 'PPR log interrupt enabled' },
    { name: 'PPREn', bits: [15, 15], title: 'Peripheral page requests enabled' },
    { name: 'GTEn', bits: [16, 16], title: 'Guest (two-level) translation enabled' },
    { name: 'GAEn', bits: [17, 17], title: 'Guest virtual APIC (128-bit IRTE) enabled' },
    { name: 'GALogEn', bits: [28, 28], title: 'Guest virtual APIC log enabled' },
    { name: 'GAIntEn', bits: [29, 29], title: 'Guest virtual APIC log interrupt enabled' },
    { name: 'XTEn', bits: [50, 50], title: 'x2APIC interrupt remapping enabled' },
    { name: 'IntCapXTEn', bits: [51, 51], title: 'IOMMU interrupts use x2APIC format' },
  ],
};

export const AMD_CMD_OPCODES: Readonly<Record<number, FieldValue>> = {
  0x1: { name: 'COMPLETION_WAIT', text: 'wait for previous commands' },
  0x2: { name: 'INVALIDATE_DEVTAB_ENTRY', text: 'invalidate a cached device table entry' },
  0x3: { name: 'INVALIDATE_IOMMU_PAGES', text: 'invalidate IOMMU TLB entries of a domain' },
  0x4: { name: 'INVALIDATE_IOTLB_PAGES', text: 'invalidate a device\'s ATS IOTLB' },
  0x5: { name: 'INVALIDATE_INTERRUPT_TABLE', text: 'invalidate cached interrupt remapping entries' },
  0x7: { name: 'COMPLETE_PPR_REQUEST', text: 'respond to a peripheral page request' },
  0x8: { name: 'INVALIDATE_IOMMU_ALL', text: 'invalidate all IOMMU caches' },
};

export const AMD_CMD1: RegisterDescription = {
  id: 'amd-vi.cmd1',
  family: 'amd-vi',
  name: 'CMD[1]',
  key: 'cmd1',
  width: 32,
  title: 'Command buffer entry, dword 1 (printed after ILLEGAL_COMMAND_ERROR)',
  source: 'Linux amd_iommu_types.h CMD_* opcodes, CMD_SET_TYPE (data[1] bits 31:28)',
  fields: [
    { name: 'Operand', bits: [27, 0], title: 'Command-specific operand bits', format: 'hex' },
    { name: 'Opcode', bits: [31, 28], title: 'Command opcode', values: AMD_CMD_OPCODES },
  ],
};

export const AMD_VI_REGISTERS: readonly RegisterDescription[] = [
  AMD_FLAGS, AMD_EVENT_CODE, AMD_EVENT0, AMD_EVENT1, AMD_EVENT2, AMD_EVENT3,
  AMD_PPR_FLAGS, AMD_PPR_TAG, AMD_DTE0, AMD_DTE1, AMD_DTE2, AMD_DTE3, AMD_CONTROL, AMD_CMD1,
];
