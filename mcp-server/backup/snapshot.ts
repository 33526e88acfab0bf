// From a node's raw backup tar to the redacted file set that goes into git. Runs in memory only:
// no raw byte of a node's files is ever written to OCM's disk.
import { OperationFailed } from '../errors.ts';
import { findSecretShapes, parseConfig, redactConfig, redactText } from './redact.ts';
import { matchSecretShapes } from './secret-shapes.ts';

export interface RedactedSnapshot {
  /** Paths relative to `nodes/<id>/` in the backup repo. */
  files: Map<string, Buffer>;
  redactions: number;
  model: string | null;
}

const isText = (buf: Buffer) => !buf.includes(0) && Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);

/** Map the agent's tar layout to the repo layout, redacting every secret on the way. */
export function redactSnapshot(
  raw: Map<string, Buffer>,
  key: Buffer,
  metadata: Record<string, unknown>,
): RedactedSnapshot {
  const files = new Map<string, Buffer>();
  let redactions = 0;
  let model: string | null = null;
  for (const [name, content] of raw) {
    if (name === 'openclaw.json' || name === 'cron-export.json') {
      const redacted = redactConfig(content.toString('utf8'), key);
      redactions += redacted.redactedPaths.length;
      files.set(name === 'openclaw.json' ? 'config/openclaw.json' : name, Buffer.from(redacted.text));
      if (name === 'openclaw.json') model = modelOf(redacted.text);
    } else if (name.startsWith('workspace/')) {
      if (isText(content)) {
        const redacted = redactText(content.toString('utf8'), key);
        redactions += redacted.count;
        files.set(name, Buffer.from(redacted.text));
      } else {
        files.set(name, content);
      }
    }
  }
  const fileList = [...files.keys()].sort();
  files.set(
    'metadata.json',
    Buffer.from(`${JSON.stringify({ ...metadata, model, files: fileList }, null, 2)}\n`),
  );
  assertNoSecrets(files);
  return { files, redactions, model };
}

/** The final scan: refuse the whole snapshot if anything secret-shaped survived, in a name or a file. */
export function assertNoSecrets(files: Map<string, Buffer>): void {
  const findings: string[] = [];
  for (const [name, content] of files) {
    if (matchSecretShapes(name).length)
      findings.push(`a file name looks like a secret (${name.replace(/[A-Za-z0-9]{12,}/g, '…')})`);
    const text = isText(content) ? content.toString('utf8') : content.toString('latin1');
    for (const finding of findSecretShapes(text)) findings.push(`${name}:${finding.line} (${finding.kind})`);
  }
  if (findings.length) {
    throw new OperationFailed(
      `backup refused: secret-shaped text survived redaction in ${findings.slice(0, 10).join(', ')}; nothing was committed`,
    );
  }
}

function modelOf(configText: string): string | null {
  try {
    const config = parseConfig(configText) as {
      agents?: { defaults?: { model?: { primary?: unknown } | string } };
    };
    const model = config.agents?.defaults?.model;
    if (typeof model === 'string') return model;
    return typeof model?.primary === 'string' ? model.primary : null;
  } catch {
    return null;
  }
}
