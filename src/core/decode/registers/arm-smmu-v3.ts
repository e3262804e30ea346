/**
 * Arm SMMUv3 records and registers as data: the 32-byte event record (four dwords), GERROR,
 * CMDQ_CONS, the command dword 0 opcode, the 16-byte PRI queue entry, and the virtio-iommu
 * fault reasons and flags (the paravirtual IOMMU that usually stands in for an SMMU in guests).
 *
 * The event record's dword 1 and dword 3 mean different things for different event IDs
 * (STAG or an IMPLEMENTATION DEFINED Reason; IPA or a fetch address), so the dword descriptions
 * name the common fields and EVENTS says, per event ID, which of them are meaningful.
 */
import type { FieldValue, RegisterDescription } from '../register';

const SPEC = 'Arm SMMUv3 architecture §7.3 (event records); Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h';

/** What one event ID reports besides SID (and SSID when SSV), per SMMUv3 §7.3.2–7.3.21. */
export interface EventInfo extends FieldValue {
  /** dword 2 holds InputAddr */
  inputAddr?: boolean;
  /** dword 3 holds IPA[55:12] (valid for a stage 2 fault) */
  ipa?: boolean;
  /** dword 3 holds FetchAddr[55:3]: the PA of the STE, CD, VMS or descriptor whose fetch aborted */
  fetchAddr?: boolean;
  /** dword 1 holds RnW/InD/PnU */
  access?: boolean;
  /** dword 1 holds Stall/STAG, S2, CLASS (the four translation-related faults, and F_WALK_EABT) */
  stall?: boolean;
  /** dword 0 SSID is valid even without SSV (C_BAD_SUBSTREAMID has no SSV qualifier) */
  ssidAlwaysValid?: boolean;
}

/** Event IDs (dword 0 bits 7:0). Names are the specification's; texts after the spec and FreeBSD's events[]. */
export const EVENTS: Readonly<Record<number, EventInfo>> = withImpdefEvents({
  0x01: { name: 'F_UUT', text: 'Unsupported Upstream Transaction: the client issued a transaction type the SMMU does not support (IMPLEMENTATION DEFINED Reason in dword 1 bits 31:16)', inputAddr: true, access: true },
  0x02: { name: 'C_BAD_STREAMID', text: 'Transaction StreamID out of range of the stream table (or an invalid level-1 stream table descriptor)' },
  0x03: { name: 'F_STE_FETCH', text: 'Fetch of the STE caused an external abort, or its address was out of range', fetchAddr: true },
  0x04: { name: 'C_BAD_STE', text: 'Used STE invalid (V == 0, reserved field, or incorrect configuration)' },
  0x05: { name: 'F_BAD_ATS_TREQ', text: 'ATS Translation Request received but disallowed for this StreamID', inputAddr: true, access: true },
  0x06: { name: 'F_STREAM_DISABLED', text: 'The STE marks non-substream transactions disabled and the transaction had no SubstreamID (or SubstreamID 0 with S1DSS == 0b10)' },
  0x07: { name: 'F_TRANSL_FORBIDDEN', text: 'PCIe transaction marked Translated (ATS) but bypass of translation is disallowed for this StreamID', inputAddr: true, access: true },
  0x08: { name: 'C_BAD_SUBSTREAMID', text: 'SubstreamID present but the configuration does not allow it (stage 1 disabled, S1CDMax == 0, SSID out of range, or invalid L1CD)', ssidAlwaysValid: true },
  0x09: { name: 'F_CD_FETCH', text: 'Fetch of the context descriptor (CD) caused an external abort', fetchAddr: true },
  0x0a: { name: 'C_BAD_CD', text: 'Fetched CD invalid (V == 0, or V == 1 with an ILLEGAL configuration)' },
  0x0b: { name: 'F_WALK_EABT', text: 'External abort fetching or updating a translation table descriptor', inputAddr: true, fetchAddr: true, access: true, stall: true },
  0x10: { name: 'F_TRANSLATION', text: 'Translation fault: no valid translation for the address (out of TxSZ range, disabled TTBx, or invalid descriptor)', inputAddr: true, ipa: true, access: true, stall: true },
  0x11: { name: 'F_ADDR_SIZE', text: 'Address Size fault: an output or table address exceeds the configured size', inputAddr: true, ipa: true, access: true, stall: true },
  0x12: { name: 'F_ACCESS', text: 'Access flag fault: the descriptor has AF == 0 and hardware AF update is off', inputAddr: true, ipa: true, access: true, stall: true },
  0x13: { name: 'F_PERMISSION', text: 'Permission fault: the access type is not allowed by the descriptor permissions', inputAddr: true, ipa: true, access: true, stall: true },
  0x20: { name: 'F_TLB_CONFLICT', text: 'TLB conflict (multiple TLB entries match; IMPLEMENTATION DEFINED Reason)', inputAddr: true, ipa: true, access: true },
  0x21: { name: 'F_CFG_CONFLICT', text: 'Configuration cache conflict (STE.CONT overlap caused a multiple match; IMPLEMENTATION DEFINED Reason)' },
  0x24: { name: 'E_PAGE_REQUEST', text: 'Speculative page request hint from the device: the given span will be accessed soon (no response needed)', inputAddr: true },
  0x25: { name: 'F_VMS_FETCH', text: 'Fetch of the VMS (Virtual Machine Structure) caused an external abort', fetchAddr: true },
});

