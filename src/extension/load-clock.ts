/**
 * Imported by extension.ts before its other modules, so this runs before any other module of the
 * bundle: the start of the extension's own code, for the activation time the integration run reports.
 */
export const moduleStart = performance.now();
export const moduleStartCpu = process.cpuUsage();
