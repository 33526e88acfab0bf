// Issue #3 acceptance 4 and issue #5 acceptance 1 and 3, as a newcomer meets OCM: `npm run demo`
// brings up a simulated fleet; `ocm call cluster_status` works against it; Chromium logs in to the
// status page, sees every node card with the values cluster_status returned, opens a node, sees its
// backups and a real diff; screenshots at desktop and phone widths land in tests/artifacts/.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPct } from '../../web/views/format.ts';
import { type Browser, launchChromium } from '../helpers/chromium.ts';
import { OCM_BIN, REPO } from '../helpers/ocm-env.ts';

const run = promisify(execFile);
const PASSWORD = 'demo-e2e-password';
const artifacts = join(REPO, 'tests', 'artifacts');
let dir: string;
let demo: ChildProcess;
let base: string;
let context: BrowserContext;
let browser: Browser;

const env = () => ({
  ...(process.env as Record<string, string>),
  OCM_DATA_DIR: join(dir, 'data'),
  OCM_LOG_LEVEL: 'warn',
});
async function ocmCall(tool: string, args: Record<string, unknown> = {}) {
  const { stdout } = await run(
    process.execPath,
    [OCM_BIN, 'call', tool, '--args', JSON.stringify(args), '--json'],
    { cwd: REPO, env: env(), timeout: 120_000 },
  );
  return JSON.parse(stdout);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocm-demo-'));
  demo = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'mcp-server/demo.ts')], {
    cwd: REPO,
    env: { ...env(), OCM_HTTP_PORT: '0', OCM_WEB_PASSWORD: PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`demo did not come up:\n${out}`)), 120_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Status page : (http:\/\/[^/\s]+)\//.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    demo.stdout?.on('data', read);
    demo.stderr?.on('data', read);
    demo.once('exit', (code) => reject(new Error(`demo exited (${code}):\n${out}`)));
  });
  browser = await launchChromium();
  context = browser.context;
  mkdirSync(artifacts, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the demo', () => {
  let status: { summary: Record<string, number>; nodes: Record<string, any>[] };

  it('runs a working fleet that `ocm call cluster_status` can see', async () => {
    status = await ocmCall('cluster_status');
    expect(status.summary).toMatchObject({ total: 5, online: 5 });
    expect(status.nodes.map((n) => n.id)).toEqual(['g3s-01', 'g3s-02', 'g3s-03', 'g3s-04', 'mini-01']);
    expect(status.nodes.find((n) => n.id === 'g3s-04')?.openclaw_version).toBe('2026.8.2');
  });

  it('shows every node card in Chromium with the values cluster_status returned', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/`);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
    expect(await page.locator('.card').count()).toBe(status.nodes.length);
    for (const node of status.nodes) {
      const card = page.locator(`.card[data-node="${node.id}"]`);
      expect(await card.getAttribute('data-status')).toBe(node.status);
      expect(await card.locator('[data-field=cpu]').textContent()).toBe(formatPct(node.cpu_pct));
      expect(await card.locator('[data-field=ram]').textContent()).toBe(formatPct(node.mem_pct));
      expect(await card.locator('[data-field=version]').textContent()).toBe(`v${node.openclaw_version}`);
    }
    expect(await page.textContent('[data-field=online]')).toBe('5/5');
    await page.screenshot({ path: join(artifacts, 'demo-overview-1280.png'), fullPage: true });

    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${base}/`);
    expect(await phone.locator('.card').count()).toBe(5);
    await phone.screenshot({ path: join(artifacts, 'demo-overview-390.png'), fullPage: true });
    await phone.close();
  });

  it('opens a node and shows its backups and the diff of a real change', async () => {
    appendFileSync(
      join(dir, 'data', 'fleet', 'g3s-03', 'state', 'workspace', 'SOUL.md'),
      '\nSpeak like a lighthouse keeper.\n',
    );
    const backup = await ocmCall('backup_node', { id: 'g3s-03', note: 'demo e2e' });
    expect(backup.changed).toBe(true);

    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/`);
    await Promise.all([page.waitForURL(`${base}/nodes/g3s-03`), page.click('.card[data-node="g3s-03"]')]);
    expect(await page.locator('table.backups tbody tr').count()).toBe(2);
    expect(await page.locator('table.backups tbody tr').first().textContent()).toContain('g3s-03/manual/');
    await Promise.all([
      page.waitForURL(/\/diff\?/),
      page.locator('table.backups tbody tr').first().locator('a', { hasText: 'changes' }).click(),
    ]);
    expect(await page.locator('.diff .add').allTextContents()).toContain('+Speak like a lighthouse keeper.');
    await page.screenshot({ path: join(artifacts, 'demo-diff-1280.png'), fullPage: true });
  });
});
