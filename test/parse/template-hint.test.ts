/** A YAML error caused by an unquoted template says to quote it (docs/language.md#templates). */
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/parse/parse-yaml.js';

function yamlProblems(text: string): string[] {
  return parseYaml('pb.yaml', text).problems.map((p) => `${p.pos.line}:${p.pos.col}: ${p.message}`);
}

describe('unquoted template hint', () => {
  it('in a block mapping and inside a flow mapping; the parser errors that follow from it are left out', () => {
    expect(yamlProblems('steps:\n  - put: x\n    to: {vars.base}/x\n')).toEqual([
      expect.stringMatching(/^3:\d+: YAML syntax error: .*; to use a template, quote the value: to: "\{vars\.base\}\/x"$/),
    ]);
    const flow = yamlProblems('steps:\n  - call: file\n    args: { path: /tmp/x-{host}, state: touch }\n  - call: ping\n');
    expect(flow).toEqual([
      expect.stringMatching(/^3:\d+: YAML syntax error: .*; to use a template, quote the value: path: "\/tmp\/x-\{host\}"$/),
    ]);
  });
});
