// A read-only custom callable (it runs in --check too): how full is each path?
// `schema` is checked against the step's args when the playbook is validated;
// `readonly` applies to every export of this module.
export const readonly = true;

export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['paths'],
  properties: {
    paths: { type: 'array', minItems: 1, items: { type: 'string' } },
    warn_percent: { type: 'integer', minimum: 1, maximum: 100 },
  },
};

/** The default export: `callables: { disk_report: ./callables/disk_report.mjs }`. */
export default async function diskReport(host, args) {
  const warnAt = args.warn_percent ?? 90;
  const out = [];
  for (const path of args.paths) {
    // host.call runs another callable (built-in or custom) on the same host.
    const d = await host.call('facts.disk', { path });
    const used = d.total_bytes === 0 ? 0 : Math.round((100 * d.used_bytes) / d.total_bytes);
    out.push({ path, mount: d.mount, used_percent: used, warn: used >= warnAt });
  }
  // Return JSON only: objects, arrays, strings, finite numbers, booleans, null.
  return { host: host.name, rack: host.vars.rack ?? null, disks: out };
}
