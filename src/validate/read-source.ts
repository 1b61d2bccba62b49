/** Reading one YAML file of a playbook (the playbook, an inventory, an included file, a vars file). */
import { readFile } from 'node:fs/promises';
import type { PlaybookProblem, SourcePos } from '../errors.js';
import { parseYaml, type ParsedYaml } from '../parse/parse-yaml.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export async function readSource(
  file: string,
  problems: PlaybookProblem[],
  blame: SourcePos,
  what: string,
): Promise<ParsedYaml | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push(
      code === 'ENOENT'
        ? { code: 'file_not_found', message: `${what} ${file} does not exist`, pos: blame }
        : { code: 'io', message: `cannot read ${what} ${file}: ${(e as Error).message}`, pos: blame },
    );
    return undefined;
  }
  const parsed = parseYaml(file, text);
  problems.push(...parsed.problems);
  return parsed;
}
