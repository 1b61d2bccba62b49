// A mutating custom callable, as a named export: `./callables/release.mjs#install`.
// In --check it is reported as skipped and never called.
export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'root'],
  properties: {
    version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' },
    root: { type: 'string' },
  },
};

export async function install(host, { version, root }) {
  const dir = `${root}/${host.name}/releases/${version}`;
  // host.run takes argv: every value is its own word, no shell in between.
  const mk = await host.run(['mkdir', '-p', dir]);
  if (mk.rc !== 0) throw new Error(`mkdir ${dir} failed: ${mk.stderr.trim()}`); // kind `failed`
  // host.put streams a local file (relative to the playbook) and checks its sha1 on the host.
  const conf = await host.put('files/app.conf', `${dir}/app.conf`, { mode: 0o640 });
  // host.shell is for when you really want a shell: pipes, globs, redirections.
  await host.shell(`ln -sfn "${dir}" "${root}/${host.name}/current"`);
  // host.fetch brings a remote file back (relative local paths are from the playbook).
  const back = await host.fetch(`${dir}/app.conf`, `/tmp/chopsticks-examples/custom-callable/${host.name}-app.conf`);
  return { version, dir, conf_sha1: conf.sha1sum, fetched_to: back.local_path, changed: conf.changed };
}
