/** What a command run inside a host (or the peer) returned. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}
