/**
 * Everything the extension needs only after activation — recognisers, register tables, hover,
 * background scanning, analysis, snapshot loading and the walk engines — bundled apart
 * (dist/extension-engine.js) and required on first use, so that activation parses and evaluates
 * only the light wiring. lazy.ts is the only module that loads it.
 */
export * as scanner from '../core/logs/scanner';
export * as explain from '../core/decode/explain';
export * as registers from '../core/decode/registers';
export * as scanAsync from './scan-async';
export * as inputFormat from '../node/input-format';
export * as recordAtLine from './record-at-line';
export * as recordMarkdown from './record-markdown';
export * as hover from './hover';
export * as logAnalysis from './log-analysis';
export * as snapshotLoader from '../node/load-snapshot';
export * as walkEngine from '../core/walk';
