/**
 * Property tests: random expressions over random host sets, checked against a plain
 * reference model (arrays filtered in definition order), plus the set-algebra laws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundsGroupExpr,
  evalGroupExpr,
  formatGroupExpr,
  parseGroupExpr,
  type GroupExpr,
  type Outcome,
  type SetEnv,
  type SetOp,
} from '../../src/lang/groups.js';

const HOST_POOL = ['web-1', 'web-2', 'web10', 'db.1', 'db_2', 'x9', 'cache', 'ok'];
const GROUP_NAMES = ['g0', 'g1', 'g2', 'all-web'];
const GLOBS = ['web*', '*1', 'db?[12]', '[!w]*', 'nomatch*'];
const OUTCOMES: Outcome[] = ['ok', 'failed', 'changed', 'unreachable'];
const OPS: SetOp[] = ['+', '-', '&', '^', '|'];

interface World {
  all: string[];
  groups: Record<string, string[]>;
  outcomes: Record<string, string[]>; // key `${outcome}(${register})`
}

const worldArb: fc.Arbitrary<World> = fc.shuffledSubarray(HOST_POOL, { minLength: 1 }).chain((all) =>
  fc.record({
    all: fc.constant(all),
    groups: fc.record(Object.fromEntries(GROUP_NAMES.map((g) => [g, fc.shuffledSubarray(all)]))),
    outcomes: fc.record(Object.fromEntries(OUTCOMES.flatMap((o) => ['r1', 'r2'].map((r) => [`${o}(${r})`, fc.shuffledSubarray(all)])))),
  }),
);

function exprArb(names: string[]): fc.Arbitrary<GroupExpr> {
  const { expr } = fc.letrec<{ expr: GroupExpr; leaf: GroupExpr; node: GroupExpr }>((tie) => ({
    leaf: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...names).map((name): GroupExpr => ({ type: 'name', name, pos: 0 })) },
      { weight: 1, arbitrary: fc.constantFrom(...GLOBS).map((pattern): GroupExpr => ({ type: 'glob', pattern, pos: 0 })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...OUTCOMES), fc.constantFrom('r1', 'r2'))
          .map(([outcome, register]): GroupExpr => ({ type: 'outcome', outcome, register, pos: 0 })),
      },
    ),
    node: fc
      .tuple(fc.constantFrom(...OPS), tie('expr'), tie('expr'))
      .map(([op, left, right]): GroupExpr => ({ type: 'binary', op, left, right, pos: 0 })),
    expr: fc.oneof({ maxDepth: 6, depthSize: 'small' }, tie('leaf'), tie('node')),
  }));
  return expr;
}

const ALL_NAMES = [...GROUP_NAMES, ...HOST_POOL, 'all'];

function envOf(w: World): SetEnv {
  return {
    all: w.all,
    resolve: (n) => (n === 'all' ? w.all : (w.groups[n] ?? (HOST_POOL.includes(n) ? (w.all.includes(n) ? [n] : []) : undefined))),
    outcome: (o, r) => w.outcomes[`${o}(${r})`] ?? [],
  };
}

/** Reference model: arrays only, membership by `includes`, order by filtering `all`. */
function reference(e: GroupExpr, w: World): string[] {
  const env = envOf(w);
  switch (e.type) {
    case 'name':
      return w.all.filter((h) => env.resolve(e.name)!.includes(h));
    case 'glob': {
      const re = new RegExp('^' + e.pattern.replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^') + '$');
      return w.all.filter((h) => re.test(h));
    }
    case 'outcome':
      return w.all.filter((h) => env.outcome(e.outcome, e.register).includes(h));
    case 'binary': {
      const a = reference(e.left, w);
      const b = reference(e.right, w);
      const inA = (h: string) => a.includes(h);
      const inB = (h: string) => b.includes(h);
      switch (e.op) {
        case '+':
        case '|':
          return w.all.filter((h) => inA(h) || inB(h));
        case '-':
          return w.all.filter((h) => inA(h) && !inB(h));
        case '&':
          return w.all.filter((h) => inA(h) && inB(h));
        case '^':
          return w.all.filter((h) => inA(h) !== inB(h));
      }
    }
  }
}

function strip(e: GroupExpr): unknown {
  switch (e.type) {
    case 'name':
      return { name: e.name };
    case 'glob':
      return { glob: e.pattern };
    case 'outcome':
      return { outcome: e.outcome, register: e.register };
    case 'binary':
      return { op: e.op, left: strip(e.left), right: strip(e.right) };
  }
}

const bin = (op: SetOp, left: GroupExpr, right: GroupExpr): GroupExpr => ({ type: 'binary', op, left, right, pos: 0 });
const ALL_EXPR: GroupExpr = { type: 'name', name: 'all', pos: 0 };
const RUNS = { numRuns: 300 };

describe('group expressions: properties', () => {
  const e = exprArb(ALL_NAMES);

  it('evaluation matches the reference model, in definition order, without duplicates', () => {
    fc.assert(
      fc.property(worldArb, e, (w, x) => {
        const got = evalGroupExpr(x, envOf(w));
        expect(got).toEqual(reference(x, w));
        expect(new Set(got).size).toBe(got.length);
      }),
      RUNS,
    );
  });

  it('format → parse gives the same tree', () => {
    fc.assert(
      fc.property(e, (x) => {
        const text = formatGroupExpr(x);
        const r = parseGroupExpr(text);
        if (!r.ok) throw new Error(`${text}: ${r.message}`);
        expect(strip(r.expr)).toEqual(strip(x));
        expect(formatGroupExpr(r.expr)).toBe(text);
      }),
      RUNS,
    );
  });

  it('parsing never throws and reports an offset inside the text', () => {
    const alphabet = fc.constantFrom('a', 'b-c', ' ', ' - ', '&', '|', '^', '+', '(', ')', "'w*'", 'ok(', 'r)', '"', '!', '-');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        const r = parseGroupExpr(text);
        if (!r.ok) {
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(r.offset).toBeLessThanOrEqual(text.length);
          expect(r.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('laws: commutativity, associativity, De Morgan, a−a and a^a empty', () => {
    fc.assert(
      fc.property(worldArb, e, e, e, (w, a, b, c) => {
        const env = envOf(w);
        const ev = (x: GroupExpr) => evalGroupExpr(x, env);
        for (const op of ['|', '&', '^', '+'] as const) {
          expect(ev(bin(op, a, b))).toEqual(ev(bin(op, b, a)));
          expect(ev(bin(op, bin(op, a, b), c))).toEqual(ev(bin(op, a, bin(op, b, c))));
        }
        expect(ev(bin('-', ALL_EXPR, bin('|', a, b)))).toEqual(ev(bin('&', bin('-', ALL_EXPR, a), bin('-', ALL_EXPR, b))));
        expect(ev(bin('-', ALL_EXPR, bin('&', a, b)))).toEqual(ev(bin('|', bin('-', ALL_EXPR, a), bin('-', ALL_EXPR, b))));
        expect(ev(bin('-', a, a))).toEqual([]);
        expect(ev(bin('^', a, a))).toEqual([]);
        expect(ev(bin('&', a, bin('|', b, c)))).toEqual(ev(bin('|', bin('&', a, b), bin('&', a, c))));
      }),
      RUNS,
    );
  });

  it('bounds contain the actual value for any assignment of the dynamic sets', () => {
    // Each group and outcome set is either static, or dynamic: known to lie between a lower
    // and an upper set; the actual set is any set in between.
    const dynWorld = worldArb.chain((w) => {
      const keys = [...GROUP_NAMES, ...Object.keys(w.outcomes)];
      return fc.record({
        w: fc.constant(w),
        dynamic: fc.subarray(keys),
        extra: fc.record(Object.fromEntries(keys.map((k) => [k, fc.subarray(w.all)]))),
        drop: fc.record(Object.fromEntries(keys.map((k) => [k, fc.subarray(w.all)]))),
      });
    });
    fc.assert(
      fc.property(dynWorld, e, ({ w, dynamic, extra, drop }, x) => {
        const boundsOf = (key: string, actual: string[]) => {
          if (!dynamic.includes(key)) return { lower: actual, upper: actual };
          return {
            lower: actual.filter((h) => !drop[key]!.includes(h)),
            upper: w.all.filter((h) => actual.includes(h) || extra[key]!.includes(h)),
          };
        };
        const env = envOf(w);
        const bounds = boundsGroupExpr(x, {
          all: w.all,
          resolve: (n) => {
            const actual = env.resolve(n);
            return actual && boundsOf(n, actual);
          },
          outcome: (o, r) => boundsOf(`${o}(${r})`, env.outcome(o, r)),
        });
        const actual = evalGroupExpr(x, env);
        for (const h of bounds.lower) expect(actual).toContain(h);
        for (const h of actual) expect(bounds.upper).toContain(h);
        expect(bounds.lower).toEqual(w.all.filter((h) => bounds.lower.includes(h)));
        expect(bounds.upper).toEqual(w.all.filter((h) => bounds.upper.includes(h)));
        if (dynamic.length === 0) expect(bounds).toEqual({ lower: actual, upper: actual });
      }),
      RUNS,
    );
  });
});
