/**
 * Runs the CLI under a real pseudo-terminal (`script` from util-linux) and replays what it
 * drew into a terminal emulator (@xterm/headless), so tests assert on the screen a user is
 * left with, cursor movements and redraws included, not on the raw byte stream.
 */
import { spawn } from 'node:child_process';
import xterm from '@xterm/headless';
import { BIN } from '../cli/helpers.js';

const { Terminal } = xterm;

export interface PtyRun {
  code: number | null;
  /** Every byte the program wrote to its terminal. */
  raw: string;
}

export interface PtySize {
  /** Omitted: no `stty`, so the terminal reports 0 columns and 0 rows. */
  cols?: number;
  rows?: number;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `chopsticks ARGS` on a terminal of `size`; FORCE_COLOR so colours can be asserted. */
export function runInPty(args: string[], size: PtySize, env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<PtyRun> {
  return runShellInPty(`exec ${cliCommand(args)}`, size, env, timeoutMs);
}

/** `chopsticks ARGS` as a quoted shell command line. */
export function cliCommand(args: string[]): string {
  return [process.execPath, BIN, ...args].map(shellQuote).join(' ');
}

/** A shell command line on a terminal of `size` (for a test that signals the CLI it starts). */
export function runShellInPty(cmd: string, size: PtySize, env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<PtyRun> {
  const stty = size.cols !== undefined ? `stty cols ${size.cols} rows ${size.rows ?? 40}; ` : '';
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `${stty}${cmd}`, '/dev/null'], {
      env: { ...process.env, NO_COLOR: undefined, CI: undefined, FORCE_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, raw: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

export interface Screen {
  /** Logical lines (rows joined where the terminal wrapped them), scrollback included, trailing blanks dropped. */
  lines: string[];
  /** Rows as drawn, scrollback included. */
  rows: string[];
  /** Palette colour (1 red, 2 green, 3 yellow; undefined: default) of the first `char` on the first row holding `needle`. */
  colorOf(needle: string, char: string): number | undefined;
}

/** Replays `raw` into an emulated terminal of `cols` × `rows` and reads what it shows. */
export async function replay(raw: string, cols: number, rows: number): Promise<Screen> {
  const term = new Terminal({ cols, rows, scrollback: 100_000, allowProposedApi: true });
  await new Promise<void>((res) => term.write(raw, res));
  const buf = term.buffer.active;
  const rowsText: string[] = [];
  const colours: Array<Array<{ ch: string; fg: number | undefined }>> = [];
  const lines: string[] = [];
  for (let y = 0; y < buf.length; y++) {
    const line = buf.getLine(y)!;
    const text = line.translateToString(true);
    rowsText.push(text);
    const cells: Array<{ ch: string; fg: number | undefined }> = [];
    for (let x = 0; x < line.length; x++) {
      const c = line.getCell(x);
      if (!c) continue;
      cells.push({ ch: c.getChars(), fg: c.isFgPalette() ? c.getFgColor() : undefined });
    }
    colours.push(cells);
    if (line.isWrapped && lines.length > 0) lines[lines.length - 1] = lines.at(-1)! + text;
    else lines.push(text);
  }
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  term.dispose();
  return {
    lines,
    rows: rowsText,
    colorOf(needle, char) {
      const y = rowsText.findIndex((r) => r.includes(needle));
      if (y < 0) return undefined;
      return colours[y]!.find((c) => c.ch === char)?.fg;
    },
  };
}
