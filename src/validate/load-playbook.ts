/**
 * Playbook file (+ inventories) → validated `Playbook`, or every problem found.
 * Problems are collected, never thrown: one run of `validate` shows them all. The model is
 * built best-effort even when parts are broken, so semantic checks still run on the rest.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import { parseDuration, parseSize } from '../lang/durations.js';
import { closest, namesIn, outcomesIn, parseGroupExpr, suggestName } from '../lang/groups.js';
import { checkTemplate, type TemplateKnown } from '../lang/templates.js';
import type {
  CallableRef,
  GroupDef,
  HostSpec,
  Json,
  Located,
  MaxFailures,
  Playbook,
  SerialSpec,
  Step,
  StepPolicy,
} from '../model/playbook.js';
import { findPos, nodeAt, parseYaml, posInScalar, type JsonPath, type ParsedYaml } from '../parse/parse-yaml.js';
import { BUILTIN_NAMES, builtinSignature } from './builtin-signatures.js';
import { checkArgs } from './callable-args.js';
import { loadCustomCallableInfo, splitCallableSpec, type CustomCallableInfo } from './custom-callables.js';
import { badNameReason, buildHost, sameHost, stableJson } from './host-specs.js';
import { checkSchema } from './schema-check.js';

export interface LoadOptions {
  /** `--inventory` files, relative to the working directory. */
  inventory?: string[];
  /** `--var K=V` overrides (string values). */
  vars?: Record<string, string>;
}

export interface LoadResult {
  playbook?: Playbook;
  problems: PlaybookProblem[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const at = (file: string): SourcePos => ({ file, line: 1, col: 1 });

async function readSource(file: string, problems: PlaybookProblem[], blame: SourcePos, what: string): Promise<ParsedYaml | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push(
      code === 'ENOENT'
        ? { code: 'file_not_found', message: `${what} ${file} does not exist`, pos: blame }
        : { code: 'io', message: `cannot read ${what} ${file}: ${(e as Error).message}`, pos: blame },
    );
    return undefined;
  }
  const parsed = parseYaml(file, text);
  problems.push(...parsed.problems);
  return parsed;
}

export async function loadPlaybook(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const problems: PlaybookProblem[] = [];
  const src = await readSource(file, problems, at(file), 'playbook');
  if (!src || src.value === undefined) return { problems: dedupe(problems) };
  if (!isObj(src.value)) {
    problems.push({ code: 'schema', message: 'a playbook is a mapping with version: 1 and steps: [...]', pos: findPos(src, []) });
    return { problems: dedupe(problems) };
  }
  problems.push(...checkSchema(src, src.value, 'playbook'));
  const pb = src.value;
  const baseDir = dirname(resolve(file));

  // Inventories: the playbook's own `inventory:` first, then --inventory files.
  const invSources: ParsedYaml[] = [];
  const invPaths: Array<{ path: string; blame: SourcePos }> = [];
  const listed = typeof pb.inventory === 'string' ? [pb.inventory] : Array.isArray(pb.inventory) ? pb.inventory : [];
  listed.forEach((p, i) => {
    if (typeof p !== 'string') return;
    const blamePath = typeof pb.inventory === 'string' ? ['inventory'] : ['inventory', i];
    // Shown relative to the working directory, like the playbook path usually is.
    const abs = resolve(baseDir, p);
    const rel = relative(process.cwd(), abs);
    invPaths.push({ path: rel.startsWith('..') || rel === '' ? abs : rel, blame: findPos(src, blamePath) });
  });
  for (const p of opts.inventory ?? []) invPaths.push({ path: resolve(p), blame: at(p) });
  const seenInv = new Set<string>();
  for (const { path, blame } of invPaths) {
    if (seenInv.has(resolve(path))) continue;
    seenInv.add(resolve(path));
    const inv = await readSource(path, problems, blame, 'inventory file');
    if (!inv || inv.value === undefined || inv.value === null) continue;
    if (!isObj(inv.value)) {
      problems.push({ code: 'schema', message: 'an inventory file is a mapping with hosts, groups and vars', pos: findPos(inv, []) });
      continue;
    }
    problems.push(...checkSchema(inv, inv.value, 'inventory'));
    invSources.push(inv);
  }

  const b = new Builder(src, baseDir, problems);
  for (const inv of invSources) b.addInventoryDoc(inv);
  b.addInventoryDoc(src);
  for (const [k, v] of Object.entries(opts.vars ?? {})) b.vars[k] = v;
  b.checkGroups();
  b.checkHosts();
  await b.loadCallables(pb.callables);
  const steps = b.buildSteps(pb);

  const text = src.text;
  const playbook: Playbook = {
    version: 1,
    file,
    baseDir,
    sha256: createHash('sha256').update(text).digest('hex'),
    ...(typeof pb.name === 'string' ? { name: pb.name } : {}),
    vars: b.vars,
    hosts: [...b.hosts.values()].map((h) => h.spec),
    groups: [...b.groups.values()].map((g) => g.def),
    callables: b.callableRefs,
    strategy: pb.strategy === 'free' ? 'free' : 'linear',
    ...(pb.serial !== undefined ? { serial: b.serial(pb.serial) } : {}),
    steps,
  };

  // Checks that need resolved targets (fetch paths) live in the compiler; run it here too so
  // `validate` reports them. Its duplicates of problems found above are dropped by dedupe.
  const { compile } = await import('../compile/compile.js');
  try {
    problems.push(...compile(playbook, {}).problems);
  } catch (e) {
    // Only reachable when the model is partial because of problems already reported.
    if (problems.length === 0) throw e;
  }
  const all = dedupe(problems);
  return all.length ? { problems: all } : { playbook, problems: [] };
}