function withImpdefEvents(known: Record<number, EventInfo>): Record<number, EventInfo> {
  for (let id = 0xe0; id <= 0xef; id++) {
    known[id] = { name: `IMPDEF_EVENT${id - 0xe0}`, text: 'IMPLEMENTATION DEFINED event (the SMMU vendor documents it)' };
  }
  return known;
}

/** Event names as Linux ≥ 6.14 prints them in "event: NAME client: ..." → event ID. */
export const EVENT_BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(EVENTS).map(([k, v]) => [v.name, Number(k)]));

/** CLASS (dword 1 bits 41:40); the short name and the text Linux 6.14+ prints (event_class_str[]). */
export const EVENT_CLASSES: Readonly<Record<number, FieldValue>> = {
  0: { name: 'CD', text: 'CD fetch' },
  1: { name: 'TT', text: 'Stage 1 translation table fetch' },
  2: { name: 'IN', text: 'Input address caused fault' },
  3: { name: 'RESERVED', text: 'Reserved' },
};

export const CMDQ_ERRORS: Readonly<Record<number, FieldValue>> = {
  0: { name: 'CERROR_NONE', text: 'No error' },
  1: { name: 'CERROR_ILL', text: 'Illegal command: unknown opcode, or a reserved field set' },
  2: { name: 'CERROR_ABT', text: 'Abort on command fetch: the command queue memory could not be read' },
  3: { name: 'CERROR_ATC_INV_SYNC', text: 'ATC invalidate timeout: a device did not complete an ATS invalidation before the CMD_SYNC' },
};

