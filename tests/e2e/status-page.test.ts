// The status page in a real browser: Debian Chromium driven by playwright-core, against the app
// served by @hono/node-server over a real SQLite data dir. Writes screenshots to tests/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../mcp-server/config.ts';
import { type Ocm, openOcm } from '../../mcp-server/ocm.ts';
import { createWebApp } from '../../web/app.ts';
import type { BackupDiffFn } from '../../web/views/diff.ts';
import { formatPct } from '../../web/views/format.ts';
import { type SeededFleet, seedFleet } from '../fixtures/status-fleet.ts';
import { type Browser, launchChromium } from '../helpers/chromium.ts';

const PASSWORD = 'e2e-dashboard-password';
const artifacts = join(import.meta.dirname, '..', 'artifacts');

// Stands in for the backup pipeline's diff, which is plugged in through the app's options.
const backupDiff: BackupDiffFn = async (node, from, to) => ({
  config_changes: [
    {
      path: 'agents.defaults.model.primary',
      change: 'changed',
      before: 'anthropic/claude-sonnet-4',
      after: 'anthropic/claude-sonnet-4-5',
    },
    {
      path: 'channels.telegram.botToken',
      change: 'changed',
      before: '<redacted:a1b2>',
      after: '<redacted:c3d4>',
    },
  ],
  files: [
    {
      path: 'workspace/SOUL.md',
      diff: `--- a/workspace/SOUL.md (${from.slice(0, 8)})\n+++ b/workspace/SOUL.md (${to.slice(0, 8)})\n@@ -1,3 +1,3 @@\n # ${node}\n-You are terse.\n+You are warm and concise.\n Answer in English.\n`,
    },
  ],
});

describe('status page in Chromium', () => {
  let dir: string;
  let ocm: Ocm;
  let fleet: SeededFleet;
  let server: ServerType;
  let base: string;
  let context: BrowserContext;
  let browser: Browser;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocm-e2e-web-'));
    ocm = await openOcm({ config: loadConfig({ OCM_DATA_DIR: join(dir, 'data') }, dir) });
    fleet = seedFleet(ocm, { nodes: 7, days: 30, eventsPerDay: 2 });
    // One node in the middle of an operation, as the lock table shows it.
    await ocm.locks.acquire('node:g3s-02', 'cli:e2e', 'backup_node');
    const app = createWebApp(ocm, { password: PASSWORD, backupDiff });
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    context = browser.context;
    context.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) cspViolations.push(msg.text());
    });
    mkdirSync(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await ocm?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in, shows every node card with its values, refreshes live, and is screenshotted at 1280 px', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#password', 'wrong password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.notice.error')).toContain('Wrong password');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);

    const nodes = ocm.nodes.list();
    expect(await page.locator('.card').count()).toBe(nodes.length);
    for (const node of nodes) {
      const card = page.locator(`.card[data-node="${node.id}"]`);
      await expect.poll(() => card.isVisible()).toBe(true);
      expect(await card.getAttribute('data-status')).toBe(node.status);
      expect(await card.locator('[data-field=score]').textContent()).toBe(String(node.last_score));
      expect(await card.locator('[data-field=version]').textContent()).toBe(`v${node.openclaw_version}`);
      if (node.status === 'online' || node.status === 'degraded') {
        expect(await card.locator('[data-field=cpu]').textContent()).toBe(formatPct(node.metrics?.cpu_pct));
        expect(await card.locator('[data-field=ram]').textContent()).toBe(formatPct(node.metrics?.mem_pct));
      } else {
        expect(await card.textContent()).toContain('OFFLINE');
      }
    }
    expect(await page.locator('.card[data-node="g3s-02"] [data-field=busy]').textContent()).toContain(
      'backup_node',
    );
    expect(await page.textContent('[data-field=online]')).toBe(`${fleet.ids.length - 1}/${fleet.ids.length}`);

    // Live refresh through htmx (under the CSP): a finished check shows up without a reload.
    const target = fleet.ids[2] as string;
    ocm.nodes.recordCheck(target, { ok: true, metrics: { cpu_pct: 77, mem_pct: 41 } });
    await expect
      .poll(() => page.locator(`.card[data-node="${target}"] [data-field=cpu]`).textContent(), {
        timeout: 20_000,
        interval: 500,
      })
      .toBe('77%');

    await page.screenshot({ path: join(artifacts, 'status-overview-1280.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  });

  it('opens a node and sees its backups and a diff', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/`);
    const id = fleet.diffNode;
    await Promise.all([page.waitForURL(`${base}/nodes/${id}`), page.click(`.card[data-node="${id}"]`)]);
    expect(await page.textContent('h1')).toContain(id);
    const commits = fleet.commits.get(id) as string[];
    expect(await page.locator('table.backups tbody tr').count()).toBe(Math.min(15, commits.length));
    // The newest backup's row, and the latest change rendered from the diff pipeline.
    expect(await page.locator('table.backups tbody tr').first().textContent()).toContain(
      (commits[commits.length - 1] as string).slice(0, 8),
    );
    expect(await page.textContent('.diff-view')).toContain('agents.defaults.model.primary');
    expect(await page.locator('svg.radar').count()).toBe(1);
    expect(await page.locator('.chart-wide svg.trend polyline').count()).toBe(1);
    expect(await page.locator('.chart-wide svg.trend').isVisible()).toBe(true);
    expect(await page.locator('.chart-narrow svg.trend').isVisible()).toBe(false);
    await page.screenshot({ path: join(artifacts, 'status-node-1280.png'), fullPage: true });

    await Promise.all([
      page.waitForURL(/\/diff\?/),
      page.locator('table.backups tbody tr').first().locator('a', { hasText: 'changes' }).click(),
    ]);
    expect(await page.locator('.diff .add').first().textContent()).toBe('+You are warm and concise.');
    expect(await page.locator('.diff .del').first().textContent()).toBe('-You are terse.');
    expect(await page.textContent('table.config-changes')).toContain('anthropic/claude-sonnet-4-5');
    expect(cspViolations).toEqual([]);
  });

  it('fits a 390 px phone without sideways scrolling', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/`);
    expect(await page.locator('.card').count()).toBe(fleet.ids.length);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(artifacts, 'status-overview-390.png'), fullPage: true });
    await page.goto(`${base}/nodes/${fleet.diffNode}`);
    // The phone gets the chart drawn for its width, so the axis text stays readable.
    expect(await page.locator('.chart-narrow svg.trend').isVisible()).toBe(true);
    expect(await page.locator('.chart-wide svg.trend').isVisible()).toBe(false);
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
    ).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(artifacts, 'status-node-390.png'), fullPage: true });
    await page.close();
    expect(cspViolations).toEqual([]);
  });
});
