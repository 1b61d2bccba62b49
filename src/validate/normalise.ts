/**
 * Pass 2 of validation: the documents read by ./load.ts → the model (src/model/validated.ts),
 * built best-effort even when parts are broken so the rules still check the rest. Group and
 * `on` expressions are parsed here, once; syntax problems are reported here, meaning problems
 * by the rules (./rules/).
 */
import type { PlaybookProblem, ProblemCode, SourcePos } from '../errors.js';
import { parseDuration, parseSize } from '../lang/durations.js';
import type { GroupExpr } from '../lang/group-expr.js';
import { parseGroupExpr } from '../lang/groups.js';
import { resolve } from 'node:path';
import type {
  CallableRef,
  GroupDef,
  HostSpec,
  Json,
  Located,
  MaxFailures,
  SecretSource,
  SerialSpec,
  StepPolicy,
} from '../model/playbook.js';
import type { Playbook, Step } from './model.js';
import { entriesInOrder, findPos, posInScalar, type JsonPath, type ParsedYaml } from '../parse/parse-yaml.js';
import { STEP_KINDS } from '../steps/index.js';
import type { StepSource } from './includes.js';
import type { StepCommon } from '../steps/types.js';
import { closest } from '../lang/groups.js';
import { resolveTargets } from '../lang/targets.js';
import { addDefaults, checkHostPlaceholders, emptyDefaults, expandHostKeys, mergeVars, withDefaults, type RawHost } from './fleet.js';
import { buildHost, sameHost, stableJson } from './host-specs.js';
import { isObj, type Loaded, type Obj } from './load.js';

export interface HostEntry {
  spec: HostSpec;
  src: ParsedYaml;
  /** The key that defined it (a range key such as `web[01-40]` defines many hosts). */
  key: string;
}

/** One parsed piece of a group's definition: the whole string, or one list member. */
export interface GroupPart {
  expr: GroupExpr;
  path: JsonPath;
  /** Characters added in front of the member by quoting or parentheses (for positions). */
  shift: number;
}

export interface GroupEntry {
  def: GroupDef;
  src: ParsedYaml;
  raw: unknown;
  parts: GroupPart[];
}

/** The model, plus where each piece came from, for the rules' positions. */
export interface Normalised {
  playbook: Playbook;
  loaded: Loaded;
  hosts: Map<string, HostEntry>;
  groups: Map<string, GroupEntry>;
  /** The raw steps, includes expanded (a broken step still names its register and group for hints). */
  rawSteps: unknown[];
  /** Where each step of rawSteps (and of playbook.steps, same index) was written. */
  stepSources: StepSource[];
  /** Each step's `on` in pieces as written (its own, then its includes'), for positions. */
  onParts: Array<Array<{ expr: GroupExpr; src: ParsedYaml; path: JsonPath }>>;
  /** Texts outside the playbook's files that steps read vars from (template files), filled by the rules. */
  mentioned: string[];
  /** Hosts defined but not valid (already reported): a reference to one is not also an unknown name. */
  brokenHosts: ReadonlySet<string>;
}

