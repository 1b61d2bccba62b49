/**
 * test, command, shell, script. Only `shell` and `test` hand text to a shell; `command`
 * and `script` pass every value as its own argv word.
 */
import { resolve } from 'node:path';
import { HostError } from '../errors.js';
import { parseJsonLimited } from '../lang/json-guard.js';
import { shJoin } from '../lang/shell-quote.js';
import type { RunOptions, RunResult } from '../transports/session.js';
import { commandCommon } from './arg-schemas.js';
import { okCodes, optString, optStringArray, optStringMap, reqString } from './args.js';
import { baseRunOptions, stderrTail } from './run-opts.js';
import type { BuiltinCallable, CallContext, CallOutcome, CheckOutcome } from './types.js';

function commandOptions(ctx: CallContext, name: string): RunOptions {
  const stdin = optString(ctx, name, 'stdin');
  const cwd = optString(ctx, name, 'cwd');
  const env = optStringMap(ctx, name, 'env');
  return baseRunOptions(ctx, {
    ...(stdin !== undefined ? { stdin } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(env !== undefined ? { env } : {}),
  });
}

function short(s: string, n = 160): string {
  const one = s.replace(/\s*\n\s*/g, ' ⏎ ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

/** rc outside ok_codes is the host's error; the message says what ran, how it ended and why. */
function checkRc(ctx: CallContext, name: string, what: string, r: RunResult, ok: number[]): void {
  if (ok.includes(r.rc)) return;
  const tail = stderrTail(r.stderr);
  // The shell's own codes: 127 the program was not found, 126 it could not be executed.
  const kind = r.rc === 127 ? 'not_found' : r.rc === 126 ? 'permission_denied' : 'failed';
  throw new HostError(
    kind,
    `${ctx.hostName}: ${name} \`${short(what)}\` exited ${r.rc}${tail ? `: ${tail}` : ' (no stderr)'}`,
    r.stderr || null,
  );
}

/**
 * `creates: PATH` / `removes: PATH`: the command is not run (changed: false) when PATH exists /
 * does not exist (docs/language.md#creates-removes-changed_when). Undefined when the command must run.
 */
async function guard(ctx: CallContext, name: string): Promise<CallOutcome | undefined> {
  const creates = optString(ctx, name, 'creates');
  const removes = optString(ctx, name, 'removes');
  const exists = async (p: string) => (await ctx.session.stat(p, { become: ctx.become, signal: ctx.signal })).exists;
  if (creates !== undefined && (await exists(creates)))
    return { value: { skipped: true, msg: `creates: ${creates} exists` }, changed: false };
  if (removes !== undefined && !(await exists(removes)))
    return { value: { skipped: true, msg: `removes: ${removes} does not exist` }, changed: false };
  return undefined;
}

/** Check mode: a guard that holds says exactly that nothing would change; otherwise we cannot tell. */
async function checkGuard(ctx: CallContext, name: string): Promise<CheckOutcome | undefined> {
  const g = await guard(ctx, name);
  return g ? { would_change: false, value: g.value } : undefined;
}

const testCallable: BuiltinCallable = {
  name: 'test',
  readonly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['cmd'],
    properties: { cmd: { type: 'string', description: 'shell command; exit 0 → true, 1 → false' } },
  },
  description: 'true when the command exits 0, false when 1, an error otherwise',
  async invoke(ctx): Promise<CallOutcome> {
    const cmd = reqString(ctx, 'test', 'cmd');
    const r = await ctx.session.shell(cmd, baseRunOptions(ctx));
    if (r.rc === 0) return { value: true, changed: false };
    if (r.rc === 1) return { value: false, changed: false };
    checkRc(ctx, 'test', cmd, r, [0, 1]);
    throw new Error('unreachable');
  },
};

const commandCallable: BuiltinCallable = {
  name: 'command',
  readonly: false,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['argv'],
    properties: {
      argv: {
        type: 'array',
        minItems: 1,
        items: { type: 'string' },
        description: 'program and arguments, passed without shell interpretation',
      },
      ...commandCommon,
    },
  },
  description: 'runs a program; {stdout, stderr, rc}',
  async invoke(ctx): Promise<CallOutcome> {
    const argv = optStringArray(ctx, 'command', 'argv');
    if (argv === undefined || argv.length === 0) {
      throw new HostError('failed', `${ctx.hostName}: command: argument 'argv' must be a non-empty list of strings`);
    }
    const ok = okCodes(ctx, 'command');
    const skip = await guard(ctx, 'command');
    if (skip) return skip;
    const r = await ctx.session.run(argv, commandOptions(ctx, 'command'));
    checkRc(ctx, 'command', shJoin(argv), r, ok);
    const result = { stdout: r.stdout, stderr: r.stderr, rc: r.rc };
    return { value: result, changed: true, result };
  },
  check: (ctx) => checkGuard(ctx, 'command'),
};

const shellCallable: BuiltinCallable = {
  name: 'shell',
  readonly: false,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['cmd'],
    properties: { cmd: { type: 'string', description: 'shell command line (sh -c)' }, ...commandCommon },
  },
  description: 'runs a shell command; {stdout, stderr, rc}',
  async invoke(ctx): Promise<CallOutcome> {
    const cmd = reqString(ctx, 'shell', 'cmd');
    const ok = okCodes(ctx, 'shell');
    const skip = await guard(ctx, 'shell');
    if (skip) return skip;
    const r = await ctx.session.shell(cmd, commandOptions(ctx, 'shell'));
    checkRc(ctx, 'shell', cmd, r, ok);
    const result = { stdout: r.stdout, stderr: r.stderr, rc: r.rc };
    return { value: result, changed: true, result };
  },
  check: (ctx) => checkGuard(ctx, 'shell'),
};

