// The names of backup points in the git repo, built and recognised in one place. A name a caller
// gives us reaches git only after it matched one of these shapes exactly, so nothing like
// `--upload-pack=…`, `main..HEAD` or `HEAD~3` is ever passed through.

import { NODE_ID_PATTERN, refTimestamp } from '../ids.ts';

export const TAG_TYPES = ['stable', 'manual', 'rollback', 'pre-rollback', 'pre-update'] as const;
export type TagType = (typeof TAG_TYPES)[number];

/** What a backup-point name refers to. `at` is epoch ms, read back from the ref-safe timestamp. */
export type RefName =
  | { kind: 'node-tag'; name: string; node: string; type: TagType; at: number; seq: number }
  | { kind: 'deploy-tag'; name: string; version: string }
  | { kind: 'main'; name: 'main' }
  | { kind: 'head'; name: 'HEAD' }
  | { kind: 'stable-branch'; name: string; node: string }
  | { kind: 'snapshot-branch'; name: string; node: string; at: number; seq: number }
  | { kind: 'commit'; name: string };

const NODE = NODE_ID_PATTERN.source.slice(1, -1);
const STAMP = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}Z)';
/** `-2`, `-3`… when two points of the same kind fall in the same second. */
const SEQ = '(?:-([2-9]|[1-9]\\d{1,3}))?';
const TYPE = `(${TAG_TYPES.map((t) => t.replace('-', '\\-')).join('|')})`;
/** A release version as OpenClaw numbers them: 2026.9.6, 1.8.2, 2026.9.6-beta.1. */
const VERSION = '(\\d+(?:\\.\\d+){1,3}(?:-[0-9A-Za-z]+(?:\\.[0-9A-Za-z]+)*)?)';

const NODE_TAG = new RegExp(`^(${NODE})/${TYPE}/${STAMP}${SEQ}$`);
const DEPLOY_TAG = new RegExp(`^all/deploy/v${VERSION}$`);
const STABLE_BRANCH = new RegExp(`^stable/(${NODE})$`);
const SNAPSHOT_BRANCH = new RegExp(`^snapshots/(${NODE})/${STAMP}${SEQ}$`);
const COMMIT = /^[0-9a-f]{7,40}$/;
export const VERSION_PATTERN = new RegExp(`^${VERSION}$`);

/** `2026-02-15T08-00-00Z` → epoch ms, or NaN if it is not a real instant (month 13, hour 25…). */
export function parseRefTimestamp(stamp: string): number {
  const iso = stamp.replace(/^(\d{4}-\d{2}-\d{2}T)(\d{2})-(\d{2})-(\d{2})Z$/, '$1$2:$3:$4Z');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) || refTimestamp(ms) !== stamp ? Number.NaN : ms;
}

/**
 * Recognises a backup-point name, or returns null. Some names fit two shapes (a node called
 * `snapshots` with a `stable` tag reads like node `stable`'s snapshot branch): those come back
 * as every reading, tag first.
 */
export function parseRefNames(name: string): RefName[] {
  if (name.length > 200) return [];
  const found: RefName[] = [];
  let m = NODE_TAG.exec(name);
  if (m) {
    const at = parseRefTimestamp(m[3] as string);
    if (!Number.isNaN(at)) {
      found.push({
        kind: 'node-tag',
        name,
        node: m[1] as string,
        type: m[2] as TagType,
        at,
        seq: Number(m[4] ?? 1),
      });
    }
  }
  m = SNAPSHOT_BRANCH.exec(name);
  if (m) {
    const at = parseRefTimestamp(m[2] as string);
    if (!Number.isNaN(at))
      found.push({ kind: 'snapshot-branch', name, node: m[1] as string, at, seq: Number(m[3] ?? 1) });
  }
  if (found.length > 0) return found;

  if (name === 'main') return [{ kind: 'main', name }];
  if (name === 'HEAD') return [{ kind: 'head', name }];
  m = DEPLOY_TAG.exec(name);
  if (m) return [{ kind: 'deploy-tag', name, version: m[1] as string }];
  m = STABLE_BRANCH.exec(name);
  if (m) return [{ kind: 'stable-branch', name, node: m[1] as string }];
  if (COMMIT.test(name)) return [{ kind: 'commit', name }];
  return [];
}

/** The full git ref a parsed name stands for (`refs/tags/…`, `refs/heads/…`, or the hash itself). */
export function fullRef(ref: RefName): string {
  switch (ref.kind) {
    case 'node-tag':
    case 'deploy-tag':
      return `refs/tags/${ref.name}`;
    case 'main':
    case 'stable-branch':
    case 'snapshot-branch':
      return `refs/heads/${ref.name}`;
    case 'head':
    case 'commit':
      return ref.name;
  }
}

const withSeq = (base: string, seq: number) => (seq === 1 ? base : `${base}-${seq}`);

/** `g3s-01/stable/2026-02-15T08-00-00Z`, then `…Z-2` for a second one in the same second. */
export function nodeTagName(node: string, type: TagType, at: number, seq = 1): string {
  return withSeq(`${node}/${type}/${refTimestamp(at)}`, seq);
}

export function snapshotBranchName(node: string, at: number, seq = 1): string {
  return withSeq(`snapshots/${node}/${refTimestamp(at)}`, seq);
}

export function stableBranchName(node: string): string {
  return `stable/${node}`;
}

export function deployTagName(version: string): string {
  return `all/deploy/v${version}`;
}

export const REF_SHAPES_HELP =
  'a tag such as g3s-01/stable/2026-02-15T08-00-00Z or all/deploy/v2026.9.6, a branch (main, ' +
  'stable/<node>, snapshots/<node>/<timestamp>) or a commit hash of 7-40 hex digits';
