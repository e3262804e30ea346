/**
 * Apple DART (drivers/iommu/apple-dart.c), dev_err_ratelimited without a newline:
 *
 *   apple-dart 382f00000.iommu: translation fault: status:0x%x stream:%d code:0x%x (%s) at 0x%llx
 *
 * Two register layouts print the same text (T8020/T6000 and T8110); which one it is follows from
 * the printed status: its stream and code fields must agree with the printed stream and code.
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields, type RegisterDescription } from '../../decode/register';
import { DART_T8020_ERROR, DART_T8110_ERROR } from '../../decode/registers/soc-iommus';
import { devPrefixAt } from './dev-prefix';
import { byPatterns, wrappedContinuation } from './wrapped';

const FAMILY = 'apple-dart';
const RE = /translation fault: status:(0x[0-9a-fA-F]{1,8}|0) stream:(\d{1,3}) code:(0x[0-9a-fA-F]{1,8}|0) \(([A-Za-z ]{3,24})\) at (0x[0-9a-fA-F]{1,16}|0)/;

const NAMES: Readonly<Record<string, string>> = {
  'READ FAULT': 'read from a page mapped without read permission',
  'WRITE FAULT': 'write to a page mapped without write permission',
  'NO PTE FOR IOVA': 'leaf entry invalid: the page is not mapped',
  'NO PMD FOR IOVA': 'second-level entry invalid: nothing mapped in this region',
  'NO PGD FOR IOVA': 'top-level entry invalid: nothing mapped in this region',
  'NO TTBR FOR IOVA': 'no translation table base for the stream: stream not attached to a domain',
};

/** Which layout printed this status, from the fields the driver extracted out of it. */
function layoutOf(status: number, stream: number, code: number, name: string): RegisterDescription {
  const t8020 = ((status >>> 24) & 0xf) === stream && (status & 0xfff) === code;
  const t8110 = ((status >>> 20) & 0xff) === stream && (status & 0x7fff) === code;
  if (t8020 !== t8110) return t8110 ? DART_T8110_ERROR : DART_T8020_ERROR;
  // Both fit: the code's bit position tells (READ FAULT is bit 4 on T8020, bit 5 on T8110).
  const t8110Bits: Record<string, number> = { 'READ FAULT': 5, 'WRITE FAULT': 4, 'NO PTE FOR IOVA': 3, 'NO PMD FOR IOVA': 2, 'NO PGD FOR IOVA': 1 };
  const b = t8110Bits[name];
  return b !== undefined && code === 1 << b ? DART_T8110_ERROR : DART_T8020_ERROR;
}

// The start of a print wrapped after "status:" or "stream:" (mail, markdown notes).
const RE_HEAD = /translation fault: status:(0x[0-9a-fA-F]{1,8}|0)(?: stream:(\d{1,3}))?(?: code:(?:0x[0-9a-fA-F]{0,8})?(?: \([A-Za-z ]{0,24}\)?)?)?\s*$/;

/** Fill a record from a whole print. */
function fill(rec: FaultRecord, m: RegExpExecArray): void {
  const status = Number(BigInt(hex(m[1]!)!));
  const stream = Number(m[2]);
  const code = Number(BigInt(hex(m[3]!)!));
  const name = m[4]!;
  const desc = layoutOf(status, stream, code, name);
  rec.iova = hex(m[5]!);
  rec.streamId = hex(stream);
  if (name === 'READ FAULT') rec.access = 'read';
  if (name === 'WRITE FAULT') rec.access = 'write';
  rec.registers = { [desc.key]: hex(status)! };
  rec.decoded = { [desc.key]: decodedFields(desc, BigInt(status)), layout: desc === DART_T8110_ERROR ? 'T8110' : 'T8020' };
  // The driver prints "unknown" for a code it has no name for.
  rec.reason = { code: hex(code)!, name: name.toUpperCase().replace(/ /g, '_'), text: NAMES[name] ?? 'error code the driver does not name (several bits set?)' };
}

export const appleDartRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['translation fault: status:'],
  recognize(line) {
    const msg = line.message;
    const m = RE.exec(msg);
    const h = m ? null : RE_HEAD.exec(msg);
    const at = m?.index ?? h?.index;
    if (at === undefined) return undefined;
    const p = devPrefixAt(msg, at);
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault' };
    if (p) rec.iommu = p.device;
    if (m) {
      fill(rec, m);
      return { record: rec };
    }
    rec.registers = { error: hex(h![1]!)! };
    if (h![2] !== undefined) rec.streamId = hex(Number(h![2]));
    rec.reason = { name: 'TRANSLATION_FAULT', text: 'DART translation fault; the rest of the print was cut off' };
    const more = wrappedContinuation(h![0], byPatterns(RE, RE_HEAD, (f) => fill(rec, f), 2));
    return { record: rec, more };
  },
};
