/**
 * Remote stderr arrives in arbitrary chunks; lines are echoed whole, per host, so two hosts'
 * output never interleave inside one line.
 */
export class LineBuffers {
  private readonly partial = new Map<string, string>();

  /** Adds a chunk for `key`; returns the complete lines it finishes. */
  push(key: string, text: string): string[] {
    const joined = (this.partial.get(key) ?? '') + text;
    const parts = joined.split(/\r?\n/);
    const rest = parts.pop() ?? '';
    if (rest === '') this.partial.delete(key);
    else this.partial.set(key, rest);
    return parts;
  }

  /** The unfinished line of `key`, if any, and forgets it. */
  flush(key: string): string | undefined {
    const rest = this.partial.get(key);
    this.partial.delete(key);
    return rest;
  }

  keys(): string[] {
    return [...this.partial.keys()];
  }
}
