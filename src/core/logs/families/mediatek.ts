/**
 * MediaTek IOMMU (drivers/iommu/mtk_iommu.c, mtk_iommu_v1.c), dev_err_ratelimited:
 *
 *   ≥ 5.16 (v2)  mtk-iommu 14016000.iommu: fault type=0x5 iova=0xfec23000 pa=0x0 master=0x51000008(larb=0 port=2) layer=1 read
 *   older  (v2)  mtk-iommu 10205000.iommu: fault type=0x5 iova=0xfcff0001 pa=0x0 larb=0 port=0 layer=1 read
 *   v1           fault type=0x%x iova=0x%x pa=0x%x larb=%d port=%d            (no direction printed)
 *
 * type= is REG_MMU_FAULT_ST1 (the int_state), master= is REG_MMU0_INT_ID.
 */
import type { Recognizer } from '../recognizer';
import type { FaultRecord } from '../record';
import { hex } from '../normalize';
import { decodedFields } from '../../decode/register';
import { MTK_FAULT_ST1, MTK_INT_ID } from '../../decode/registers/soc-iommus';
import { devPrefixAt } from './dev-prefix';

const FAMILY = 'mediatek';
const RE = /fault type=(0x[0-9a-fA-F]{1,8}) iova=(0x[0-9a-fA-F]{1,16}) pa=(0x[0-9a-fA-F]{1,16})(?: master=(0x[0-9a-fA-F]{1,8})\(larb=(\d{1,3}) port=(\d{1,3})\)| larb=(\d{1,3}) port=(\d{1,3}))(?: layer=(\d) (read|write))?\s*$/;

export const mediatekRecognizer: Recognizer = {
  family: FAMILY,
  keys: ['fault type='],
  recognize(line) {
    const m = RE.exec(line.message);
    if (!m) return undefined;
    const p = devPrefixAt(line.message, m.index);
    const rec: FaultRecord = { line: line.line, family: FAMILY, kind: 'page-fault', iova: hex(m[2]!) };
    if (p) rec.iommu = p.device;
    const larb = Number(m[5] ?? m[7]);
    const port = Number(m[6] ?? m[8]);
    rec.device = `larb${larb}/port${port}`;
    if (m[10]) rec.access = m[10];
    const st1 = hex(m[1]!)!;
    rec.registers = { fault_st1: st1 };
    const d: Record<string, unknown> = { pa: hex(m[3]!), larb, port };
    d.fault_st1 = decodedFields(MTK_FAULT_ST1, BigInt(st1));
    if (m[4]) {
      rec.registers.int_id = hex(m[4])!;
      rec.streamId = rec.registers.int_id;
      d.int_id = decodedFields(MTK_INT_ID, BigInt(m[4]));
    }
    if (m[9] !== undefined) d.layer = Number(m[9]);
    rec.decoded = d;
    const set = MTK_FAULT_ST1.fields.filter((f) => (Number(BigInt(st1) >> BigInt(f.bits[0])) & 1) === 1);
    const names = set.map((f) => f.name);
    const texts = set.map((f) => f.doc ?? f.title);
    rec.reason = {
      code: st1,
      name: names.length ? names.join('+') : 'FAULT',
      text: `${texts.length ? texts.join('; ') : 'fault'}; master larb ${larb} port ${port}${rec.access ? `, ${rec.access}` : ''}`,
    };
    return { record: rec };
  },
};