const CMD_OPCODES: Readonly<Record<number, FieldValue>> = {
  0x01: { name: 'CMD_PREFETCH_CONFIG', text: 'prefetch configuration (STE/CD) for a StreamID' },
  0x02: { name: 'CMD_PREFETCH_ADDR', text: 'prefetch a translation for an address' },
  0x03: { name: 'CMD_CFGI_STE', text: 'invalidate cached STE of one StreamID' },
  0x04: { name: 'CMD_CFGI_STE_RANGE', text: 'invalidate cached STEs of a StreamID range (Linux CMDQ_OP_CFGI_ALL)' },
  0x05: { name: 'CMD_CFGI_CD', text: 'invalidate a cached CD (StreamID, SubstreamID)' },
  0x06: { name: 'CMD_CFGI_CD_ALL', text: 'invalidate all cached CDs of a StreamID' },
  0x10: { name: 'CMD_TLBI_NH_ALL', text: 'invalidate all non-hyp stage 1 TLB entries of a VMID' },
  0x11: { name: 'CMD_TLBI_NH_ASID', text: 'invalidate stage 1 TLB entries of an ASID' },
  0x12: { name: 'CMD_TLBI_NH_VA', text: 'invalidate stage 1 TLB entries for a VA (and ASID)' },
  0x13: { name: 'CMD_TLBI_NH_VAA', text: 'invalidate stage 1 TLB entries for a VA, all ASIDs' },
  0x20: { name: 'CMD_TLBI_EL2_ALL', text: 'invalidate all EL2 TLB entries' },
  0x21: { name: 'CMD_TLBI_EL2_ASID', text: 'invalidate EL2 TLB entries of an ASID' },
  0x22: { name: 'CMD_TLBI_EL2_VA', text: 'invalidate EL2 TLB entries for a VA' },
  0x28: { name: 'CMD_TLBI_S12_VMALL', text: 'invalidate all stage 1 and 2 TLB entries of a VMID' },
  0x2a: { name: 'CMD_TLBI_S2_IPA', text: 'invalidate stage 2 TLB entries for an IPA' },
  0x30: { name: 'CMD_TLBI_NSNH_ALL', text: 'invalidate all non-secure non-hyp TLB entries' },
  0x40: { name: 'CMD_ATC_INV', text: 'ATS invalidation sent to a device (ATC)' },
  0x41: { name: 'CMD_PRI_RESP', text: 'PRI page response (RESP in dword 1 bits 13:12: 0 deny, 1 fail, 2 success)' },
  0x44: { name: 'CMD_RESUME', text: 'resume a stalled transaction (RESP 0 terminate, 1 retry, 2 abort; STAG in dword 1)' },
  0x45: { name: 'CMD_STALL_TERM', text: 'terminate all stalled transactions of a StreamID' },
  0x46: { name: 'CMD_SYNC', text: 'wait for completion of the commands before it' },
};

const event0: RegisterDescription = {
  id: 'arm-smmu-v3.event0', family: 'arm-smmu-v3', name: 'event dword 0', key: 'event0', width: 64,
  title: 'Event record dword 0 (event ID, SubstreamID, StreamID)',
  doc: 'First 64 bits of the 32-byte event queue record; Linux prints it first after "event 0xNN received:".',
  source: SPEC,
  fields: [
    { name: 'EVENT_ID', bits: [7, 0], title: 'Event ID', values: EVENTS },
    { name: 'SSV', bits: [11, 11], title: 'SubstreamID valid', doc: 'the transaction carried a SubstreamID (PASID): SSID is valid', whenClear: 'no SubstreamID (SSID field is UNKNOWN, except for C_BAD_SUBSTREAMID)' },
    { name: 'SSID', bits: [31, 12], title: 'SubstreamID (PASID)', doc: 'SubstreamID of the transaction; valid when SSV (always for C_BAD_SUBSTREAMID)' },
    { name: 'SID', bits: [63, 32], title: 'StreamID', doc: 'StreamID of the requester (for PCI: usually the requester ID, bus<<8|devfn, plus an IORT offset)', format: 'hex' },
  ],
};