export function normalise(loaded: Loaded, cliVars: Record<string, string>, problems: PlaybookProblem[]): Normalised {
  const add = (code: ProblemCode, message: string, pos: SourcePos): void => {
    problems.push({ code, message, pos });
  };
  const hosts = new Map<string, HostEntry>();
  const groups = new Map<string, GroupEntry>();
  const vars: Record<string, Json> = {};
  const rawHosts: RawHost[] = [];
  const ownVars = new Map<string, Record<string, Json>>();
  const defaults = emptyDefaults();
  const placeholdersSaid = new Set<string>();
  const groupVars = new Map<string, { vars: Record<string, Json>; doc: ParsedYaml }>();
  for (const doc of [...loaded.inventories, loaded.src]) addInventoryDoc(doc);
  addHosts();
  applyGroupVars();
  for (const vf of loaded.varsFiles) Object.assign(vars, vf);
  // `--var @FILE` and `--var K=V`: stronger than anything a file says, includes' vars too.
  const extra: Record<string, Json> = {};
  for (const vf of loaded.extraVarFiles) Object.assign(extra, vf);
  Object.assign(extra, cliVars);
  Object.assign(vars, extra);

  const { src, pb } = loaded;
  const callables: CallableRef[] = loaded.callables.map((c) => ({
    name: c.name,
    module: c.module,
    exportName: c.exportName,
    pos: c.pos,
    ...(c.info ? { readonly: c.info.readonly } : {}),
  }));
  const stepSources = loaded.steps;
  const rawSteps = stepSources.map((s) => s.raw);
  const onParts: Normalised['onParts'] = [];
  const playbook: Playbook = {
    version: 1,
    file: loaded.file,
    baseDir: loaded.baseDir,
    sha256: loaded.sha256,
    ...(typeof pb.name === 'string' ? { name: pb.name } : {}),
    vars,
    secrets: secrets(),
    hosts: [...hosts.values()].map((h) => h.spec),
    groups: [...groups.values()].map((g) => g.def),
    callables,
    strategy: pb.strategy === 'free' ? 'free' : 'linear',
    ...(pb.serial !== undefined ? { serial: serial(pb.serial) } : {}),
    steps: buildSteps(),
  };
  const brokenHosts = new Set(rawHosts.map((h) => h.name).filter((n) => !hosts.has(n)));
  return { playbook, loaded, hosts, groups, rawSteps, stepSources, onParts, mentioned: [], brokenHosts };

  function addInventoryDoc(doc: ParsedYaml): void {
    const v = doc.value as Obj;
    if (isObj(v.vars)) Object.assign(vars, v.vars);
    if (isObj(v.hosts)) rawHosts.push(...expandHostKeys(doc, v.hosts, problems));
    addDefaults(defaults, v.host_defaults, doc.file);
    if (isObj(v.group_vars)) {
      for (const [g, gv] of Object.entries(v.group_vars)) {
        if (!isObj(gv)) continue;
        const prev = groupVars.get(g);
        groupVars.set(g, { vars: { ...prev?.vars, ...(gv as Record<string, Json>) }, doc });
      }
    }
    if (isObj(v.groups)) {
      for (const [name, raw] of entriesInOrder(doc, ['groups'], v.groups)) {
        const pos = findPos(doc, ['groups', name], 'key');
        const entry = groupEntry(doc, name, raw, pos);
        if (!entry) continue;
        const prev = groups.get(name);
        const implicit = doc.implicitGroups?.has(name) === true;
        const prevImplicit = prev?.src.implicitGroups?.has(name) === true;
        if (!prev || (prevImplicit && !implicit)) groups.set(name, entry);
        else if (implicit && prevImplicit) {
          // Two Ansible inventories' `ungrouped`: one group of both files' ungrouped hosts.
          const both = [...new Set([...(prev.raw as string[]), ...(raw as string[])])];
          const merged = groupEntry(prev.src, name, both, prev.def.pos);
          if (merged) groups.set(name, merged);
        } else if (implicit)
          continue; // a group written out wins over Ansible's built-in one
        else if (stableJson(prev.raw) !== stableJson(raw)) conflict('group', name, prev.def.pos, pos, 'differently');
      }
    }
  }

  function addHosts(): void {
    for (const h of rawHosts) {
      const { name, key, doc, pos } = h;
      const filled = withDefaults(h, defaults, problems);
      if (!filled) continue;
      checkHostPlaceholders(h, filled, problems, placeholdersSaid);
      const spec = buildHost(name, filled.raw, pos, (sub, which) => findPos(doc, ['hosts', key, ...sub], which ?? 'value'), problems);
      if (!spec) continue;
      const own = isObj(h.raw) && isObj(h.raw.vars) ? (h.raw.vars as Record<string, Json>) : {};
      spec.vars = mergeVars(name, own, defaults.vars, [], filled.sources);
      if (Object.values(filled.sources).some((s) => s !== 'host')) spec.sources = filled.sources;
      const prev = hosts.get(name);
      if (!prev) {
        hosts.set(name, { spec, src: doc, key });
        ownVars.set(name, own);
      } else if (!sameHost(prev.spec, spec)) {
        conflict('host', name, prev.spec.pos, pos, 'with different settings');
      }
    }
  }

  /** group_vars: each static group's members get its vars, under their own (see ./fleet.ts). */
  function applyGroupVars(): void {
    if (groupVars.size === 0) return;
    const names = [...hosts.keys()];
    const resolved = resolveTargets({
      hosts: names,
      groups: [...groups.values()].map((g) => ({ name: g.def.name, expr: g.def.parsed })),
      steps: [],
    });
    const order = ['all', ...groups.keys()];
    const members = new Map([...resolved.groups].map(([g, b]) => [g, new Set(b.upper)]));
    for (const [g, { doc }] of groupVars) {
      if (!order.includes(g)) {
        const hint = closest(g, order);
        add(
          'unknown_name',
          `group_vars: '${g}' is not a group${hint ? `; did you mean '${hint}'?` : ''} (group_vars apply to groups defined under groups:)`,
          findPos(doc, ['group_vars', g], 'key'),
        );
      }
    }
    for (const entry of hosts.values()) {
      const spec = entry.spec;
      const layers = order
        .filter((g) => groupVars.has(g) && (g === 'all' || members.get(g)?.has(spec.name)))
        .map((g) => ({ group: g, vars: groupVars.get(g)!.vars }));
      if (layers.length === 0) continue;
      const own = ownVars.get(spec.name) ?? {};
      const sources = { ...(spec.sources ?? {}) };
      spec.vars = mergeVars(spec.name, own, defaults.vars, layers, sources);
      spec.sources = sources;
    }
  }

  function conflict(what: string, name: string, a: SourcePos, b: SourcePos, how: string): void {
    add('host_conflict', `${what} '${name}' is also defined at ${a.file}:${a.line}:${a.col} ${how}; keep one definition`, b);
    add('host_conflict', `${what} '${name}' is also defined at ${b.file}:${b.line}:${b.col} ${how}; keep one definition`, a);
  }

  function groupEntry(doc: ParsedYaml, name: string, raw: unknown, pos: SourcePos): GroupEntry | undefined {
    const exprPos = findPos(doc, ['groups', name]);
    const pieces: Array<{ text: string; path: JsonPath; shift: number }> = [];
    let def: GroupDef;
    if (typeof raw === 'string') {
      def = { name, expr: { value: raw, pos: exprPos }, pos };
      pieces.push({ text: raw, path: ['groups', name], shift: 0 });
    } else if (Array.isArray(raw)) {
      const members: Array<Located<string>> = [];
      raw.forEach((m, i) => {
        if (typeof m !== 'string') return;
        members.push({ value: m, pos: findPos(doc, ['groups', name, i]) });
        const text = memberExpr(m);
        pieces.push({ text, path: ['groups', name, i], shift: text.length - m.length });
      });
      def = { name, expr: { value: members.map((m) => memberExpr(m.value)).join(' | '), pos: exprPos }, members, pos };
    } else {
      return undefined;
    }
    const parts: GroupPart[] = [];
    for (const piece of pieces) {
      const r = parseGroupExpr(piece.text);
      if (r.ok) parts.push({ expr: r.expr, path: piece.path, shift: piece.shift });
      else add('group_expr', `group '${name}': ${r.message}`, posInScalar(doc, piece.path, Math.max(0, r.offset - piece.shift / 2)));
    }
    if (parts.length === pieces.length && parts.length > 0) {
      const whole = parseGroupExpr(def.expr.value);
      if (whole.ok) def.parsed = whole.expr;
    }
    return { def, src: doc, raw, parts };
  }

  function secrets(): Record<string, SecretSource> {
    const out: Record<string, SecretSource> = {};
    if (!isObj(pb.secrets)) return out;
    for (const [name, s] of Object.entries(pb.secrets)) {
      if (!isObj(s)) continue;
      if (typeof s.env === 'string') out[name] = { env: s.env };
      else if (typeof s.file === 'string') out[name] = { file: resolve(loaded.baseDir, s.file) };
      else if (Array.isArray(s.command) && s.command.every((w) => typeof w === 'string')) out[name] = { command: s.command };
    }
    return out;
  }

  function serial(raw: unknown): SerialSpec {
    const one = (v: unknown): SerialSpec[number] | undefined =>
      typeof v === 'number' ? { count: v } : typeof v === 'string' && v.endsWith('%') ? { percent: Number(v.slice(0, -1)) } : undefined;
    const list = Array.isArray(raw) ? raw : [raw];
    const out: SerialSpec = [];
    list.forEach((v, i) => {
      const s = one(v);
      if (!s) return;
      if ('percent' in s && (s.percent <= 0 || s.percent > 100)) {
        add(
          'schema',
          `serial: ${String(v)} must be a percentage above 0% and at most 100%`,
          findPos(src, Array.isArray(raw) ? ['serial', i] : ['serial']),
        );
      }
      out.push(s);
    });
    return out;
  }

  function policy(d: Obj, s: Obj, path: JsonPath, stepSrc: ParsedYaml = src): StepPolicy {
    const pick = (k: string): unknown => (k in s ? s[k] : d[k]);
    const where = (k: string): JsonPath => (k in s ? [...path, k] : ['defaults', k]);
    const docOf = (k: string): ParsedYaml => (k in s ? stepSrc : src);
    const dur = (k: string): number | undefined => {
      const v = pick(k);
      return typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
    };
    const out: StepPolicy = {
      on_failure: (['continue', 'abort', 'ignore'] as const).find((x) => x === pick('on_failure')) ?? 'continue',
      retries: typeof pick('retries') === 'number' ? (pick('retries') as number) : 0,
      retry_delay_ms: dur('retry_delay') ?? 1000,
    };
    const timeout = dur('timeout');
    if (timeout !== undefined) {
      if (timeout === 0)
        add(
          'schema',
          'timeout: 0 would fail every host at once; give a duration such as "60s" or leave it out',
          findPos(docOf('timeout'), where('timeout')),
        );
      out.timeout_ms = timeout;
    }
    const mf = pick('max_failures');
    let max: MaxFailures | undefined;
    if (typeof mf === 'number') max = { count: mf };
    else if (typeof mf === 'string' && /^[0-9]+(\.[0-9]+)?%$/.test(mf)) {
      max = { percent: Number(mf.slice(0, -1)) };
      if (max.percent > 100)
        add('schema', `max_failures: "${mf}" is more than 100%; use at most "100%"`, findPos(docOf('max_failures'), where('max_failures')));
    }
    if (max) out.max_failures = max;
    if (typeof pick('become') === 'string') out.become = pick('become') as string;
    if (typeof pick('concurrency') === 'number') out.concurrency = pick('concurrency') as number;
    const cm = pick('check_mode');
    if (cm === 'run' || cm === 'skip') out.check_mode = cm;
    const mr = pick('max_result');
    if (typeof mr === 'number' || typeof mr === 'string') {
      const bytes = parseSize(mr);
      if (bytes === undefined)
        add(
          'schema',
          `max_result: ${JSON.stringify(mr)} is not a size; give bytes (1048576) or a size such as "4MiB"`,
          findPos(docOf('max_result'), where('max_result')),
        );
      else out.max_result = bytes;
    }
    return out;
  }

  /**
   * What an included step sees over the playbook's vars (`step.vars`, laid over them by every
   * reader): its files' defaults where nothing stronger sets the name, the vars given at its
   * includes unless `--var` sets the name.
   */
  function includeVars(incDefaults: Record<string, Json>, given: Record<string, Json>): { vars?: Record<string, Json> } {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(incDefaults)) if (!Object.hasOwn(vars, k)) out[k] = v;
    for (const [k, v] of Object.entries(given)) if (!Object.hasOwn(extra, k)) out[k] = v;
    return Object.keys(out).length ? { vars: out } : {};
  }

  function buildSteps(): Step[] {
    const defaults = isObj(pb.defaults) ? pb.defaults : {};
    const steps: Step[] = [];
    stepSources.forEach(({ raw, src, path, ons, names, defaults: incDefaults, given, phase }, index) => {
      onParts[index] = [];
      if (!isObj(raw)) return;
      const pos = findPos(src, path);
      const loc = (k: string): Located<string> | undefined =>
        typeof raw[k] === 'string' ? { value: raw[k], pos: findPos(src, [...path, k]) } : undefined;
      // The key that names the kind (a string for most, a rule for `assert:`); its module checks the value.
      const def = STEP_KINDS.find((k) => raw[k.kind] !== undefined);
      if (!def) return; // reported by the schema

      const onText = loc('on') ?? { value: 'all', pos };
      let parsed = parseGroupExpr(onText.value);
      // An empty `on` is the schema's to report (minLength).
      if (!parsed.ok) {
        if (onText.value !== '') add('group_expr', `on: ${parsed.message}`, posInScalar(src, [...path, 'on'], parsed.offset));
      } else if (loc('on')) onParts[index].push({ expr: parsed.expr, src, path: [...path, 'on'] });
      // An include's `on` narrows each included step: (include's on) & (step's on).
      let onValue = onText.value;
      // A step without its own `on` takes its include's as is (not `web & all`).
      let implicitAll = loc('on') === undefined;
      for (const inc of [...ons].reverse()) {
        const p = parseGroupExpr(inc.text);
        if (!p.ok) {
          add('group_expr', `on: ${p.message}`, posInScalar(inc.src, inc.path, p.offset));
          parsed = p;
          continue;
        }
        onParts[index].push({ expr: p.expr, src: inc.src, path: inc.path });
        if (implicitAll) {
          implicitAll = false;
          onValue = inc.text;
          if (parsed.ok) parsed = p;
          continue;
        }
        onValue = `(${inc.text}) & (${onValue})`;
        if (parsed.ok) parsed = { ok: true, expr: { type: 'binary', op: '&', left: p.expr, right: parsed.expr, pos: 0 } };
      }
      const register = loc('register');
      const ownName =
        loc('name')?.value ??
        `${def.kind} ${typeof raw[def.kind] === 'string' ? (raw[def.kind] as string) : JSON.stringify(raw[def.kind])}`;
      const common: StepCommon = {
        index,
        name: [...names, ownName].join(': '),
        on: { ...onText, value: onValue, ...(parsed.ok ? { expr: parsed.expr } : {}) },
        ...(register ? { register } : {}),
        policy: policy(defaults, raw, path, src),
        pos,
        path,
        ...(raw.when !== undefined ? { when: { value: raw.when as Json, pos: findPos(src, [...path, 'when']) } } : {}),
        ...(Array.isArray(raw.loop) || typeof raw.loop === 'string'
          ? { loop: { value: raw.loop as Json[] | string, pos: findPos(src, [...path, 'loop']) } }
          : {}),
        ...(raw.run_once === true ? { run_once: true } : {}),
        ...(phase ? { phase } : {}),
        ...includeVars(incDefaults, given),
      };
      const step = def.build(raw, common, { loc, pos: (sub, which) => findPos(src, [...path, ...sub], which) });
      if (step) steps.push(step);
    });
    return steps;
  }
}

/**
 * A list member as an expression: a plain name stays as is, a glob such as web* (its YAML quotes
 * are gone by now) becomes 'web*', anything else is parenthesised so `|` joins members safely.
 */
function memberExpr(m: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m)) return m;
  if (/^[^\s'"()|&^+]*[*?[][^\s'"()|&^+]*$/.test(m)) return `'${m}'`;
  return `(${m})`;
}
