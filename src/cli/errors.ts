/** An error meant for the user: printed as "iommu-lens: MESSAGE" with no stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/** Describe a Node file-system error the way shell users expect ("No such file or directory"). */
export function fileError(path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOENT' ? 'no such file or directory'
    : code === 'EACCES' ? 'permission denied'
    : code === 'EISDIR' ? 'is a directory'
    : err instanceof Error ? err.message : String(err);
  return new CliError(`${path}: ${why}`);
}
