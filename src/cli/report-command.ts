/**
 * `chopsticks report REPORT.json --format markdown|html [-o FILE]` and
 * `chopsticks report merge SHARD.json... -o OUT.json [--junit FILE]` (docs/ci.md).
 * Unreadable input and shard reports that do not belong together are usage errors (exit 5).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { RunReport } from '../report/report-types.js';
import type { Command } from './args.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { assertWritableTarget, writeFileAtomic } from '../report/atomic-write.js';
import { orderedJson } from '../report/ordered-json.js';
import { reportSchemaError } from '../report/report-schema.js';

export async function reportCommand(c: Extract<Command, { cmd: 'report' | 'report-merge' }>, io: Io): Promise<number> {
  // Every output is checked before anything is written: a merge does not leave OUT.json behind a failed --junit.
  const outputs: Array<[string, string | undefined]> = [
    ['-o', c.out],
    ...(c.cmd === 'report-merge' ? [['--junit', c.junit] as [string, string | undefined]] : []),
  ];
  for (const [option, path] of outputs) if (path !== undefined && path !== '-') assertWritableTarget(option, path);
  if (c.cmd === 'report') {
    const report = readReportFile(c.report);
    const text =
      c.format === 'markdown'
        ? (await import('../report/markdown.js')).renderMarkdown(report, { source: c.report })
        : (await import('../report/html.js')).renderHtml(report);
    await writeOut(c.out, text, io);
    return EXIT.ok;
  }
  const { mergeShardReports } = await import('../report/merge.js');
  const merged = mergeShardReports(c.reports.map((name) => ({ name, report: readReportFile(name) })));
  if (!merged.ok) throw new UsageError(`report merge: these reports are not the shards of one run:\n  ${merged.problems.join('\n  ')}`);
  await writeOut(c.out, orderedJson(merged.report) + '\n', io);
  if (c.junit !== undefined) {
    const { junitXml } = await import('../report/junit.js');
    await writeOut(c.junit, junitXml(merged.report), io);
  }
  return EXIT.ok;
}

async function writeOut(path: string | undefined, text: string, io: Io): Promise<void> {
  if (path === undefined || path === '-') io.stdout.write(text);
  else await writeFileAtomic(path, text);
}

function readReportFile(path: string): RunReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(
      `report: cannot read '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `report: '${path}' is not JSON (${(e as Error).message}); expected a report written by 'chopsticks run --json FILE'`,
    );
  }
  const problem = reportSchemaError(data);
  if (problem !== undefined) {
    throw new UsageError(
      `report: '${path}' is not a chopsticks run report (${problem}); expected one written by 'chopsticks run --json FILE'`,
    );
  }
  return data as RunReport;
}
