/**
 * Secrets (docs/language.md#secrets) through the real CLI on local hosts: never in any output
 * file or stream, never in the argv of a process (sampled with ps during the run), shown as a
 * placeholder by plan, refused where they would be a program's argv.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ensureBuilt, runCli, startCli, tempDir, writePlaybook } from './helpers.js';

beforeAll(() => ensureBuilt(), 240_000);

let dir: string;
afterEach(() => cleanup(dir));

const TOKEN = 'tok-VALUE-4f1d9a';
const PW = 'pw-VALUE-77c2e0';
const GEN = 'gen-VALUE-0b3e55';

function playbook(d: string): string {
  writeFileSync(join(d, 'pw.txt'), `${PW}\n`);
  return writePlaybook(
    d,
    `version: 1
secrets:
  token: { env: SECRET_TOKEN_FOR_TEST }
  pw: { file: pw.txt }
  gen: { command: [printf, "${GEN}"] }
hosts: { a: local, b: local }
steps:
  - name: echo back
    call: shell
    args: { cmd: 'sleep 1.5; echo "token={secrets.token} pw={secrets.pw}"; echo "{secrets.gen}" >&2' }
  - name: env
    call: command
    args: { argv: [sh, -c, 'sleep 1; echo "$T"'], env: { T: "{secrets.token}" }, stdin: "{secrets.pw}" }
  - name: error message
    call: shell
    args: { cmd: 'echo "bad {secrets.pw} {secrets.token}" >&2; exit 3' }
`,
  );
}

describe('secrets', () => {
  it('never appear in stdout, stderr, --json, --events, --junit or any process argv during the run', async () => {
    dir = tempDir();
    const pb = playbook(dir);
    const files = { json: join(dir, 'r.json'), events: join(dir, 'ev.jsonl'), junit: join(dir, 'j.xml') };
    const { done } = startCli(['run', pb, '-o', 'plain', '--json', files.json, '--events', files.events, '--junit', files.junit], {
      env: { SECRET_TOKEN_FOR_TEST: TOKEN },
    });
    const samples: string[] = [];
    let finished = false;
    void done.then(() => (finished = true));
    while (!(finished as boolean)) {
      samples.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await done;
    expect(r.code).toBe(2);
    // The commands really ran with the values (masked on the way out).
    expect(r.stdout).toContain('token=*** pw=***');
    for (const h of ['a', 'b']) expect(r.stdout).toMatch(new RegExp(`FAILED ${h}: .*bad \\*\\*\\* \\*\\*\\*`));
    const outputs = {
      stdout: r.stdout,
      stderr: r.stderr,
      ...Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readFileSync(f, 'utf8')])),
    };
    for (const [where, text] of Object.entries(outputs)) {
      for (const v of [TOKEN, PW, GEN]) expect(text.includes(v), `${v} in ${where}`).toBe(false);
    }
    expect((outputs as Record<string, string>).json).toContain('***');
    expect(samples.length).toBeGreaterThan(5);
    expect(samples.join('\n')).toContain('CHOPSTICKS_SECRET_token');
    // The secret's own source command (`printf VALUE`, written so in the playbook) holds it in its
    // argv by the user's choice; any other process must not.
    const others = samples.map((s) =>
      s
        .split('\n')
        .filter((l) => l.trim() !== `printf ${GEN}`)
        .join('\n'),
    );
    for (const v of [TOKEN, PW, GEN])
      expect(
        others.some((s) => s.includes(v)),
        `${v} in ps`,
      ).toBe(false);
  }, 60_000);

  it('plan and validate never read them: plan shows the placeholder even when the source is missing', async () => {
    dir = tempDir();
    const pb = playbook(dir);
    const r = await runCli(['plan', pb]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('{secrets.token}');
    expect(r.stdout).not.toContain(PW);
  });

  it('a secret that cannot be read stops the run before any host is contacted', async () => {
    dir = tempDir();
    const pb = playbook(dir);
    const r = await runCli(['run', pb, '-o', 'plain']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("secret 'token': environment variable SECRET_TOKEN_FOR_TEST is not set");
  });

  it('refused in a program argv and unknown names, with positions', async () => {
    dir = tempDir();
    const pb = writePlaybook(
      dir,
      `version: 1
secrets: { token: { env: X } }
hosts: { a: local }
steps:
  - call: command
    args: { argv: [curl, "-H", "{secrets.token}"] }
  - call: shell
    args: { cmd: 'echo "{secrets.tokn}"' }
`,
    );
    const r = await runCli(['validate', pb]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("playbook.yaml:6:32: a secret cannot be in command's argv");
    expect(r.stderr).toContain(
      "playbook.yaml:8:25: template {secrets.tokn}: no secret 'tokn' is declared under secrets: (did you mean 'token'?)",
    );
  });

  it('refused in paths and in every built-in arg that becomes argv; allowed in env:, stdin:, shell cmd and line content', async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'f.txt'), 'x');
    const pb = writePlaybook(
      dir,
      `version: 1
secrets: { token: { env: X } }
hosts: { a: local }
steps:
  - put: f.txt
    to: "/tmp/x-{secrets.token}"
  - fetch: "/tmp/{secrets.token}"
    to: "out/{host}"
  - template: f.txt
    to: "/tmp/{secrets.token}"
  - call: facts.file
    args: { path: "/tmp/{secrets.token}" }
  - call: command
    args: { argv: ["true"], cwd: "/tmp/{secrets.token}", env: { T: "{secrets.token}" }, stdin: "{secrets.token}" }
  - call: shell
    args: { cmd: 'echo "{secrets.token}"' }
  - call: line
    args: { path: /tmp/x.conf, line: "pw={secrets.token}", create: true }
`,
    );
    const r = await runCli(['validate', pb]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n').slice(0, -1)).toEqual([
      expect.stringMatching(/\/playbook\.yaml:6:9: a secret cannot be in to: it is a path/),
      expect.stringMatching(/\/playbook\.yaml:7:12: a secret cannot be in fetch: it is a path/),
      expect.stringMatching(/\/playbook\.yaml:10:9: a secret cannot be in to: it is a path/),
      expect.stringMatching(/\/playbook\.yaml:12:19: a secret cannot be in facts\.file's path/),
      expect.stringMatching(/\/playbook\.yaml:14:34: a secret cannot be in command's cwd/),
    ]);
  });
});
