/**
 * Errors about a snapshot the user gave us. They always name the file and, where it makes sense,
 * the JSON field or the byte offset, because the person reading them has to fix that file.
 */
export class SnapshotError extends Error {
  constructor(
    readonly file: string,
    readonly where: string | undefined,
    readonly problem: string,
  ) {
    super(where ? `${file}: ${where}: ${problem}` : `${file}: ${problem}`);
    this.name = 'SnapshotError';
  }
}

/** Several manifest problems reported at once, so a hand-written manifest is fixed in one pass. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(problems.map((p) => `${file}: ${p.path ? p.path + ': ' : ''}${p.message}`).join('\n'));
    this.name = 'ManifestError';
  }
}