const event1: RegisterDescription = {
  id: 'arm-smmu-v3.event1', family: 'arm-smmu-v3', name: 'event dword 1', key: 'event1', width: 64,
  title: 'Event record dword 1 (access attributes, stall, stage, class)',
  doc: 'Meaningful for F_UUT, F_BAD_ATS_TREQ, F_TRANSL_FORBIDDEN (RnW/InD/PnU), F_WALK_EABT, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION, F_TLB_CONFLICT (all fields); other events leave it RES0 or put an IMPLEMENTATION DEFINED Reason in bits 15:0 (F_UUT: in bits 31:16, where STALL would be bit 31).',
  source: SPEC,
  fields: [
    { name: 'STAG', bits: [15, 0], title: 'Stall tag', doc: 'stall tag to quote in CMD_RESUME (translation faults with Stall); for F_STE_FETCH/F_CD_FETCH/F_VMS_FETCH/F_CFG_CONFLICT these bits hold an IMPLEMENTATION DEFINED Reason' },
    { name: 'STALL', bits: [31, 31], title: 'Stalled', doc: 'the transaction is stalled and waits for CMD_RESUME / CMD_STALL_TERM', whenClear: 'transaction terminated (aborted to the device)' },
    { name: 'PnU', bits: [33, 33], title: 'Privileged', doc: 'privileged access', whenClear: 'unprivileged access' },
    { name: 'InD', bits: [34, 34], title: 'Instruction', doc: 'instruction fetch', whenClear: 'data access' },
    { name: 'RnW', bits: [35, 35], title: 'Read', doc: 'read access', whenClear: 'write access' },
    { name: 'S2', bits: [39, 39], title: 'Stage 2 fault', doc: 'the fault occurred at stage 2 (IPA is valid)', whenClear: 'stage 1 fault' },
    { name: 'CLASS', bits: [41, 40], title: 'Class of the faulting access', values: EVENT_CLASSES },
    { name: 'TTRnW', bits: [44, 44], title: 'Table walk read', doc: 'CLASS == TT: the table-walk access was a read (F_PERMISSION)', whenClear: 'CLASS == TT: the table-walk access was a write (hardware update), otherwise not used' },
  ],
};

const event2: RegisterDescription = {
  id: 'arm-smmu-v3.event2', family: 'arm-smmu-v3', name: 'event dword 2', key: 'event2', width: 64,
  title: 'Event record dword 2 (InputAddr)',
  doc: 'The 64-bit input address of the transaction (VA for stage 1 faults, IPA for stage 2-only streams); meaningful for events with an address (F_UUT, F_BAD_ATS_TREQ, F_TRANSL_FORBIDDEN, F_WALK_EABT, F_TRANSLATION…F_PERMISSION, F_TLB_CONFLICT, E_PAGE_REQUEST).',
  source: SPEC,
  fields: [
    { name: 'InputAddr', bits: [63, 0], title: 'Input address', addressShift: 0 },
  ],
};

const event3: RegisterDescription = {
  id: 'arm-smmu-v3.event3', family: 'arm-smmu-v3', name: 'event dword 3', key: 'event3', width: 64,
  title: 'Event record dword 3 (IPA or FetchAddr)',
  doc: 'F_TRANSLATION…F_PERMISSION and F_TLB_CONFLICT: IPA[55:12], valid for a stage 2 fault (S2 == 1). F_STE_FETCH, F_CD_FETCH, F_VMS_FETCH, F_WALK_EABT: FetchAddr[55:3], the physical address whose fetch aborted. Linux masks IPA with bits 51:12 and FetchAddr with 51:3.',
  source: SPEC,
  fields: [
    { name: 'IPA', bits: [55, 12], title: 'Intermediate physical address (stage 2 faults)', addressShift: 12 },
    { name: 'FetchAddr', bits: [55, 3], title: 'Fetch address (fetch / walk external aborts)', addressShift: 3 },
  ],
};

const gerror: RegisterDescription = {
  id: 'arm-smmu-v3.gerror', family: 'arm-smmu-v3', name: 'SMMU_GERROR', key: 'gerror', width: 32,
  title: 'Global error (active bits = GERROR ^ GERRORN)',
  doc: 'Linux prints the active bits in "unexpected global error reported (0x%08x), this could be serious".',
  source: 'Arm SMMUv3 §6.3.20 SMMU_GERROR; Linux arm_smmu_gerror_handler()',
  fields: [
    { name: 'CMDQ_ERR', bits: [0, 0], title: 'Command queue error', doc: 'command queue error: CMDQ_CONS.ERR says which (illegal command, fetch abort, ATC invalidation timeout)' },
    { name: 'RES1', bits: [1, 1], title: 'Reserved', reserved: true },
    { name: 'EVTQ_ABT_ERR', bits: [2, 2], title: 'Event queue write aborted', doc: 'event queue write aborted: events may have been lost' },
    { name: 'PRIQ_ABT_ERR', bits: [3, 3], title: 'PRI queue write aborted', doc: 'PRI queue write aborted: page requests may have been lost' },
    { name: 'MSI_CMDQ_ABT_ERR', bits: [4, 4], title: 'CMD_SYNC MSI write aborted' },
    { name: 'MSI_EVTQ_ABT_ERR', bits: [5, 5], title: 'Event queue MSI write aborted' },
    { name: 'MSI_PRIQ_ABT_ERR', bits: [6, 6], title: 'PRI queue MSI write aborted' },
    { name: 'MSI_GERROR_ABT_ERR', bits: [7, 7], title: 'GERROR MSI write aborted' },
    { name: 'SFM_ERR', bits: [8, 8], title: 'Service Failure Mode', doc: 'the SMMU entered Service Failure Mode: it stops translating (Linux disables it)' },
    { name: 'CMDQP_ERR', bits: [9, 9], title: 'Enhanced command queue error (ECMDQ)' },
    { name: 'DPT_ERR', bits: [10, 10], title: 'Device Permission Table lookup error' },
  ],
};

