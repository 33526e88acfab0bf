// Status checks: ask each node's agent for its status, record the finished check (status only
// changes on a finished check), and note status changes as fleet events.
import { CommandFailed, NodeUnreachable } from '../errors.ts';
import { recordEvent } from '../events.ts';
import type { Ocm } from '../ocm.ts';
import type { FleetAccess } from './access.ts';

export interface NodeCheck {
  id: string;
  ok: boolean;
  status: 'online' | 'degraded' | 'offline' | 'error';
  cpu_pct: number | null;
  mem_pct: number | null;
  disk_pct: number | null;
  uptime_s: number | null;
  load1: number | null;
  openclaw_version: string | null;
  openclaw_running: boolean | null;
  agent_version: string | null;
  error: string | null;
  checked_in_ms: number;
}

export function fleetAccess(ocm: Ocm): FleetAccess {
  if (!ocm.access) throw new Error('node access is not set up in this OCM instance');
  return ocm.access as FleetAccess;
}

export async function checkNode(ocm: Ocm, id: string, timeoutMs: number): Promise<NodeCheck> {
  const started = performance.now();
  const empty = {
    cpu_pct: null,
    mem_pct: null,
    disk_pct: null,
    uptime_s: null,
    load1: null,
    openclaw_version: null,
    openclaw_running: null,
    agent_version: null,
  };
  let check: NodeCheck;
  let change: { previous: string; current: string };
  try {
    const s = await fleetAccess(ocm).status(id, timeoutMs);
    const running = s.openclaw.running;
    const status = s.openclaw.installed && running ? 'online' : 'degraded';
    const detail = !s.openclaw.installed
      ? 'OpenClaw is not installed'
      : running
        ? null
        : 'OpenClaw gateway is not running';
    change = ocm.nodes.recordCheck(id, {
      ok: true,
      status,
      detail,
      metrics: {
        cpu_pct: s.cpu_pct,
        mem_pct: s.mem_pct,
        disk_pct: s.disk_pct,
        uptime_s: s.uptime_s,
        load1: s.load1,
        openclaw_running: running,
      },
      agentVersion: s.agent_version,
      openclawVersion: s.openclaw.version,
      os: s.os ?? null,
    });
    check = {
      id,
      ok: true,
      status,
      ...empty,
      cpu_pct: s.cpu_pct,
      mem_pct: s.mem_pct,
      disk_pct: s.disk_pct,
      uptime_s: s.uptime_s,
      load1: s.load1,
      openclaw_version: s.openclaw.version,
      openclaw_running: running,
      agent_version: s.agent_version,
      error: detail,
      checked_in_ms: 0,
    };
  } catch (err) {
    if (!(err instanceof NodeUnreachable || err instanceof CommandFailed)) throw err;
    const status = err instanceof NodeUnreachable ? 'offline' : 'error';
    change = ocm.nodes.recordCheck(id, { ok: false, status, detail: err.message });
    check = { id, ok: false, status, ...empty, error: err.message, checked_in_ms: 0 };
  }
  check.checked_in_ms = Math.round(performance.now() - started);
  if (change.previous !== change.current) noteChange(ocm, id, check, change.previous);
  return check;
}

function noteChange(ocm: Ocm, id: string, check: NodeCheck, previous: string): void {
  const severity =
    check.status === 'offline' || check.status === 'error'
      ? 'error'
      : check.status === 'degraded'
        ? 'warn'
        : 'info';
  recordEvent(ocm.db, {
    node: id,
    type: 'status',
    severity,
    message: `${id} is ${check.status}${check.error ? `: ${check.error}` : ''} (was ${previous})`,
  });
}
