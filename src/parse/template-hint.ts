/**
 * `to: {vars.base}/x` is a YAML flow mapping followed by text: a syntax error that says nothing
 * about templates. When the line of a YAML error holds `KEY: {name.path}...`, say to quote it
 * (docs/language.md#templates).
 */

const UNQUOTED_TEMPLATE =
  /^\s*(?:-\s+)?([A-Za-z_][\w.-]*):\s+(\{(?:host|vars|hostvars|results|secrets|item)(?:\.[\w-]+)*\}[^#]*?)\s*(?:#.*)?$/;

const PLACEHOLDER = String.raw`\{(?:host|vars|hostvars|results|secrets|item)(?:\.[\w-]+)*\}`;
const PLAIN = String.raw`[^\s'",{}\[\]#]`;
/** In a flow mapping (`args: { path: /tmp/x-{host} }`) the value runs to the next `,`, `}` or `]`. */
const IN_FLOW = new RegExp(
  String.raw`(?<![\w.-])([A-Za-z_][\w.-]*):\s+((?:${PLAIN}|${PLACEHOLDER})*${PLACEHOLDER}(?:${PLAIN}|${PLACEHOLDER})*)`,
);
/** Longer lines are not a playbook's: no hint, and no regular expression run over them. */
const MAX_LINE = 1000;

/** The hint for a YAML error at `offset` of `text`, or undefined when the line is not such a case. */
export function unquotedTemplateHint(text: string, offset: number): string | undefined {
  const start = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  const end = text.indexOf('\n', offset);
  const line = text.slice(start, end < 0 ? text.length : end);
  if (line.length > MAX_LINE) return undefined;
  const m = UNQUOTED_TEMPLATE.exec(line) ?? IN_FLOW.exec(line);
  if (!m) return undefined;
  return `to use a template, quote the value: ${m[1]}: ${JSON.stringify(m[2])}`;
}
