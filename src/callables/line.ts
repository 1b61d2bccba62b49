/**
 * `line {path, line, regexp?, state, create?, insert_after?}` (mutating, exact in check mode):
 * Ansible's lineinfile (docs/language.md#line). The new content is computed on the controller by
 * `editLines` (pure), and written with the session's atomic put only when it differs, keeping the
 * file's mode.
 */
import { HostError } from '../errors.js';
import type { Json } from '../model/playbook.js';
import { unifiedDiff } from '../steps/diff.js';
import { optString, reqString } from './args.js';
import { lstatPath, readText, writeText } from './remote-file.js';
import type { BuiltinCallable, CallContext, CallOutcome, CheckOutcome } from './types.js';

export interface LineEdit {
  line: string;
  regexp?: RegExp;
  state: 'present' | 'absent';
  /** A regexp (the line goes after its last match) or 'EOF' (default). */
  insertAfter?: RegExp | 'EOF';
}

/**
 * The file's lines after the edit; `msg` says what happened ('' for nothing). Lines are compared
 * without a CR at their end, and a file whose lines mostly end in CRLF gets CRLF on the lines
 * written, as Ansible's lineinfile compares.
 */
export function editLines(content: string, e: LineEdit): { content: string; msg: string } {
  const endsNl = content === '' || content.endsWith('\n');
  const lines = content === '' ? [] : (endsNl ? content.slice(0, -1) : content).split('\n');
  const crlf = lines.filter((l) => l.endsWith('\r')).length * 2 > lines.length;
  const bare = (l: string) => (l.endsWith('\r') ? l.slice(0, -1) : l);
  const written = crlf ? `${e.line}\r` : e.line;
  const join = (ls: string[]) => (ls.length === 0 ? '' : ls.join('\n') + '\n');
  const matches = (l: string) => (e.regexp ? e.regexp.test(bare(l)) : bare(l) === e.line);
  if (e.state === 'absent') {
    const kept = lines.filter((l) => !matches(l));
    if (kept.length === lines.length) return { content, msg: '' };
    return { content: join(kept), msg: `${lines.length - kept.length} line(s) removed` };
  }
  if (e.regexp) {
    let idx = -1;
    lines.forEach((l, i) => {
      if (e.regexp!.test(bare(l))) idx = i;
    });
    if (idx >= 0) {
      if (bare(lines[idx]!) === e.line) return { content, msg: '' };
      lines[idx] = written;
      return { content: join(lines), msg: 'line replaced' };
    }
  }
  if (lines.some((l) => bare(l) === e.line)) return { content, msg: '' };
  let at = lines.length;
  if (e.insertAfter instanceof RegExp) {
    lines.forEach((l, i) => {
      if ((e.insertAfter as RegExp).test(bare(l))) at = i + 1;
    });
  }
  lines.splice(at, 0, written);
  return { content: join(lines), msg: 'line added' };
}

function regex(ctx: CallContext, key: string, v: string | undefined): RegExp | undefined {
  if (v === undefined) return undefined;
  try {
    return new RegExp(v);
  } catch (err) {
    throw new HostError('failed', `${ctx.hostName}: line: ${key} is not a valid regular expression: ${(err as Error).message}`);
  }
}

interface Planned {
  path: string;
  next?: { text: string; mode: number };
  value: Record<string, Json>;
}

async function planLine(ctx: CallContext): Promise<Planned> {
  const path = reqString(ctx, 'line', 'path');
  const state = optString(ctx, 'line', 'state') ?? 'present';
  if (state !== 'present' && state !== 'absent') {
    throw new HostError('failed', `${ctx.hostName}: line: state must be present or absent, not ${JSON.stringify(state)}`);
  }
  // Removing needs only what to match: lines matching regexp go, with no line to compare.
  const line =
    state === 'absent' && ctx.args.regexp !== undefined ? (optString(ctx, 'line', 'line') ?? '') : reqString(ctx, 'line', 'line');
  if (line.includes('\n')) throw new HostError('failed', `${ctx.hostName}: line: line must be one line (no newline)`);
  const create = ctx.args.create === true;
  const ia = optString(ctx, 'line', 'insert_after');
  const edit: LineEdit = {
    line,
    state,
    ...(ctx.args.regexp !== undefined ? { regexp: regex(ctx, 'regexp', optString(ctx, 'line', 'regexp')) } : {}),
    ...(ia !== undefined ? { insertAfter: ia === 'EOF' ? 'EOF' : regex(ctx, 'insert_after', ia)! } : {}),
  };
  const st = await lstatPath(ctx, 'line', path);
  if (st && st.type !== 'file') throw new HostError('failed', `${ctx.hostName}: line: ${path} is a ${st.type}, not a regular file`);
  if (!st && state === 'present' && !create) {
    throw new HostError('not_found', `${ctx.hostName}: line: ${path} does not exist; add create: true to make it`);
  }
  const before = st ? await readText(ctx, 'line', path) : null;
  const r = before === null ? (state === 'absent' ? { content: '', msg: '' } : editLines('', edit)) : editLines(before, edit);
  const changed = r.msg !== '';
  const value: Record<string, Json> = { path, changed, msg: r.msg || 'nothing to do' };
  if (ctx.diff && changed) value.diff = unifiedDiff(path, before, r.content);
  return { path, value, ...(changed ? { next: { text: r.content, mode: st ? st.mode : 0o644 } } : {}) };
}

/** Edits of one path on one shared machine, chained: each starts when the one before has ended. */
const editsInFlight = new Map<string, Promise<unknown>>();

function onePathAtATime<T>(ctx: CallContext, edit: () => Promise<T>): Promise<T> {
  const machine = ctx.session.sharedMachine;
  if (machine === undefined) return edit();
  const key = `${machine}\0${reqString(ctx, 'line', 'path')}`;
  const before = editsInFlight.get(key) ?? Promise.resolve();
  const mine = before.then(edit, edit);
  const tail = mine.catch(() => {});
  editsInFlight.set(key, tail);
  void tail.then(() => {
    if (editsInFlight.get(key) === tail) editsInFlight.delete(key);
  });
  return mine;
}

export const lineCallable: BuiltinCallable = {
  name: 'line',
  readonly: false,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'text file on the host' },
      line: { type: 'string', description: 'the line that must be present (or absent); state: absent with a regexp needs none' },
      regexp: {
        type: 'string',
        description: 'the last line matching it is replaced by `line` (state: present) / every matching line is removed (absent)',
      },
      state: { enum: ['present', 'absent'], description: 'present by default' },
      create: { type: 'boolean', description: 'create the file when missing (false)' },
      insert_after: { type: 'string', description: "'EOF' (default) or a regexp: a new line goes after its last match" },
    },
    // `line` is what is written; only a removal by regexp (Ansible's lineinfile too) goes without it.
    if: { required: ['state', 'regexp'], properties: { state: { const: 'absent' } } },
    else: { required: ['line'] },
  },
  description: "Ansible's lineinfile: one line present or absent in a text file; exact in check mode",
  invoke(ctx): Promise<CallOutcome> {
    // Read, edit, write: two local hosts editing one file at once would each lose the other's line.
    return onePathAtATime(ctx, async () => {
      const plan = await planLine(ctx);
      if (plan.next) await writeText(ctx, 'line', plan.path, plan.next.text, plan.next.mode);
      return { value: plan.value, changed: plan.next !== undefined };
    });
  },
  async check(ctx): Promise<CheckOutcome> {
    const plan = await planLine(ctx);
    return { value: plan.value, would_change: plan.next !== undefined };
  },
};
