/**
 * The HTML report in a real browser (Debian's chromium driven by playwright-core): no network,
 * no console errors, the timeline drawn, failures findable, nothing from a host executed.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import type { RunReport } from '../../src/report/report-types.js';
import { describeIntegration } from '../support/integration.js';
import { fail, hostNames, okv, reportOf, resultsFor } from './ci-fixtures.js';

export const CHROMIUM = '/usr/bin/chromium';

type Pw = typeof import('playwright-core');
let pw: Pw | undefined;
let pwError = '';
try {
  pw = await import('playwright-core');
} catch (e) {
  pwError = (e as Error).message;
}

function browserUnavailableReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install -y --no-install-recommends chromium)`;
  if (!pw) return `playwright-core cannot be loaded (npm ci): ${pwError}`;
  return undefined;
}

const INJECT = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;

function bigReport(): RunReport {
  const hosts = hostNames('web', 500);
  return reportOf([
    { name: 'call facts.os', targets: hosts, results: resultsFor(hosts, (_h, i) => okv({ id: 'debian' }, 20 + (i % 37))) },
    {
      name: `call deploy ${INJECT}`,
      targets: hosts,
      results: resultsFor(hosts, (h, i) =>
        h === 'web123'
          ? fail('failed', `web123: deploy exited 2: disk quota exceeded on /srv/app ${INJECT}`, 900, 'tb line <b>1</b>')
          : i % 100 === 7
            ? fail('unreachable', `${h}: connection refused`, 3000)
            : okv({ out: `ok ${INJECT}`, diff: '--- a\n+++ b\n' }, 100 + (i % 50), true),
      ),
    },
    { name: 'call ping', targets: hosts.filter((_h, i) => i % 100 !== 7 && i !== 122), results: {}, status: 'not_run' },
  ]);
}

describeIntegration('report --format html in chromium', browserUnavailableReason(), () => {
  let dir: string;
  let browser: import('playwright-core').Browser;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chopsticks-html-'));
    browser = await pw!.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await (browser as typeof browser | undefined)?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(report: RunReport | string) {
    const file = join(dir, `r-${Math.random().toString(36).slice(2)}.html`);
    writeFileSync(file, typeof report === 'string' ? report : renderHtml(report));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const network: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      network.push(url);
      return route.abort();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) network.push(r.url());
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, errors, network };
  }

  it('opens without errors or requests, draws the timeline, and keeps host text inert', async () => {
    const { page, errors, network } = await open(bigReport());
    expect(errors).toEqual([]);
    expect(network).toEqual([]);

    // Timeline: a row per host, bars with a real size, failures marked.
    expect(await page.locator('.timeline .row[data-host]').count()).toBe(500);
    const bar = await page.locator('.timeline .row[data-host="web001"] .bar').first().boundingBox();
    expect(bar && bar.width > 0 && bar.height > 0).toBe(true);
    const failedBar = page.locator('.timeline .row[data-host="web123"] .bar.l-failed');
    expect(await failedBar.count()).toBe(1);
    expect(await failedBar.textContent()).toBe('✖');
    expect(await page.locator('.timeline .row.bad').count()).toBe(6);
    // 500 hosts do not make a 500-row wall: the timeline scrolls in a box.
    const box = await page.locator('.timeline').boundingBox();
    expect(box!.height).toBeGreaterThan(100);
    expect(box!.height).toBeLessThan(700);

    // The failure is findable by its text, whole.
    const failure = page.getByText('disk quota exceeded on /srv/app', { exact: false }).first();
    await failure.scrollIntoViewIfNeeded();
    expect(await failure.isVisible()).toBe(true);
    expect(await page.getByText('5 hosts: web[008,108,208,308,408]').count()).toBeGreaterThan(0);

    // Nothing from the report ran or became markup.
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('b', { hasText: '1' }).count()).toBe(0);
    expect(await page.getByText(INJECT).count()).toBeGreaterThan(0);

    // Filtering narrows the rows.
    await page.fill('#filter', 'web12');
    expect(await page.locator('.timeline .row[data-host]:not(.hidden)').count()).toBe(10); // web120-web129
    await page.fill('#filter', '');
    await page.check('#only-bad');
    expect(await page.locator('.timeline .row[data-host]:not(.hidden)').count()).toBe(6);
    expect(await page.textContent('#shown')).toBe('6 of 500 hosts');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the guard sees requests: a page that loads something is caught', async () => {
    const { page, network } = await open(
      '<!DOCTYPE html><title>x</title><img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="https://example.invalid/a.css">',
    );
    expect(network.length).toBeGreaterThan(0);
    await page.close();
  }, 60_000);

  it('renders a small ok run and a check run with diffs', async () => {
    const hosts = ['a', 'b'];
    const check = reportOf(
      [
        {
          name: 'put app.conf',
          kind: 'put',
          targets: hosts,
          results: resultsFor(hosts, () => ({ ...okv({ changed: true, diff: '-old\n+new <x>' }, 5, true), outcome: 'would_change' })),
        },
      ],
      { check: true },
    );
    const { page, errors, network } = await open(check);
    expect(await page.locator('#changes').textContent()).toContain('would change');
    await page.click('#changes summary');
    expect(await page.locator('#changes pre.diff').getByText('+new <x>').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.close();
  }, 60_000);
});
