/**
 * `file {path, state, mode?, owner?, group?, src?}` (mutating, exact in check mode): make a path
 * a file, a directory, a symlink, absent, or an empty file when missing (`touch`), with the
 * given mode and owner (docs/language.md#file). The same plan of actions is computed for a real
 * run and for check mode, so check mode says exactly what the run would do; run twice, the
 * second run changes nothing.
 */
import { posix } from 'node:path';
import { HostError } from '../errors.js';
import type { Json } from '../model/playbook.js';
import { unifiedDiff } from '../steps/diff.js';
import { optString, reqString } from './args.js';
import { argPath, lstatPath, mustRun, octal, parseMode, readText, sameAccount, type PathState } from './remote-file.js';
import type { BuiltinCallable, CallContext, CallOutcome, CheckOutcome } from './types.js';

type State = 'file' | 'directory' | 'absent' | 'link' | 'touch';
const STATES: readonly State[] = ['file', 'directory', 'absent', 'link', 'touch'];

interface Planned {
  /** Human-readable actions, in order (the value's `actions`). */
  actions: string[];
  /** The commands that do them. */
  argv: string[][];
  value: Record<string, Json>;
}

/** The directory a symlink points to (its state: chmod and chown follow the link), or null for any other path. */
async function linkedDirectory(ctx: CallContext, path: string, st: PathState | null): Promise<PathState | null> {
  if (st?.type !== 'link') return null;
  const target = await lstatPath(ctx, 'file', `${path}/.`);
  return target?.type === 'directory' ? target : null;
}

/**
 * A path made in a folder that is missing gets the folder first (as put, template and line do),
 * so check mode's "create" is what the run does; a file where the folder should be fails both.
 */
async function makeFolder(ctx: CallContext, path: string, actions: string[], argv: string[][]): Promise<void> {
  const folder = posix.dirname(path);
  if (folder === path) return;
  const st = await lstatPath(ctx, 'file', folder);
  if (st?.type === 'directory' || (await linkedDirectory(ctx, folder, st))) return;
  if (st) throw new HostError('failed', `${ctx.hostName}: file ${path}: ${folder} is a ${st.type}, not a folder`);
  actions.push(`create folder ${folder}`);
  argv.push(['mkdir', '-p', argPath(folder)]);
}

/** Names (not numbers) of the owner and group the run would give: unknown ones fail in check mode too. */
const ACCOUNTS_SCRIPT = `case $1 in ''|*[!0-9]*) [ -z "$1" ] || id -u -- "$1" >/dev/null 2>&1 || echo "no user '$1'";; esac
case $2 in ''|*[!0-9]*) [ -z "$2" ] || grep -q "^$2:" /etc/group 2>/dev/null || getent group -- "$2" >/dev/null 2>&1 || echo "no group '$2'";; esac
`;

async function needAccounts(ctx: CallContext, path: string, owner: string, group: string): Promise<void> {
  const r = await ctx.session.run(['sh', '-c', ACCOUNTS_SCRIPT, 'sh', owner, group], { become: ctx.become, signal: ctx.signal });
  const missing = r.stdout.trim().split('\n').filter(Boolean);
  if (missing.length > 0) throw new HostError('failed', `${ctx.hostName}: file ${path}: the host has ${missing.join(' and ')}`);
}

