/**
 * How to silence a fault storm on each architecture, and when turning reporting back on is safe.
 * Always advice with its trade-off: every knob that silences the IOMMU also hides the next real
 * fault of that device, and some change what the device sees (abort versus read-as-zero).
 */

export interface StormAdvice {
  /** the mechanism, named as the architecture spells it */
  silence: string;
  /** what it costs */
  tradeOff: string;
  /** device-side alternative */
  device: string;
  /** when re-enabling fault reporting is safe */
  reEnable: string;
}

const DEVICE_SIDE =
  'Stop the device instead: clear Bus Master Enable in its PCI command register (`setpci -s BDF COMMAND=0:4` clears bit 2) or reset the function ' +
  '(`echo 1 > /sys/bus/pci/devices/BDF/reset`, FLR). Trade-off: the device stops (or loses its state) and its driver must be re-probed; ' +
  'a device that is not PCI needs its own reset (clock/reset controller) or its driver unbound.';

const RE_ENABLE_COMMON =
  'Re-enable once the DMA source is stopped or fixed: the driver is unbound or re-probed after a reset, its buffers are mapped before the device is started, ' +
  'and a short test run shows no new fault of this device. Re-enabling while the device still runs the same DMA brings the storm straight back.';

const ADVICE: Record<string, StormAdvice> = {
  'intel-vtd': {
    silence:
      'Set FPD (Fault Processing Disable, bit 1) in the device\'s context entry (legacy mode), or in its scalable-mode PASID entry / PASID directory entry; ' +
      'then invalidate the context cache (and PASID cache) for that source ID. Qualified faults of that device are then neither recorded nor reported.',
    tradeOff:
      'The DMA is still blocked, only the reporting stops: the device keeps failing silently and later faults of a real bug are invisible. ' +
      'FPD is per context/PASID entry, so all PASIDs behind that entry go quiet.',
    device: DEVICE_SIDE,
    reEnable: RE_ENABLE_COMMON + ' Clear FPD and invalidate the context cache again.',
  },
  'arm-smmu': {
    silence:
      'In the context bank\'s SCTLR clear CFIE (bit 6, context fault interrupt enable) so faults no longer interrupt; FSR still records the first fault. ' +
      'Clearing CFRE (bit 5) stops the abort being returned to the device: its faulting reads then return zero and writes are dropped.',
    tradeOff:
      'With CFIE clear nothing is logged and FSR stays set with the first fault only. With CFRE clear the device gets no error at all: ' +
      'silent data corruption instead of a bus error. If CFCFG (bit 7) stalls on fault, a transaction left stalled blocks the stream until RESUME.',
    device: DEVICE_SIDE,
    reEnable: RE_ENABLE_COMMON + ' Clear FSR (write 1s) before setting CFIE again, or the old fault fires immediately.',
  },
  'arm-smmu-v3': {
    silence:
      'Point the stream\'s STE at Config = 0b000 (abort): every transaction of that StreamID is aborted without an event record. ' +
      'Narrower: clear CD.R (stage-1 faults) or STE.S2R (stage-2 faults) so that translation faults are not recorded, then CMD_CFGI_STE/CD and CMD_SYNC.',
    tradeOff:
      'Config=abort stops all DMA of the stream, good and bad; CD.R/S2R = 0 hides the faults but the device still gets aborts. ' +
      'Events of other streams keep the event queue, so a storm that was overflowing it (EVTQ overflow) also stops losing their events.',
    device: DEVICE_SIDE,
    reEnable: RE_ENABLE_COMMON + ' Restore the STE/CD, issue CMD_CFGI_STE (or CFGI_CD) and CMD_SYNC, then watch the event queue.',
  },
  'amd-vi': {
    silence:
      'Set SA (bit 98, suppress all I/O page-fault events) or SE (bit 97, suppress repeated page-fault events) in the device\'s DTE, ' +
      'then INVALIDATE_DEVTAB_ENTRY and COMPLETION_WAIT.',
    tradeOff:
      'The IOMMU still blocks the DMA; only the event log goes quiet, for this device ID (and the aliases that share its DTE). ' +
      'SE keeps the first event of each kind, SA hides everything.',
    device: DEVICE_SIDE,
    reEnable: RE_ENABLE_COMMON + ' Clear SA/SE and invalidate the DTE again.',
  },
};

const GENERIC: StormAdvice = {
  silence: 'This IOMMU has no per-device fault-suppression control that Linux exposes; silence the source device instead.',
  tradeOff: 'Masking the IOMMU\'s fault interrupt would also hide every other device\'s faults.',
  device: DEVICE_SIDE,
  reEnable: RE_ENABLE_COMMON,
};

/** Advice for a storm of this family (Xen-printed storms get the same hardware advice; Xen sets the bits). */
export function stormAdvice(family: string, host?: string): StormAdvice {
  const a = ADVICE[family] ?? GENERIC;
  if (host !== 'xen') return a;
  return {
    ...a,
    silence: a.silence + ' Under Xen these structures belong to the hypervisor: only Xen can change them (no dom0 knob); from dom0, stop or reset the device, or de-assign it from the guest.',
  };
}
