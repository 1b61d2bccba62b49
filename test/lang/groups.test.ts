import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundsGroupExpr,
  closest,
  evalGroupExpr,
  formatGroupExpr,
  globMatch,
  MAX_OPERATORS,
  namesIn,
  outcomesIn,
  parseGroupExpr,
  suggestName,
  type GroupExpr,
  type SetEnv,
} from '../../src/lang/groups.js';

function parse(text: string): GroupExpr {
  const r = parseGroupExpr(text);
  if (!r.ok) throw new Error(`parse failed: ${r.message} at ${r.offset}`);
  return r.expr;
}

function fail(text: string): { message: string; offset: number } {
  const r = parseGroupExpr(text);
  if (r.ok) throw new Error(`expected '${text}' to fail, got ${formatGroupExpr(r.expr)}`);
  return r;
}

/** Fully parenthesised form: shows the tree shape. */
function shape(e: GroupExpr): string {
  switch (e.type) {
    case 'name':
      return e.name;
    case 'glob':
      return `'${e.pattern}'`;
    case 'outcome':
      return `${e.outcome}(${e.register})`;
    case 'binary':
      return `(${shape(e.left)} ${e.op} ${shape(e.right)})`;
  }
}

const ALL = ['web1', 'web2', 'db1', 'db2', 'cache', 'web-1'];
const GROUPS: Record<string, string[]> = {
  all: ALL,
  web: ['web2', 'web1'], // deliberately not in definition order
  db: ['db1', 'db2'],
  even: ['web2', 'db2'],
};
const env: SetEnv = {
  all: ALL,
  resolve: (n) => GROUPS[n] ?? (ALL.includes(n) ? [n] : undefined),
  outcome: (o, r) => (o === 'failed' && r === 'deploy' ? ['db2', 'web1'] : []),
};
const ev = (text: string) => evalGroupExpr(parse(text), env);

describe('parseGroupExpr: precedence and associativity', () => {
  it.each([
    ['a | b & c', '(a | (b & c))'],
    ['a & b | c', '((a & b) | c)'],
    ['a ^ b & c', '(a ^ (b & c))'],
    ['a | b ^ c', '(a | (b ^ c))'],
    ['a & b - c', '(a & (b - c))'],
    ['a - b + c', '((a - b) + c)'],
    ['a + b - c', '((a + b) - c)'],
    ['a - b - c', '((a - b) - c)'],
    ['a | b | c', '((a | b) | c)'],
    ['a ^ b ^ c', '((a ^ b) ^ c)'],
    ['(a | b) & c', '((a | b) & c)'],
    ['a - (b - c)', '(a - (b - c))'],
    ['a|b&c^d -e', '(a | ((b & c) ^ (d - e)))'],
    ['a|b&c^d-e', '(a | ((b & c) ^ d-e))'],
  ])('%s → %s', (text, want) => {
    expect(shape(parse(text))).toBe(want);
  });

  it('a name may contain "-": a-b is one name, a - b and a -b are differences', () => {
    expect(shape(parse('a-b'))).toBe('a-b');
    expect(shape(parse('all - web-1'))).toBe('(all - web-1)');
    expect(shape(parse('a -b'))).toBe('(a - b)');
    expect(shape(parse('a.b_c-d9'))).toBe('a.b_c-d9');
  });

  it('parses globs and outcome sets, and keeps positions', () => {
    const e = parse(`'web*' & failed(deploy) | "db?"`);
    expect(shape(e)).toBe(`(('web*' & failed(deploy)) | 'db?')`);
    expect(outcomesIn(e)).toEqual([{ outcome: 'failed', register: 'deploy', pos: 9 }]);
    expect(shape(parse('ok ( x )'))).toBe('ok(x)');
    // `ok` alone is a plain name (a host may be called ok)
    expect(shape(parse('ok & failed'))).toBe('(ok & failed)');
  });

  it('namesIn lists plain names in text order with offsets', () => {
    expect(namesIn(parse('web & (db | ok(x)) - web'))).toEqual([
      { name: 'web', pos: 0 },
      { name: 'db', pos: 7 },
      { name: 'web', pos: 21 },
    ]);
  });
});