async function planFile(ctx: CallContext): Promise<Planned> {
  const path = reqString(ctx, 'file', 'path');
  const state = (optString(ctx, 'file', 'state') ?? 'file') as State;
  if (!STATES.includes(state)) {
    throw new HostError('failed', `${ctx.hostName}: file: state must be one of ${STATES.join(', ')}, not ${JSON.stringify(state)}`);
  }
  const mode = parseMode(ctx, 'file', ctx.args.mode);
  const owner = optString(ctx, 'file', 'owner');
  const group = optString(ctx, 'file', 'group');
  const src = optString(ctx, 'file', 'src');
  const p = argPath(path);
  const st = await lstatPath(ctx, 'file', path);
  const actions: string[] = [];
  const argv: string[][] = [];
  const value: Record<string, Json> = { path, state };
  const fail = (msg: string) => new HostError('failed', `${ctx.hostName}: file ${path}: ${msg}`);

  let after: PathState | null = st;
  switch (state) {
    case 'absent':
      if (st) {
        actions.push(`remove ${st.type}`);
        argv.push(['rm', '-rf', p]);
        if (ctx.diff && st.type === 'file') value.diff = unifiedDiff(path, await readText(ctx, 'file', path), null);
      }
      after = null;
      break;
    case 'directory': {
      // A link to a directory is that directory, as Ansible's follow: yes takes it; mode and owner
      // then apply to the directory (chmod and chown follow the link).
      const linked = await linkedDirectory(ctx, path, st);
      if (linked) {
        after = linked;
        break;
      }
      if (st && st.type !== 'directory') throw fail(`is a ${st.type}, not a directory; remove it first (state: absent)`);
      if (!st) {
        actions.push('create directory');
        argv.push(['mkdir', '-p', p]);
        after = { type: 'directory', mode: -1, owner: '', group: '', uid: '', gid: '' };
      }
      break;
    }
    case 'file':
      if (!st) throw new HostError('not_found', `${ctx.hostName}: file ${path}: does not exist; use state: touch to create an empty file`);
      if (st.type !== 'file') throw fail(`is a ${st.type}, not a regular file`);
      break;
    case 'touch':
      if (st && st.type !== 'file') throw fail(`is a ${st.type}, not a regular file`);
      if (!st) await makeFolder(ctx, path, actions, argv);
      if (!st) {
        // An existing file is left as it is (times included), so a second run changes nothing.
        actions.push('create empty file');
        argv.push(['touch', p]);
        after = { type: 'file', mode: -1, owner: '', group: '', uid: '', gid: '' };
        if (ctx.diff) value.diff = unifiedDiff(path, null, '');
      }
      break;
    case 'link':
      if (src === undefined) throw fail('state: link needs src (what the link points to)');
      if (st && st.type !== 'link') throw fail(`is a ${st.type}, not a symlink; remove it first (state: absent)`);
      if (!st) await makeFolder(ctx, path, actions, argv);
      if (st?.target !== src) {
        actions.push(st ? `repoint link ${st.target} → ${src}` : `create link → ${src}`);
        // src is any text (a link may point anywhere): `--` keeps "-t/dir" from being an option.
        argv.push(['ln', '-sfn', '--', src, p]);
        after = { type: 'link', mode: -1, owner: '', group: '', uid: '', gid: '', target: src };
      }
      break;
  }
  if (after) {
    // Mode does not apply to a symlink itself; owner and group do (chown -h).
    if (mode !== undefined && after.type !== 'link' && after.mode !== mode) {
      actions.push(`chmod ${octal(mode)}${after.mode >= 0 ? ` (was ${octal(after.mode)})` : ''}`);
      argv.push(['chmod', octal(mode), p]);
    }
    const who = [
      owner !== undefined && !sameAccount(owner, after.owner, after.uid) ? owner : '',
      group !== undefined && !sameAccount(group, after.group, after.gid) ? group : '',
    ];
    if (who[0] || who[1]) {
      await needAccounts(ctx, path, who[0]!, who[1]!);
      const spec = who[1] ? `${who[0]}:${who[1]}` : who[0]!;
      actions.push(`chown ${spec}`);
      argv.push(['chown', ...(after.type === 'link' ? ['-h'] : []), '--', spec, p]);
    }
  }
  value.actions = actions;
  value.changed = actions.length > 0;
  if (value.diff === '') delete value.diff;
  return { actions, argv, value };
}

export const fileCallable: BuiltinCallable = {
  name: 'file',
  readonly: false,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'path on the host' },
      state: { enum: ['file', 'directory', 'absent', 'link', 'touch'], description: 'what the path must be (file by default)' },
      mode: { type: 'string', pattern: '^0?[0-7]{3,4}$', description: 'permission bits as a QUOTED octal string ("0755")' },
      owner: { type: 'string', minLength: 1, description: 'user that must own the path' },
      group: { type: 'string', minLength: 1, description: 'group that must own the path' },
      src: { type: 'string', minLength: 1, description: 'for state: link, what the link points to' },
    },
    // A link needs its target: said by validate, not by the host halfway through a run.
    if: { required: ['state'], properties: { state: { const: 'link' } } },
    then: { required: ['src'] },
  },
  description: 'ensures a path is a file, directory, symlink, absent or touched; exact in check mode',
  async invoke(ctx): Promise<CallOutcome> {
    const plan = await planFile(ctx);
    for (const a of plan.argv) await mustRun(ctx, 'file', a);
    return { value: plan.value, changed: plan.actions.length > 0 };
  },
  async check(ctx): Promise<CheckOutcome> {
    const plan = await planFile(ctx);
    return { value: plan.value, would_change: plan.actions.length > 0 };
  },
};