const cmdqCons: RegisterDescription = {
  id: 'arm-smmu-v3.cmdq_cons', family: 'arm-smmu-v3', name: 'SMMU_CMDQ_CONS', key: 'cmdq_cons', width: 32,
  title: 'Command queue consumer index and error',
  doc: 'Printed by Linux and Xen as "CMDQ error (cons 0x%08x): %s".',
  source: 'Arm SMMUv3 §6.3.27 SMMU_CMDQ_CONS; Linux arm_smmu_cmdq_skip_err()',
  fields: [
    { name: 'RD', bits: [19, 0], title: 'Read index (with wrap bit above the queue size)', doc: 'index of the command that failed (low LOG2SIZE bits) and the wrap flag' },
    { name: 'ERR', bits: [30, 24], title: 'Command error', values: CMDQ_ERRORS },
  ],
};

const cmd0: RegisterDescription = {
  id: 'arm-smmu-v3.cmd0', family: 'arm-smmu-v3', name: 'command dword 0', key: 'cmd0', width: 64,
  title: 'Command queue entry dword 0 (opcode)',
  doc: 'First dword printed after "skipping command in error state:"; the rest of the layout depends on the opcode.',
  source: 'Arm SMMUv3 §4 (commands); Linux CMDQ_OP_*',
  fields: [
    { name: 'OPCODE', bits: [7, 0], title: 'Command opcode', values: CMD_OPCODES },
    { name: 'SSV', bits: [11, 11], title: 'SubstreamID valid (CFGI_CD, ATC_INV, PRI_RESP)' },
    { name: 'SSID', bits: [31, 12], title: 'SubstreamID (CFGI_CD, ATC_INV, PRI_RESP)' },
    { name: 'SID', bits: [63, 32], title: 'StreamID (CFGI_*, ATC_INV, PRI_RESP, RESUME), or VMID/ASID for TLBI', format: 'hex' },
  ],
};

const PRI_RESP: Readonly<Record<number, FieldValue>> = {
  0: { name: 'DENY', text: 'PRI_RESP_DENY' },
  1: { name: 'FAIL', text: 'PRI_RESP_FAIL' },
  2: { name: 'SUCC', text: 'PRI_RESP_SUCC' },
};

const cmd1: RegisterDescription = {
  id: 'arm-smmu-v3.cmd1', family: 'arm-smmu-v3', name: 'command dword 1', key: 'cmd1', width: 64,
  title: 'Command queue entry dword 1 (address, STAG, PRI response)',
  doc: 'Meaning depends on the opcode in dword 0: TLBI/ATC_INV/PREFETCH carry an address in bits 63:12; PRI_RESP carries GRPID (8:0) and RESP (13:12); RESUME carries STAG (15:0).',
  source: 'Linux CMDQ_TLBI_1_*, CMDQ_PRI_1_*, CMDQ_RESUME_1_*',
  fields: [
    { name: 'GRPID', bits: [8, 0], title: 'PRG index (PRI_RESP)' },
    { name: 'RESP', bits: [13, 12], title: 'PRI response (PRI_RESP)', values: PRI_RESP },
    { name: 'STAG', bits: [15, 0], title: 'Stall tag (RESUME)' },
    { name: 'ADDR', bits: [63, 12], title: 'Address (TLBI VA/IPA, ATC_INV)', addressShift: 12 },
  ],
};

