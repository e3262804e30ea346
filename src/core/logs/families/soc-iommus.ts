/**
 * The small SoC IOMMUs, each in a file of its own, in the order they are tried. Rockchip's
 * "BUS_ERROR occurred at" comes before Exynos' "... occurred at" so each keeps its own lines.
 */
import type { Recognizer } from '../recognizer';
import { rockchipRecognizer } from './rockchip';
import { mediatekRecognizer } from './mediatek';
import { appleDartRecognizer } from './apple-dart';
import { exynosRecognizer } from './exynos';
import { tegraRecognizer } from './tegra';
import { ipmmuRecognizer } from './ipmmu';
import { sun50iRecognizer } from './sun50i';
import { omapIommuRecognizer } from './omap-iommu';
import { remoteprocRecognizer } from './remoteproc';
import { riscvIommuRecognizer } from './riscv-iommu';

export const SOC_IOMMU_RECOGNIZERS: readonly Recognizer[] = [
  rockchipRecognizer,
  mediatekRecognizer,
  appleDartRecognizer,
  exynosRecognizer,
  tegraRecognizer,
  ipmmuRecognizer,
  sun50iRecognizer,
  omapIommuRecognizer,
  remoteprocRecognizer,
  riscvIommuRecognizer,
];