/** Unique problems, by file (in order of first appearance), then line and column. */
/**
 * A list member as an expression: a plain name stays as is, a glob such as web* (its YAML quotes
 * are gone by now) becomes 'web*', anything else is parenthesised so `|` joins members safely.
 */
function memberExpr(m: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m)) return m;
  if (/^[^\s'"()|&^+]*[*?[][^\s'"()|&^+]*$/.test(m)) return `'${m}'`;
  return `(${m})`;
}

function dedupe(problems: PlaybookProblem[]): PlaybookProblem[] {
  const seen = new Set<string>();
  const fileOrder = new Map<string, number>();
  for (const p of problems) if (!fileOrder.has(p.pos.file)) fileOrder.set(p.pos.file, fileOrder.size);
  const sorted = [...problems].sort(
    (a, b) => fileOrder.get(a.pos.file)! - fileOrder.get(b.pos.file)! || a.pos.line - b.pos.line || a.pos.col - b.pos.col,
  );
  return sorted.filter((p) => {
    const k = `${p.pos.file}:${p.pos.line}:${p.pos.col}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

interface HostEntry {
  spec: HostSpec;
  src: ParsedYaml;
}
interface GroupEntry {
  def: GroupDef;
  src: ParsedYaml;
  raw: unknown;
}

class Builder {
  readonly hosts = new Map<string, HostEntry>();
  readonly groups = new Map<string, GroupEntry>();
  readonly vars: Record<string, Json> = {};
  readonly callableRefs: CallableRef[] = [];
  private readonly custom = new Map<string, CustomCallableInfo & { pos: SourcePos }>();

  constructor(
    private readonly src: ParsedYaml,
    private readonly baseDir: string,
    private readonly problems: PlaybookProblem[],
  ) {}

  private add(code: PlaybookProblem['code'], message: string, pos: SourcePos): void {
    this.problems.push({ code, message, pos });
  }

  addInventoryDoc(doc: ParsedYaml): void {
    const v = doc.value as Obj;
    if (isObj(v.vars)) Object.assign(this.vars, v.vars);
    if (isObj(v.hosts)) {
      for (const [name, raw] of Object.entries(v.hosts)) {
        const pos = findPos(doc, ['hosts', name], 'key');
        const reason = badNameReason(name);
        if (reason) this.add('host_name', `host ${reason}`, pos);
        const spec = buildHost(name, raw, pos, (sub, which) => findPos(doc, ['hosts', name, ...sub], which ?? 'value'), this.problems);
        if (!spec) continue;
        const prev = this.hosts.get(name);
        if (!prev) {
          this.hosts.set(name, { spec, src: doc });
        } else if (!sameHost(prev.spec, spec)) {
          const a = prev.spec.pos;
          this.add('host_conflict', `host '${name}' is also defined at ${a.file}:${a.line}:${a.col} with different settings; keep one definition`, pos);
          this.add('host_conflict', `host '${name}' is also defined at ${pos.file}:${pos.line}:${pos.col} with different settings; keep one definition`, a);
        }
      }
    }
    if (isObj(v.groups)) {
      for (const [name, raw] of Object.entries(v.groups)) {
        const pos = findPos(doc, ['groups', name], 'key');
        const def = this.groupDef(doc, name, raw, pos);
        if (!def) continue;
        const prev = this.groups.get(name);
        if (!prev) this.groups.set(name, { def, src: doc, raw });
        else if (stableJson(prev.raw) !== stableJson(raw)) {
          const a = prev.def.pos;
          this.add('host_conflict', `group '${name}' is also defined at ${a.file}:${a.line}:${a.col} differently; keep one definition`, pos);
          this.add('host_conflict', `group '${name}' is also defined at ${pos.file}:${pos.line}:${pos.col} differently; keep one definition`, a);
        }
      }
    }
  }

  private groupDef(doc: ParsedYaml, name: string, raw: unknown, pos: SourcePos): GroupDef | undefined {
    if (typeof raw === 'string') {
      return { name, expr: { value: raw, pos: findPos(doc, ['groups', name]) }, pos };
    }
    if (Array.isArray(raw)) {
      const members: Located<string>[] = [];
      raw.forEach((m, i) => {
        if (typeof m === 'string') members.push({ value: m, pos: findPos(doc, ['groups', name, i]) });
      });
      const text = members.map((m) => memberExpr(m.value)).join(' | ');
      return { name, expr: { value: text, pos: findPos(doc, ['groups', name]) }, members, pos };
    }
    return undefined;
  }

  /** Every name a static expression may use. */
  private staticNames(): string[] {
    return ['all', ...this.hosts.keys(), ...this.groups.keys()];
  }

  checkHosts(): void {
    for (const [name, { spec, src }] of this.hosts) {
      if (name === 'all') this.add('ambiguous_name', "'all' is the group of every host; a host cannot be named all", spec.pos);
      if (this.groups.has(name)) {
        this.add('ambiguous_name', `'${name}' is both a host and a group; rename one of them`, this.groups.get(name)!.def.pos);
      }
      if (spec.transport !== 'ssh' || spec.jump === undefined) continue;
      const jumpPos = findPos(src, ['hosts', name, 'jump']);
      const target = this.hosts.get(spec.jump);
      if (!target) {
        const hint = closest(spec.jump, [...this.hosts.keys()]);
        this.add('unknown_name', `jump: '${spec.jump}' is not a host of this playbook${hint ? `; did you mean '${hint}'?` : ''}`, jumpPos);
      } else if (target.spec.transport !== 'ssh') {
        this.add('unknown_name', `jump: '${spec.jump}' is a ${target.spec.transport} host; a bastion must be an ssh host`, jumpPos);
      } else if (spec.jump === name) {
        this.add('cycle', `jump: host '${name}' cannot be its own bastion`, jumpPos);
      }
    }
    // Bastion chains must end somewhere.
    for (const [name] of this.hosts) {
      const chain = [name];
      let cur = this.hosts.get(name)?.spec;
      while (cur?.transport === 'ssh' && cur.jump !== undefined && cur.jump !== cur.name) {
        if (chain.includes(cur.jump)) {
          if (chain.indexOf(cur.jump) === 0) {
            const e = this.hosts.get(name)!;
            this.add('cycle', `jump hosts form a cycle: ${[...chain, cur.jump].join(' -> ')}`, findPos(e.src, ['hosts', name, 'jump']));
          }
          break;
        }
        chain.push(cur.jump);
        cur = this.hosts.get(cur.jump)?.spec;
      }
    }
  }

  checkGroups(): void {
    const known = this.staticNames();
    const knownSet = new Set(known);
    const edges = new Map<string, string[]>();
    for (const [name, { def, src }] of this.groups) {
      if (name === 'all') this.add('ambiguous_name', "'all' is built in (every host); choose another group name", def.pos);
      const reason = badNameReason(name);
      if (reason) this.add('host_name', `group ${reason}`, def.pos);
      const refs: string[] = [];
      const parts: Array<{ text: string; path: JsonPath; shift: number }> = def.members
        ? def.members.map((m, i) => ({ text: memberExpr(m.value), path: ['groups', name, i], shift: memberExpr(m.value).length - m.value.length }))
        : [{ text: def.expr.value, path: ['groups', name], shift: 0 }];
      for (const part of parts) {
        const r = parseGroupExpr(part.text);
        if (!r.ok) {
          this.add('group_expr', `group '${name}': ${r.message}`, posInScalar(src, part.path, Math.max(0, r.offset - part.shift / 2)));
          continue;
        }
        for (const o of outcomesIn(r.expr)) {
          this.add(
            'outcome_before_step',
            `group '${name}': ${o.outcome}(${o.register}) is decided during the run; use it in a step's on:, not in groups`,
            posInScalar(src, part.path, Math.max(0, o.pos - part.shift / 2)),
          );
        }
        for (const n of namesIn(r.expr)) {
          if (knownSet.has(n.name)) {
            if (this.groups.has(n.name)) refs.push(n.name);
            continue;
          }
          const hint = suggestName(n.name, known);
          this.add('unknown_name', `group '${name}': unknown host or group '${n.name}'${hint ? `; ${hint}` : ''}`, posInScalar(src, part.path, Math.max(0, n.pos - part.shift / 2)));
        }
      }
      edges.set(name, refs);
    }
    this.reportCycles(edges);
  }

  private reportCycles(edges: Map<string, string[]>): void {
    const state = new Map<string, 'active' | 'done'>();
    const stack: string[] = [];
    const reported = new Set<string>();
    const visit = (g: string): void => {
      state.set(g, 'active');
      stack.push(g);
      for (const next of edges.get(g) ?? []) {
        const s = state.get(next);
        if (s === 'active') {
          const cycle = [...stack.slice(stack.indexOf(next)), next];
          const key = [...new Set(cycle)].sort().join(',');
          if (!reported.has(key)) {
            reported.add(key);
            this.add('cycle', `groups form a cycle: ${cycle.join(' -> ')}; a group cannot contain itself`, this.groups.get(next)!.def.pos);
          }
        } else if (s === undefined) visit(next);
      }
      stack.pop();
      state.set(g, 'done');
    };
    for (const g of edges.keys()) if (!state.has(g)) visit(g);
  }

  async loadCallables(raw: unknown): Promise<void> {
    if (!isObj(raw)) return;
    for (const [name, spec] of Object.entries(raw)) {
      if (typeof spec !== 'string') continue;
      const pos = findPos(this.src, ['callables', name], 'key');
      if (builtinSignature(name)) {
        this.add('callable_load', `callable '${name}' is a built-in; give your callable another name`, pos);
        continue;
      }
      const r = await loadCustomCallableInfo(name, spec, this.baseDir);
      if (!r.ok) {
        this.add('callable_load', r.message, findPos(this.src, ['callables', name]));
        const { module, exportName } = splitCallableSpec(spec, this.baseDir);
        this.callableRefs.push({ name, module, exportName, pos });
        continue;
      }
      this.custom.set(name, { ...r.info, pos });
      this.callableRefs.push({ name, module: r.info.module, exportName: r.info.exportName, pos, readonly: r.info.readonly });
    }
  }

  serial(raw: unknown): SerialSpec {
    const one = (v: unknown): SerialSpec[number] | undefined =>
      typeof v === 'number' ? { count: v } : typeof v === 'string' && v.endsWith('%') ? { percent: Number(v.slice(0, -1)) } : undefined;
    const list = Array.isArray(raw) ? raw : [raw];
    const out: SerialSpec = [];
    list.forEach((v, i) => {
      const s = one(v);
      if (!s) return;
      if ('percent' in s && (s.percent <= 0 || s.percent > 100)) {
        this.add('schema', `serial: ${String(v)} must be a percentage above 0% and at most 100%`, findPos(this.src, Array.isArray(raw) ? ['serial', i] : ['serial']));
      }
      out.push(s);
    });
    return out;
  }

  private policy(d: Obj, s: Obj, path: JsonPath): StepPolicy {
    const pick = (k: string): unknown => (k in s ? s[k] : d[k]);
    const where = (k: string): JsonPath => (k in s ? [...path, k] : ['defaults', k]);
    const dur = (k: string): number | undefined => {
      const v = pick(k);
      return typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
    };
    const policy: StepPolicy = {
      on_failure: (['continue', 'abort', 'ignore'] as const).find((x) => x === pick('on_failure')) ?? 'continue',
      retries: typeof pick('retries') === 'number' ? (pick('retries') as number) : 0,
      retry_delay_ms: dur('retry_delay') ?? 1000,
    };
    const timeout = dur('timeout');
    if (timeout !== undefined) {
      if (timeout === 0) this.add('schema', 'timeout: 0 would fail every host at once; give a duration such as "60s" or leave it out', findPos(this.src, where('timeout')));
      policy.timeout_ms = timeout;
    }
    const mf = pick('max_failures');
    let max: MaxFailures | undefined;
    if (typeof mf === 'number') max = { count: mf };
    else if (typeof mf === 'string' && /^[0-9]+(\.[0-9]+)?%$/.test(mf)) {
      max = { percent: Number(mf.slice(0, -1)) };
      if (max.percent > 100) this.add('schema', `max_failures: "${mf}" is more than 100%; use at most "100%"`, findPos(this.src, where('max_failures')));
    }
    if (max) policy.max_failures = max;
    if (typeof pick('become') === 'string') policy.become = pick('become') as string;
    if (typeof pick('concurrency') === 'number') policy.concurrency = pick('concurrency') as number;
    const mr = pick('max_result');
    if (typeof mr === 'number' || typeof mr === 'string') {
      const bytes = parseSize(mr);
      if (bytes === undefined) this.add('schema', `max_result: ${JSON.stringify(mr)} is not a size; give bytes (1048576) or a size such as "4MiB"`, findPos(this.src, where('max_result')));
      else policy.max_result = bytes;
    }
    return policy;
  }

  buildSteps(pb: Obj): Step[] {
    const rawSteps = Array.isArray(pb.steps) ? pb.steps : [];
    const defaults = isObj(pb.defaults) ? pb.defaults : {};
    const steps: Step[] = [];
    const hostNames = new Set(this.hosts.keys());
    const groupNames = new Set(['all', ...this.groups.keys()]);
    const hostvarNames = new Set<string>();
    for (const { spec } of this.hosts.values()) for (const k of Object.keys(spec.vars)) hostvarNames.add(k);

    // Names made by steps, to tell "later" from "unknown".
    const registerAt = new Map<string, number>();
    const asAt = new Map<string, number>();
    rawSteps.forEach((s, i) => {
      if (!isObj(s)) return;
      if (typeof s.register === 'string' && !registerAt.has(s.register)) registerAt.set(s.register, i);
      if (typeof s.filter === 'string' && typeof s.as === 'string' && !asAt.has(s.as)) asAt.set(s.as, i);
    });
    const registersBefore = new Set<string>();
    const filterGroupsBefore = new Set<string>();

    rawSteps.forEach((raw, index) => {
      if (!isObj(raw)) return;
      const path: JsonPath = ['steps', index];
      const pos = findPos(this.src, path);
      const loc = (k: string): Located<string> | undefined =>
        typeof raw[k] === 'string' ? { value: raw[k] as string, pos: findPos(this.src, [...path, k]) } : undefined;
      const kind = (['call', 'filter', 'put', 'fetch'] as const).find((k) => typeof raw[k] === 'string');
      if (!kind) return;

      const on = loc('on') ?? { value: 'all', pos };
      this.checkOn(on.value, [...path, 'on'], index, registersBefore, filterGroupsBefore, registerAt, asAt);

      const register = loc('register');
      if (register) {
        if (registerAt.get(register.value) !== index) {
          this.add('schema', `register: '${register.value}' is already used by step ${registerAt.get(register.value)! + 1}; each register name must be unique`, register.pos);
        }
      }
      const templKnown: TemplateKnown = { vars: this.vars, registers: registersBefore, hostvarNames };
      const name = loc('name')?.value ?? `${kind} ${raw[kind] as string}`;
      const common = { index, name, on, ...(register ? { register } : {}), policy: this.policy(defaults, raw, path), pos };

      switch (kind) {
        case 'call':
        case 'filter': {
          const callable = loc(kind)!;
          const args = isObj(raw.args) ? (raw.args as Record<string, Json>) : {};
          const argPos: Record<string, SourcePos> = {};
          this.checkArgTemplates(args, [...path, 'args'], [], argPos, templKnown);
          this.checkCallable(callable, args, [...path, 'args']);
          if (kind === 'call') {
            steps.push({ ...common, kind, callable, args, argPos });
          } else {
            const as = loc('as');
            if (!as) return; // reported by the schema
            this.checkAs(as, index, hostNames, groupNames, asAt);
            steps.push({ ...common, kind, callable, args, argPos, exclude: raw.exclude === true, as });
          }
          break;
        }
        case 'put': {
          const src = loc('put')!;
          const to = loc('to');
          this.checkTemplateAt(src.value, [...path, 'put'], templKnown);
          if (to) this.checkTemplateAt(to.value, [...path, 'to'], templKnown);
          const mode = typeof raw.mode === 'string' && /^0?[0-7]{3,4}$/.test(raw.mode) ? parseInt(raw.mode, 8) : 0o644;
          steps.push({ ...common, kind, src, ...(to ? { to } : {}), mode });
          break;
        }
        case 'fetch': {
          const src = loc('fetch')!;
          const to = loc('to');
          this.checkTemplateAt(src.value, [...path, 'fetch'], templKnown);
          if (to) this.checkTemplateAt(to.value, [...path, 'to'], templKnown);
          steps.push({ ...common, kind, src, ...(to ? { to } : {}) });
          break;
        }
      }
      if (register) registersBefore.add(register.value);
      if (kind === 'filter' && typeof raw.as === 'string') filterGroupsBefore.add(raw.as);
    });
    return steps;
  }

  private checkOn(
    text: string,
    path: JsonPath,
    index: number,
    registersBefore: Set<string>,
    filterGroupsBefore: Set<string>,
    registerAt: Map<string, number>,
    asAt: Map<string, number>,
  ): void {
    const r = parseGroupExpr(text);
    if (!r.ok) {
      this.add('group_expr', `on: ${r.message}`, posInScalar(this.src, path, r.offset));
      return;
    }
    const known = [...this.staticNames(), ...filterGroupsBefore];
    const knownSet = new Set(known);
    for (const n of namesIn(r.expr)) {
      if (knownSet.has(n.name)) continue;
      const later = asAt.get(n.name);
      const p = posInScalar(this.src, path, n.pos);
      if (later !== undefined) {
        this.add('unknown_name', `on: group '${n.name}' is made by the filter of step ${later + 1}, which has not run yet at step ${index + 1}`, p);
      } else {
        const hint = suggestName(n.name, known);
        this.add('unknown_name', `on: unknown host or group '${n.name}'${hint ? `; ${hint}` : ''}`, p);
      }
    }
    for (const o of outcomesIn(r.expr)) {
      if (registersBefore.has(o.register)) continue;
      const p = posInScalar(this.src, path, o.pos);
      const later = registerAt.get(o.register);
      if (later !== undefined) {
        this.add('outcome_before_step', `on: ${o.outcome}(${o.register}) is used before step ${later + 1}, which registers '${o.register}'; move this step after it`, p);
      } else {
        const hint = closest(o.register, [...registersBefore]);
        this.add('outcome_before_step', `on: no earlier step has 'register: ${o.register}'${hint ? `; did you mean '${hint}'?` : ''}`, p);
      }
    }
  }

  private checkAs(as: Located<string>, index: number, hostNames: Set<string>, groupNames: Set<string>, asAt: Map<string, number>): void {
    const reason = badNameReason(as.value);
    if (reason) this.add('host_name', `as: ${reason}`, as.pos);
    if (hostNames.has(as.value)) this.add('ambiguous_name', `as: '${as.value}' is already a host; name the filter's group differently`, as.pos);
    else if (groupNames.has(as.value)) this.add('ambiguous_name', `as: '${as.value}' is already a group; name the filter's group differently`, as.pos);
    const first = asAt.get(as.value);
    if (first !== undefined && first !== index) {
      this.add('ambiguous_name', `as: group '${as.value}' is already made by the filter of step ${first + 1}; use another name`, as.pos);
    }
  }

  private checkCallable(callable: Located<string>, args: Record<string, Json>, argsPath: JsonPath): void {
    const builtin = builtinSignature(callable.value);
    const custom = this.custom.get(callable.value);
    let schema: object | undefined;
    if (builtin) schema = builtin.schema;
    else if (custom) schema = custom.schema;
    else {
      if (this.callableRefs.some((c) => c.name === callable.value)) return; // failed to load; reported
      const hint = closest(callable.value, [...BUILTIN_NAMES, ...this.custom.keys()]);
      this.add(
        'unknown_callable',
        `unknown callable '${callable.value}'${hint ? `; did you mean '${hint}'?` : '; declare it under callables: or use a built-in such as facts.os, command, shell'}`,
        callable.pos,
      );
      return;
    }
    if (!schema) return;
    const key = builtin ? `builtin:${callable.value}` : `custom:${custom!.module}#${custom!.exportName}`;
    const argsWritten = nodeAt(this.src, argsPath) !== undefined;
    for (const p of checkArgs(callable.value, key, schema, args)) {
      // Missing args with no `args:` at all: blame the callable's name.
      const pos = p.path.length || argsWritten ? findPos(this.src, [...argsPath, ...p.path], p.which) : callable.pos;
      this.add('callable_args', p.message, pos);
    }
  }

  private checkArgTemplates(v: Json, base: JsonPath, rel: string[], argPos: Record<string, SourcePos>, known: TemplateKnown): void {
    if (typeof v === 'string') {
      argPos[rel.join('.')] = findPos(this.src, [...base, ...rel]);
      this.checkTemplateAt(v, [...base, ...rel], known);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => this.checkArgTemplates(x, base, [...rel, String(i)], argPos, known));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) this.checkArgTemplates(x, base, [...rel, k], argPos, known);
    } else if (rel.length) {
      argPos[rel.join('.')] = findPos(this.src, [...base, ...rel]);
    }
  }

  private checkTemplateAt(text: string, path: JsonPath, known: TemplateKnown): void {
    for (const t of checkTemplate(text, known)) this.add('template', t.message, posInScalar(this.src, path, t.offset));
  }
}

