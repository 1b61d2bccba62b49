/**
 * `plan` for humans: hosts and how they are reached, groups as host lists (filter groups as
 * "decided at run time, ⊆ [...]"), then each step with what it will do and to whom.
 * Deterministic: same plan, same text.
 */
import { formatDuration } from '../lang/durations.js';
import { foldHostNames } from '../lang/hostlist.js';
import type { HostSpec, StepPolicy } from '../model/playbook.js';
import { kindOf } from '../steps/index.js';
import { shardLabel } from '../lang/shard.js';
import { fillVarsOnly } from '../steps/fill-vars.js';

// The CLI loads this module for `plan`; both renderings come from here.
export { planToJson } from './plan-json.js';
import type { HostBounds, Plan, PlanStep } from './plan-types.js';

export function formatPlanText(plan: Plan): string {
  const out: string[] = [];
  out.push(`Plan: ${plan.name ?? plan.playbook}`);
  if (plan.name !== undefined) out.push(`  playbook: ${plan.playbook}`);
  out.push(`  sha256: ${plan.playbook_sha256}`);
  const serial = plan.serial ? `, serial ${plan.serial.map((s) => ('count' in s ? s.count : `${s.percent}%`)).join(', ')}` : '';
  out.push(`  strategy: ${plan.strategy}${serial}`);
  if (plan.limit !== undefined) out.push(`  limit: ${plan.limit}`);
  if (plan.shard) {
    const mine = plan.groups.find((g) => g.name === shardLabel(plan.shard!))?.hosts.upper ?? [];
    out.push(`  shard: ${plan.shard.index}/${plan.shard.count}: ${mine.length} of ${plan.hosts.length} hosts: ${hostList(mine)}`);
  }
  if (plan.resume) {
    const entries = Object.entries(plan.resume.from);
    out.push(`  resume: ${plan.resume.report}: ${entries.length ? '' : 'nothing to run again'}`.trimEnd());
    for (const [h, i] of entries) out.push(`    ${h} from step ${i + 1}`);
  }

  out.push('', `Hosts (${plan.hosts.length}):`);
  const rows = hostRows(plan.hosts);
  const width = Math.max(0, ...rows.map((r) => r.names.length));
  for (const r of rows) {
    out.push(`  ${r.names.padEnd(width)}  ${r.text}`);
    if (r.vars) out.push(`  ${''.padEnd(width)}    vars: ${r.vars}`);
  }

  out.push('', 'Groups:');
  const groups = [{ name: 'all', text: hostList(plan.hosts.map((h) => h.name)) }];
  for (const g of plan.groups) {
    const text = g.source === 'filter' ? `${boundsText(g.hosts, true)} (made by step ${(g.step ?? 0) + 1})` : boundsText(g.hosts, false);
    groups.push({ name: g.name, text });
  }
  const gw = Math.max(...groups.map((g) => g.name.length));
  for (const g of groups) out.push(`  ${g.name.padEnd(gw)}  ${g.text}`);

  out.push('', 'Steps:');
  for (const s of plan.steps) out.push(...stepLines(s, plan));
  return out.join('\n') + '\n';
}

/**
 * Hosts as printed: neighbours from one range key (same position) that differ only by their
 * name are one row, `web[01-40]  ssh deploy@{host}.example.com`. Vars show where each came from
 * when host_defaults or group_vars are involved.
 */
function hostRows(hosts: readonly HostSpec[]): Array<{ names: string; text: string; vars?: string }> {
  const rows: Array<{ names: string[]; key: string; text: string; vars?: string }> = [];
  for (const h of hosts) {
    const generic = (t: string): string => t.split(h.name).join('{host}');
    const text = generic(describeHost(h));
    const vars = varsText(h);
    const key = `${h.pos.file}:${h.pos.line}:${h.pos.col}\0${text}\0${vars === undefined ? '' : generic(vars)}`;
    const last = rows[rows.length - 1];
    if (last?.key === key) last.names.push(h.name);
    else rows.push({ names: [h.name], key, text, ...(vars !== undefined ? { vars } : {}) });
  }
  return rows.map((r) => {
    if (r.names.length === 1)
      return {
        names: r.names[0]!,
        text: describeHost(hosts.find((h) => h.name === r.names[0])!),
        ...(r.vars !== undefined ? { vars: r.vars } : {}),
      };
    const vars = r.vars === undefined ? undefined : r.vars.split(r.names[0]!).join('{host}');
    return { names: foldHostNames(r.names), text: r.text, ...(vars !== undefined ? { vars } : {}) };
  });
}

