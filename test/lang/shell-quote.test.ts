import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { HostError } from '../../src/errors.js';
import { shJoin, shQuote } from '../../src/lang/shell-quote.js';

/** What `sh` sees after splitting the command line: one line per word, NUL-separated. */
function shWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `for a in ${line}; do printf '%s\\0' "$a"; done`]).toString('utf8');
  return out.split('\0').slice(0, -1);
}

describe('shQuote / shJoin', () => {
  it('leaves plain words alone and quotes everything else', () => {
    expect(shQuote('abc/def-1.2')).toBe('abc/def-1.2');
    expect(shQuote('')).toBe(`''`);
    expect(shQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(shQuote('A=b')).toBe(`'A=b'`);
    expect(shQuote('~')).toBe(`'~'`);
  });

  it('refuses NUL, which no argv can carry', () => {
    expect(() => shQuote('a\0b')).toThrow(HostError);
  });

  it('round-trips any argv through a real sh', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
          { minLength: 1, maxLength: 6 },
        ),
        (argv) => {
          // Lone surrogates cannot be encoded to UTF-8 argv bytes; compare what survives encoding.
          const norm = argv.map((a) => Buffer.from(a, 'utf8').toString('utf8'));
          expect(shWords(shJoin(norm))).toEqual(norm);
        },
      ),
      { numRuns: 60 },
    );
  });
});