const pri0: RegisterDescription = {
  id: 'arm-smmu-v3.pri0', family: 'arm-smmu-v3', name: 'PRI queue dword 0', key: 'pri0', width: 64,
  title: 'PRI queue entry dword 0 (StreamID, SubstreamID, permissions)',
  source: 'Arm SMMUv3 §8 (PRI queue); Linux PRIQ_0_*',
  fields: [
    { name: 'SID', bits: [31, 0], title: 'StreamID', format: 'hex' },
    { name: 'SSID', bits: [51, 32], title: 'SubstreamID (PASID)' },
    { name: 'PRIV', bits: [58, 58], title: 'Privileged access requested' },
    { name: 'EXEC', bits: [59, 59], title: 'Execute access requested' },
    { name: 'READ', bits: [60, 60], title: 'Read access requested' },
    { name: 'WRITE', bits: [61, 61], title: 'Write access requested' },
    { name: 'LAST', bits: [62, 62], title: 'Last request of the page request group', doc: 'last request of its group: a PRI response is due' },
    { name: 'SSV', bits: [63, 63], title: 'SubstreamID valid' },
  ],
};

const pri1: RegisterDescription = {
  id: 'arm-smmu-v3.pri1', family: 'arm-smmu-v3', name: 'PRI queue dword 1', key: 'pri1', width: 64,
  title: 'PRI queue entry dword 1 (group index, page address)',
  source: 'Linux PRIQ_1_*',
  fields: [
    { name: 'PRG_IDX', bits: [8, 0], title: 'Page request group index', format: 'dec' },
    { name: 'ADDR', bits: [63, 12], title: 'Page address', addressShift: 12 },
  ],
};

/** virtio-iommu fault reasons (struct virtio_iommu_fault.reason) and how Linux prints each. */
export const VIRTIO_FAULT_REASONS: Readonly<Record<number, FieldValue>> = {
  0: { name: 'VIRTIO_IOMMU_FAULT_R_UNKNOWN', text: 'unknown fault reason (printed "unknown")' },
  1: { name: 'VIRTIO_IOMMU_FAULT_R_DOMAIN', text: 'the endpoint is not attached to any domain (printed "domain")' },
  2: { name: 'VIRTIO_IOMMU_FAULT_R_MAPPING', text: 'the address is not mapped in the endpoint\'s domain, or the access is not permitted (printed "page")' },
};

const virtioReason: RegisterDescription = {
  id: 'virtio-iommu.reason', family: 'virtio-iommu', name: 'fault reason', key: 'reason', width: 32,
  title: 'virtio-iommu fault reason',
  source: 'include/uapi/linux/virtio_iommu.h',
  fields: [{ name: 'REASON', bits: [7, 0], title: 'Fault reason', values: VIRTIO_FAULT_REASONS }],
};

const virtioFlags: RegisterDescription = {
  id: 'virtio-iommu.flags', family: 'virtio-iommu', name: 'fault flags', key: 'flags', width: 32,
  title: 'virtio-iommu fault flags',
  source: 'include/uapi/linux/virtio_iommu.h',
  fields: [
    { name: 'F_READ', bits: [0, 0], title: 'Read access' },
    { name: 'F_WRITE', bits: [1, 1], title: 'Write access' },
    { name: 'F_EXEC', bits: [2, 2], title: 'Execute access' },
    { name: 'F_ADDRESS', bits: [8, 8], title: 'Address valid', doc: 'the address field is valid' },
  ],
};

export const ARM_SMMU_V3_REGISTERS: readonly RegisterDescription[] = [
  event0, event1, event2, event3, gerror, cmdqCons, cmd0, cmd1, pri0, pri1,
];

export const VIRTIO_IOMMU_REGISTERS: readonly RegisterDescription[] = [virtioReason, virtioFlags];