function varsText(h: HostSpec): string | undefined {
  const names = Object.keys(h.vars);
  // Shown when host_defaults or group_vars are involved: then where a value came from matters.
  if (names.length === 0 || !h.sources) return undefined;
  return names
    .map((k) => {
      const from = h.sources?.[`vars.${k}`];
      return `${k}=${JSON.stringify(h.vars[k])}${from && from !== 'host' ? ` (${from})` : ''}`;
    })
    .join(', ');
}

function hostList(names: string[]): string {
  if (names.length === 0) return '(none)';
  return foldHostNames(names);
}

function boundsText(b: HostBounds, runtime: boolean): string {
  if (!runtime && b.lower.length === b.upper.length) return hostList(b.upper);
  const certain = b.lower.length ? `, at least [${hostList(b.lower)}]` : '';
  return `decided at run time, ⊆ [${b.upper.length ? hostList(b.upper) : ''}]${certain}`;
}

function describeHost(h: HostSpec): string {
  const become = h.become ? `, become ${h.become}` : '';
  switch (h.transport) {
    case 'local':
      return `local${h.cwd ? ` (cwd ${h.cwd})` : ''}${become}`;
    case 'ssh': {
      const addr = `${h.user ? `${h.user}@` : ''}${h.host}${h.port !== undefined ? `:${h.port}` : ''}`;
      const extra = [
        h.jump ? `via ${h.jump}` : '',
        h.host_key_check && h.host_key_check !== 'strict' ? `host_key_check ${h.host_key_check}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `ssh ${addr}${extra ? ` (${extra})` : ''}${become}`;
    }
    case 'docker': {
      const what = h.image !== undefined ? `image ${h.image} (ephemeral)` : `container ${h.container ?? h.name}`;
      return `docker ${what}${h.docker_host ? ` on ${h.docker_host}` : ''}${become}`;
    }
  }
}

function policyText(p: StepPolicy): string {
  const parts = [`on_failure ${p.on_failure}`];
  if (p.max_failures) parts.push(`max_failures ${'count' in p.max_failures ? p.max_failures.count : `${p.max_failures.percent}%`}`);
  if (p.retries) parts.push(`retries ${p.retries} every ${formatDuration(p.retry_delay_ms)}`);
  parts.push(`timeout ${p.timeout_ms === undefined ? 'none' : formatDuration(p.timeout_ms)}`);
  if (p.become) parts.push(`become ${p.become}`);
  if (p.concurrency) parts.push(`concurrency ${p.concurrency}`);
  if (p.max_result !== undefined) parts.push(`max_result ${p.max_result} bytes`);
  if (p.check_mode) parts.push(`check_mode ${p.check_mode}`);
  return parts.join(', ');
}

function stepLines(s: PlanStep, plan: Plan): string[] {
  const lines = [`  ${s.index + 1}. ${s.name}`];
  const add = (k: string, v: string): void => {
    lines.push(`       ${k.padEnd(8)} ${v}`);
  };
  const vars = s.vars ? { ...plan.vars, ...s.vars } : plan.vars;
  for (const [k, v] of kindOf(s.kind).describe(s, vars)) add(k, v);
  if (s.pos.file !== plan.playbook) add('from', `${s.pos.file}:${s.pos.line}`);
  add('on', s.onText);
  if (s.when !== undefined) add('when', JSON.stringify(s.when));
  if (s.loop !== undefined) add('loop', JSON.stringify(typeof s.loop === 'string' ? fillVarsOnly(s.loop, vars) : s.loop));
  if (s.run_once) add('once', 'run_once: first target only, value registered for every target');
  if (s.phase) add('phase', 'finally (runs after the steps, whatever their outcome)');
  const t = s.targets;
  add('targets', t.lower.length === t.upper.length ? `${hostList(t.upper)} (${t.upper.length})` : boundsText(t, true));
  if (s.register) add('register', s.register);
  add('policy', policyText(s.policy));
  return lines;
}