describe('parseGroupExpr: errors a user can act on', () => {
  it.each([
    ['', 'empty group expression', 0],
    ['   ', 'empty group expression', 0],
    ['web &', "expected a group name after '&'", 5],
    ['web & | db', "expected a group name after '&', found '|'", 6],
    ['& web', "expected a group name, found '&'", 0],
    ['(web | db', "unclosed '('", 0],
    ['web | db)', "unmatched ')'", 8],
    ['()', "empty '()'", 1],
    ['web db', "expected an operator (+ - & ^ |) before 'db' after 'web'", 4],
    ["'web*", 'unclosed quote', 0],
    ["web | ''", 'empty glob', 6],
    ['web ! db', "unexpected character '!'", 4],
    ['failed(', 'expected a register name inside failed(...)', 7],
    ['failed(deploy', "unclosed '(' in failed(deploy", 6],
    ['failed(a b)', "expected ')' after failed(a", 9],
    ['-web', "expected a group name, found '-'", 0],
  ])('%j → %s at %i', (text, message, offset) => {
    const r = fail(text);
    expect(r.message).toContain(message);
    expect(r.offset).toBe(offset);
  });

  it('hints at spaces when a name ends with "-"', () => {
    expect(fail('all- web').message).toContain("put spaces around '-'");
  });

  it('rejects absurd sizes without blowing the stack', () => {
    const many = Array.from({ length: MAX_OPERATORS + 2 }, () => 'a').join(' | ');
    expect(fail(many).message).toContain(`more than ${MAX_OPERATORS} operators`);
    const ok = Array.from({ length: MAX_OPERATORS + 1 }, () => 'a').join(' - ');
    expect(parseGroupExpr(ok).ok).toBe(true);
    const deep = '('.repeat(100_000) + 'a' + ')'.repeat(100_000);
    expect(fail(deep).message).toContain('nested deeper');
    expect(fail('a &'.repeat(200_000)).message).toContain('operators');
    expect(fail('&'.repeat(100_000)).message).toContain('expected a group name');
  });
});

describe('evalGroupExpr', () => {
  it('returns definition order, never set order, without duplicates', () => {
    expect(ev('web')).toEqual(['web1', 'web2']);
    expect(ev('db | web | web')).toEqual(['web1', 'web2', 'db1', 'db2']);
    expect(ev('web + db')).toEqual(['web1', 'web2', 'db1', 'db2']);
  });
  it('computes each operator', () => {
    expect(ev('all - web-1')).toEqual(['web1', 'web2', 'db1', 'db2', 'cache']);
    expect(ev('web & even')).toEqual(['web2']);
    expect(ev('web ^ even')).toEqual(['web1', 'db2']);
    expect(ev('all - web - db')).toEqual(['cache', 'web-1']);
    expect(ev('web | db & even')).toEqual(['web1', 'web2', 'db2']);
    expect(ev('failed(deploy) & web')).toEqual(['web1']);
    expect(ev('ok(deploy)')).toEqual([]);
    expect(ev(`'web*'`)).toEqual(['web1', 'web2', 'web-1']);
    expect(ev(`'web[!-]*' - web1`)).toEqual(['web2']);
    expect(ev('cache')).toEqual(['cache']);
  });
  it('throws on unknown names (validation should have caught them)', () => {
    expect(() => ev('nosuch | web')).toThrow(/nosuch/);
  });
});

