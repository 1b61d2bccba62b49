import { describe, expect, it } from 'vitest';
import { GITHUB_COMMENT_LIMIT, fenced, renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { fail, hostNames, okv, reportOf, resultsFor } from './ci-fixtures.js';

/** Code fences must pair up; text outside them must hold no raw HTML from the report. */
function outsideFences(md: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of md.split('\n')) {
    const m = /^\s*(`{3,})/.exec(line);
    if (fence === undefined && m) fence = m[1];
    else if (fence !== undefined && line.trim() === fence) fence = undefined;
    else if (fence === undefined) out.push(line);
  }
  expect(fence, 'an unclosed code fence').toBeUndefined();
  return out.join('\n');
}

describe('report --format markdown', () => {
  it('shows status, each step with folded hosts, and every failure whole', () => {
    const web = hostNames('web', 40, 2);
    const long = `web07: command exited 1: ${'x'.repeat(3000)} END-OF-MESSAGE`;
    const r = reportOf([
      { name: 'call facts.os', targets: web, results: resultsFor(web, () => okv({ id: 'debian' })) },
      {
        name: 'call deploy',
        targets: web,
        results: resultsFor(web, (h) =>
          h === 'web07'
            ? fail('failed', long, 20, 'Traceback: line 1')
            : h === 'web39'
              ? fail('unreachable', 'web39: connection refused')
              : okv('done', 10, true),
        ),
      },
    ]);
    const md = renderMarkdown(r, { source: 'report.json' });
    expect(md).toMatch(/^## ❌ Run failed: playbooks\/deploy\.yaml/);
    expect(md).toContain('**40 hosts**: 38 ok · 1 failed · 1 unreachable');
    expect(md).toContain('`web[01-40]`');
    expect(md).toContain('`web[01-06,08-38,40]` (38)');
    // The whole message, however long, and its traceback (folded).
    expect(md).toContain(long);
    expect(md).toMatch(/<details><summary>traceback<\/summary>\n\n```text\nTraceback: line 1\n```/);
    expect(md).toContain('web39: connection refused');
    outsideFences(md);
  });

  it('folds identical failures of many hosts into one entry with the hosts named compactly', () => {
    const hosts = hostNames('db', 500);
    const r = reportOf([
      {
        name: 'call ping',
        targets: hosts,
        results: resultsFor(hosts, (h) => fail('unreachable', `${h}: connect ECONNREFUSED 10.0.0.1:22`)),
      },
    ]);
    const md = renderMarkdown(r);
    expect(md).toContain('500 hosts: `db[001-500]`');
    expect(md.match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(md.length).toBeLessThan(5000);
  });

  it("stays within GitHub's comment limit and says in words what it left out", () => {
    const hosts = hostNames('node', 500);
    // 500 different failures of 400 characters each: ~200 KB of messages.
    const r = reportOf([
      {
        name: 'call big',
        targets: hosts,
        results: resultsFor(hosts, (h, i) => fail('failed', `${h}: error number ${i}: ${'y'.repeat(380)}`)),
      },
    ]);
    const md = renderMarkdown(r, { source: 'out/report.json' });
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(md).toMatch(
      /\*\*\d+ more failure groups not shown\*\*: this text is limited to 65,536 characters\. Every failure is in `out\/report\.json`/,
    );
    // What is shown is whole: the first failure's message is complete.
    expect(md).toContain(`node001: error number 0: ${'y'.repeat(380)}`);
    outsideFences(md);
    // A step summary may be bigger (1 MiB): the budget is an option.
    const big = renderMarkdown(r, { maxChars: 1024 * 1024 });
    expect(big).not.toMatch(/not shown/);
    expect(big).toContain('node500: error number 499');
  });

  it('cannot be broken out of by backticks or HTML in messages and values', () => {
    const r = reportOf([
      {
        name: 'call <b>evil</b> `step` | pipe',
        targets: ['a', 'b'],
        results: { a: fail('failed', 'a: ```\n</details><script>alert(1)</script>\n````'), b: okv('``` <img src=x onerror=alert(1)>') },
      },
    ]);
    const md = renderMarkdown(r);
    const text = outsideFences(md);
    expect(text).not.toContain('<script>');
    expect(text).not.toContain('<img');
    expect(text).not.toContain('<b>evil');
    expect(text).toContain('&lt;b&gt;evil&lt;/b&gt;');
    // The table row still has its six cells: the pipe in the step name is escaped.
    const row = md.split('\n').find((l) => l.startsWith('| 1 |'))!;
    expect(row.replace(/\\\|/g, '').split('|').length).toBe(8);
    expect(fenced('a ```` b')).toMatch(/^`{5}\n/);
  });

  it("shows a host's control characters escaped, in markdown and HTML: a report printed to a terminal cannot retitle or clear it", () => {
    const r = reportOf([
      {
        name: 'call shell',
        targets: ['a', 'b'],
        results: { a: fail('failed', 'a: oops\u001b]0;PWN\u0007\u001b[2J'), b: okv('x\u001b[31mred\u009b') },
      },
    ]);
    for (const text of [renderMarkdown(r), renderHtml(r)]) {
      // eslint-disable-next-line no-control-regex -- the point: none of these may be left
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(text).toContain('oops\\x1b]0;PWN\\x07\\x1b[2J');
    }
  });

  it('renders a check run as a plan: what would change where, with diffs folded', () => {
    const hosts = hostNames('web', 4, 1);
    const diff = '--- /etc/app.conf\n+++ /etc/app.conf\n@@ -1 +1 @@\n-port=80\n+port=8080\n';
    const r = reportOf(
      [
        // As a check run reports them (src/run/host-step.ts): every result has its outcome.
        { name: 'call facts.os', targets: hosts, results: resultsFor(hosts, () => ({ ...okv({ id: 'debian' }), outcome: 'ok' })) },
        {
          name: 'put app.conf',
          kind: 'put',
          targets: hosts,
          results: resultsFor(hosts, (h) =>
            h === 'web4'
              ? { ...okv({ changed: false }), outcome: 'ok' }
              : { ...okv({ changed: true, diff }, 5, true), outcome: 'would_change' },
          ),
        },
        {
          name: 'call command',
          targets: hosts,
          results: resultsFor(hosts, () => ({
            ok: true,
            value: { would_run: 'command' },
            changed: true,
            duration_ms: 0,
            skipped: true,
            outcome: 'would_change',
          })),
        },
        {
          name: 'call facts.hostname',
          targets: hosts,
          results: resultsFor(hosts, (h) =>
            h === 'web1'
              ? { ok: true, value: null, changed: false, duration_ms: 0, skipped: true, skip_reason: 'when', outcome: 'skipped' }
              : { ...okv('web'), outcome: 'ok' },
          ),
        },
      ],
      { check: true },
    );
    const md = renderMarkdown(r);
    expect(md).toMatch(/^## ✅ Check \(dry run\) ok/);
    expect(md).toContain('### 🔍 What would change (4 hosts)');
    expect(md).toContain('- would change: `web[1-3]`');
    expect(md).toContain('- would run (a mutating step that check mode does not run): `web[1-4]`');
    expect(md).toContain('<details><summary>diff on web[1-3] (3 hosts)</summary>\n\n```diff\n--- /etc/app.conf');
    expect(md.match(/\+port=8080/g)).toHaveLength(1);
    // Each step's outcomes by name; a host that `when` skipped is not one that would run.
    expect(md).toMatch(/^\| 2 \| put app\.conf .*\| 1 ok, 3 would change \|/m);
    expect(md).toMatch(/^\| 3 \| call command .*\| 4 would change \|/m);
    expect(md).toMatch(/^\| 4 \| call facts\.hostname .*\| 3 ok, 1 skipped \|/m);
    expect(md).toContain('**skipped** on `web1`: when is false');
  });
});
