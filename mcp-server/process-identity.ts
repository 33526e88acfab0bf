// Who "this process" is in shared SQLite rows (locks, journal), and whether another row's process
// is still alive. Liveness can only be checked for processes on the same host; rows from other
// hosts are judged by their heartbeat instead.
import { hostname } from 'node:os';

export const HOST = hostname();
export const PID = process.pid;

export function isProcessAlive(pid: number, host: string): boolean | null {
  if (host !== HOST) return null;
  if (pid === PID) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
