// `npm run fleet -- <command>`: start, fault, inspect and stop a test fleet from a shell. `up`
// leaves every process running after it exits; the others find them again through D/fleet.json.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind, type NodeKind, openFleet, startFleet } from './fleet.ts';

const USAGE = `usage:
  npm run fleet -- up --nodes N [--kind sim|real] [--real K] [--test-nodes K] [--files N --file-bytes B] [--no-register] --dir D
  npm run fleet -- fault offline|online|slow|fast|rekey <node-id> [--delay-ms N] --dir D
  npm run fleet -- status [--json] --dir D
  npm run fleet -- down --dir D`;

class UsageError extends Error {}

function wholeNumber(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(raw))
    throw new UsageError(`--${name}: expected a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '__model-standin') return modelStandIn(rest[0]);

  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      nodes: { type: 'string' },
      kind: { type: 'string' },
      real: { type: 'string' },
      'test-nodes': { type: 'string' },
      files: { type: 'string' },
      'file-bytes': { type: 'string' },
      'no-register': { type: 'boolean' },
      'delay-ms': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.dir) throw new UsageError('--dir is required');
  const dir = resolve(values.dir);

  switch (command) {
    case 'up': {
      const kind = (values.kind ?? 'sim') as NodeKind;
      if (kind !== 'sim' && kind !== 'real')
        throw new UsageError(`--kind: sim or real, got ${JSON.stringify(values.kind)}`);
      const testNodes = wholeNumber('test-nodes', values['test-nodes'], 0);
      const fleet = await startFleet({
        dir,
        nodes: wholeNumber('nodes', values.nodes),
        kind,
        real: wholeNumber('real', values.real, 0),
        register: !values['no-register'],
        files: values.files === undefined ? undefined : wholeNumber('files', values.files),
        fileBytes:
          values['file-bytes'] === undefined ? undefined : wholeNumber('file-bytes', values['file-bytes']),
        roleOf: (index) => (index < testNodes ? 'test' : 'production'),
      });
      for (const node of fleet.nodes) {
        process.stdout.write(
          `${node.id}  ${node.kind}  ssh -p ${node.port} root@127.0.0.1  state ${node.stateDir}\n`,
        );
      }
      process.stdout.write(
        `\nfleet of ${fleet.nodes.length} up in ${dir}; for OCM: source ${resolve(dir, 'ocm.env')}\n`,
      );
      return;
    }
    case 'fault': {
      const [kind, id] = positionals;
      if (!kind || !FAULT_KINDS.includes(kind as FaultKind) || !id) {
        throw new UsageError(`fault: one of ${FAULT_KINDS.join('|')} and a node id`);
      }
      const delayMs =
        values['delay-ms'] === undefined ? undefined : wholeNumber('delay-ms', values['delay-ms']);
      await openFleet(dir).fault(kind as FaultKind, id, { delayMs });
      process.stdout.write(`${id}: ${kind}\n`);
      return;
    }
    case 'status': {
      const status = openFleet(dir).status();
      if (values.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      for (const node of status) {
        const slow = node.slowMs === null ? '' : `  slow ${node.slowMs} ms`;
        process.stdout.write(
          `${node.id}  ${node.kind}  port ${node.port}  sshd ${node.sshd}  gateway ${node.gateway}${slow}\n`,
        );
      }
      return;
    }
    case 'down':
      await openFleet(dir).stop();
      process.stdout.write(`fleet in ${dir} stopped (the directory is kept)\n`);
      return;
    default:
      throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command');
  }
}

/** The model stand-in for real nodes as its own process, so it outlives `up`. */
async function modelStandIn(infoFile: string | undefined): Promise<void> {
  if (!infoFile) throw new UsageError('__model-standin <info-file>');
  const { startModelStandIn } = await import('./model-standin.ts');
  const server = await startModelStandIn();
  writeFileSync(infoFile, `${JSON.stringify({ pid: process.pid, baseUrl: server.baseUrl })}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await new Promise<never>(() => undefined);
}

main(process.argv.slice(2)).then(
  // `up` leaves sshd children behind on purpose; exit instead of waiting for them.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`fleet: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
