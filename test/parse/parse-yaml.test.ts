import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { findPos, MAX_ALIAS_COUNT, parseYaml, posInScalar, sourceAt } from '../../src/parse/parse-yaml.js';

const problems = (text: string) => parseYaml('f.yaml', text).problems.map((p) => [p.code, formatProblem(p)]);

describe('parseYaml', () => {
  it('returns the plain value of a good document', () => {
    const p = parseYaml('f.yaml', 'a: 1\nb: [x, "y"]\nmode: 0644\n');
    expect(p.problems).toEqual([]);
    expect(p.value).toEqual({ a: 1, b: ['x', 'y'], mode: 644 });
    expect(sourceAt(p, ['mode'])).toBe('0644');
  });

  it('reports syntax errors with 1-based line and column', () => {
    expect(problems('a: [1\nb: 2\n')).toEqual([['yaml_syntax', expect.stringMatching(/^f\.yaml:2:1: YAML syntax error: /)]]);
    expect(problems('a:\n\tb: 1\n')[0]).toEqual(['yaml_syntax', 'f.yaml:2:1: YAML syntax error: Tabs are not allowed as indentation']);
  });

  it('reports a duplicate key at the second occurrence', () => {
    expect(problems('x: 1\nsteps:\n  - a: 1\n    a: 2\n')).toEqual([
      ['duplicate_key', "f.yaml:4:5: duplicate key 'a': a key may appear only once in a mapping; remove or rename one"],
    ]);
  });

  it('refuses alias bombs without expanding them', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10)
          .fill(`*${'abcdefgh'[i - 1]}`)
          .join(', ')}]`,
      );
    const p = parseYaml('f.yaml', lines.join('\n') + '\n');
    expect(p.value).toBeUndefined();
    expect(p.problems.map((x) => x.code)).toEqual(['alias_limit']);
    expect(p.problems[0]!.message).toContain(`limit ${MAX_ALIAS_COUNT}`);
  });

  it('allows a few honest aliases', () => {
    const p = parseYaml('f.yaml', 'common: &c { retries: 2 }\na: *c\nb: *c\n');
    expect(p.problems).toEqual([]);
    expect(p.value).toEqual({ common: { retries: 2 }, a: { retries: 2 }, b: { retries: 2 } });
  });

  it('reports an alias to an undefined anchor at the alias', () => {
    expect(problems('a: 1\nb: *nope\n')).toEqual([
      ['yaml_syntax', 'f.yaml:2:4: alias *nope refers to no anchor defined before it; define &nope first'],
    ]);
  });

  it('refuses __proto__ keys and collection keys', () => {
    const p = parseYaml('f.yaml', 'vars:\n  __proto__: { polluted: 1 }\n? [a]\n: 1\n');
    expect(p.problems.map(formatProblem)).toEqual([
      'f.yaml:2:3: the key __proto__ is not allowed anywhere in a playbook; rename it',
      'f.yaml:3:3: mapping keys must be plain strings, not a list or mapping; write this key as a string',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('finds positions of keys and values by path, falling back to the nearest parent', () => {
    const p = parseYaml('f.yaml', 'steps:\n  - call: ping\n    args: { cmd: "x" }\n');
    expect(findPos(p, ['steps', 0, 'args', 'cmd'], 'key')).toEqual({ file: 'f.yaml', line: 3, col: 13 });
    expect(findPos(p, ['steps', 0, 'args', 'cmd'], 'value')).toEqual({ file: 'f.yaml', line: 3, col: 18 });
    expect(findPos(p, ['steps', 0, 'missing'])).toEqual({ file: 'f.yaml', line: 2, col: 5 });
    expect(findPos(p, ['steps', 5])).toEqual({ file: 'f.yaml', line: 2, col: 3 });
  });

  it('maps an offset inside a scalar to a column, plain and quoted', () => {
    const p = parseYaml('f.yaml', 'a: web - db\nb: "x {y}"\n');
    expect(posInScalar(p, ['a'], 6)).toEqual({ file: 'f.yaml', line: 1, col: 10 });
    expect(posInScalar(p, ['b'], 2)).toEqual({ file: 'f.yaml', line: 2, col: 7 });
  });

  it('reports only the first document of a multi-document file as a problem', () => {
    expect(problems('a: 1\n---\nb: 2\n').map((x) => x[0])).toEqual(['yaml_syntax']);
  });
});

describe('parseYaml: nesting limit', () => {
  it('refuses deep flow nesting before the parser overflows its stack', () => {
    const d = 20000;
    const p = parseYaml('f.yaml', `version: 1\nvars:\n  x: ${'['.repeat(d)}${']'.repeat(d)}\n`);
    expect(p.problems.map((x) => x.code)).toEqual(['yaml_syntax']);
    expect(formatProblem(p.problems[0]!)).toMatch(/^f\.yaml:3:\d+: the document is nested more than 200 levels deep/);
  });

  it('refuses deep block nesting', () => {
    const lines = ['vars:'];
    for (let i = 1; i < 3000; i++) lines.push(`${'  '.repeat(i)}k:`);
    const p = parseYaml('f.yaml', lines.join('\n') + '\n');
    expect(p.problems.map((x) => x.code)).toEqual(['yaml_syntax']);
    expect(p.value).toBeUndefined();
  });

  it('does not count brackets in quotes or comments', () => {
    const p = parseYaml('f.yaml', `a: "${'['.repeat(500)}" # ${'{'.repeat(500)}\nb: '${'{'.repeat(500)}'\n`);
    expect(p.problems).toEqual([]);
  });
});