const scriptCallable: BuiltinCallable = {
  name: 'script',
  readonly: false,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', description: 'local script, relative to the playbook' },
      interpreter: { type: 'string', description: 'program that runs the script (default: its shebang)' },
      args: { type: 'array', items: { type: 'string' }, description: 'arguments to the script' },
      output: { enum: ['json', 'text'], description: 'parse stdout as JSON or return it as text (text by default)' },
      ...commandCommon,
    },
  },
  description: 'copies a local script to the host, runs it, returns its stdout',
  async invoke(ctx): Promise<CallOutcome> {
    const path = reqString(ctx, 'script', 'path');
    const interpreter = optString(ctx, 'script', 'interpreter');
    const args = optStringArray(ctx, 'script', 'args') ?? [];
    const output = optString(ctx, 'script', 'output') ?? 'text';
    if (output !== 'json' && output !== 'text') {
      throw new HostError('failed', `${ctx.hostName}: script: output must be 'json' or 'text', not ${JSON.stringify(output)}`);
    }
    const ok = okCodes(ctx, 'script');
    const skip = await guard(ctx, 'script');
    if (skip) return skip;
    const local = resolve(ctx.baseDir, path);
    const put = await ctx.session.put(local, undefined, 0o700, { become: ctx.become, signal: ctx.signal });
    const remote = put.remote_path;
    let r: RunResult;
    try {
      const argv = interpreter !== undefined ? [...splitInterpreter(interpreter), remote, ...args] : [remote, ...args];
      r = await ctx.session.run(argv, commandOptions(ctx, 'script'));
    } finally {
      // put without a destination made a private folder for the script: remove both.
      const folder = remote.slice(0, remote.lastIndexOf('/'));
      await ctx.session.run(['rm', '-rf', '--', folder], { become: ctx.become, timeoutMs: 30_000 }).catch(() => {});
    }
    checkRc(ctx, 'script', [path, ...args].join(' '), r, ok);
    const result = { stdout: r.stdout, stderr: r.stderr, rc: r.rc };
    if (output === 'text') return { value: r.stdout, changed: true, result };
    const parsed = parseJsonLimited(r.stdout, { maxBytes: ctx.maxResult });
    if (!parsed.ok) {
      throw new HostError(
        'invalid_result',
        `${ctx.hostName}: script ${path}: its output is not valid JSON (output: json): ${parsed.message}; output starts ${JSON.stringify(r.stdout.slice(0, 80))}`,
      );
    }
    return { value: parsed.value, changed: true, result };
  },
  check: (ctx) => checkGuard(ctx, 'script'),
};

/** `interpreter: "python3 -u"` is a program and its options, split on spaces (no shell). */
function splitInterpreter(s: string): string[] {
  return s
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
}

export const commandCallables: BuiltinCallable[] = [testCallable, commandCallable, shellCallable, scriptCallable];
