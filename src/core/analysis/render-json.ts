/** The report as JSON: the Report object itself (format "iommu-lens-report", version 1). */
import type { Report } from './report';

export function reportToJson(r: Report): string {
  return JSON.stringify(r, null, 2) + '\n';
}
