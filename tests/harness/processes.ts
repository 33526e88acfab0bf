// Is a process still there? For tests that check nothing was left running.
import { readFileSync } from 'node:fs';

/**
 * Alive and not a zombie: on this machine an exited orphan may wait long for its reaper, and
 * `kill -0` still succeeds on it.
 */
export function isAlive(processId: number | null | undefined): boolean {
  if (!processId) return false;
  try {
    process.kill(processId, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${processId}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}