describe('globMatch', () => {
  const hosts = ['web01', 'web02', 'web10', 'db1', 'a.b', 'axb', 'w]x', 'web-a'];
  it.each([
    ['web*', ['web01', 'web02', 'web10', 'web-a']],
    ['web0?', ['web01', 'web02']],
    ['web[01]?', ['web01', 'web02', 'web10']],
    ['web[!0]*', ['web10', 'web-a']],
    ['web[^0-]*', ['web10']],
    ['a.b', ['a.b']],
    ['*', hosts],
    ['w]x', ['w]x']],
    ['web[0', []],
    ['[z-a]*', []],
    ['web-?', ['web-a']],
    ['*[a-]', ['web-a']],
    ['w[]]x', ['w]x']],
    ['*0*', ['web01', 'web02', 'web10']],
    ['**b**', ['web01', 'web02', 'web10', 'db1', 'a.b', 'axb', 'web-a']],
    ['', []],
  ])('%s', (pattern, want) => {
    expect(globMatch(pattern, hosts)).toEqual(want);
  });

  it('stays fast on patterns that make backtracking regexes explode', () => {
    const name = 'a'.repeat(253);
    const t0 = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*a*a*b', [name])).toEqual([]);
    expect(globMatch('*'.repeat(5000) + 'b', [name])).toEqual([]);
    expect(globMatch('a*'.repeat(100), [name])).toEqual([name]);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('agrees with a regex translation on random patterns', () => {
    // eslint-disable-next-line @typescript-eslint/no-misused-spread -- the patterns are made of a, b, * and ?
    const toRe = (p: string) => new RegExp('^' + [...p].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c)).join('') + '$');
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 8 }),
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 8 })),
        (pattern, names) => {
          expect(globMatch(pattern, names)).toEqual(names.filter((n) => toRe(pattern).test(n)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('boundsGroupExpr', () => {
  const benv = {
    all: ALL,
    resolve: (n: string) => {
      if (n === 'dyn') return { lower: ['web1'], upper: ['web1', 'web2', 'db1'] };
      const hosts = GROUPS[n] ?? (ALL.includes(n) ? [n] : undefined);
      return hosts && { lower: hosts, upper: hosts };
    },
    outcome: () => ({ lower: [], upper: ['db1', 'db2'] }),
  };
  const b = (text: string) => boundsGroupExpr(parse(text), benv);
  it('applies interval arithmetic', () => {
    expect(b('web')).toEqual({ lower: ['web1', 'web2'], upper: ['web1', 'web2'] });
    expect(b('dyn | db')).toEqual({ lower: ['web1', 'db1', 'db2'], upper: ['web1', 'web2', 'db1', 'db2'] });
    expect(b('web - dyn')).toEqual({ lower: [], upper: ['web2'] });
    expect(b('dyn - web')).toEqual({ lower: [], upper: ['db1'] });
    expect(b('dyn & web')).toEqual({ lower: ['web1'], upper: ['web1', 'web2'] });
    expect(b('dyn ^ even')).toEqual({ lower: ['web1', 'db2'], upper: ['web1', 'web2', 'db1', 'db2'] });
    expect(b('failed(x) & db')).toEqual({ lower: [], upper: ['db1', 'db2'] });
  });
});

describe('formatGroupExpr', () => {
  it.each([
    ['a|b&c', 'a | b & c'],
    ['(a | b) & c', '(a | b) & c'],
    ['a - (b - c)', 'a - (b - c)'],
    ['(a - b) - c', 'a - b - c'],
    ['a | (b | c)', 'a | (b | c)'],
    ['"it\'s*" ^ ok( r )', `"it's*" ^ ok(r)`],
    ['((web))', 'web'],
  ])('%s → %s', (text, want) => {
    expect(formatGroupExpr(parse(text))).toBe(want);
  });
});

describe('suggestName and closest', () => {
  const known = ['all', 'web', 'db', 'web-1', 'canary', 'workers'];
  it('suggests a difference when the name splits into two known names', () => {
    expect(suggestName('all-web', known)).toBe("did you mean 'all - web'?");
    expect(suggestName('all-web-1', known)).toBe("did you mean 'all - web-1'?");
  });
  it('suggests a close spelling', () => {
    expect(suggestName('wrokers', known)).toBe("did you mean 'workers'?");
    expect(suggestName('canery', known)).toBe("did you mean 'canary'?");
    expect(suggestName('Web', known)).toBe("did you mean 'web'?");
  });
  it('stays quiet when nothing is close', () => {
    expect(suggestName('database', known)).toBeUndefined();
    expect(suggestName('xy', ['ab'])).toBeUndefined();
    expect(closest('q', ['db'])).toBeUndefined();
  });
  it('closest prefers the nearest, then the first', () => {
    expect(closest('nmae', ['name', 'nme'])).toBe('nme');
    expect(closest('ab', ['ax', 'ay'])).toBe('ax');
  });
});
