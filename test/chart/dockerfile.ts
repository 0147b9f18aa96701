/** Parses Dockerfile.proxy / Dockerfile.operator into stages and instructions, for the checks of their rules. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './helm.js';

/** One instruction: keyword and its (continuation-joined) arguments. */
export interface Instruction {
  op: string;
  args: string;
}

/** One build stage. */
export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into stages (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n\s*/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (op === 'FROM') {
      const [from = '', , name] = args.split(/\s+/);
      stages.push({ name: name ?? `stage${stages.length}`, from, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

/** The stage named `name` (the runtime stage: the last one). */
export function stageOf(stages: Stage[], name?: string): Stage {
  const s = name ? stages.find((x) => x.name === name) : stages.at(-1);
  if (!s) throw new Error(`no stage ${name ?? '(last)'}`);
  return s;
}

/** A JSON-array instruction (ENTRYPOINT/CMD) of a stage. */
export function execForm(stage: Stage, op: 'ENTRYPOINT' | 'CMD'): string[] {
  const i = stage.instructions.find((x) => x.op === op);
  return i ? (JSON.parse(i.args) as string[]) : [];
}

/** The Dockerfile's text. */
export const readDockerfile = (name: string): Promise<string> => readFile(join(ROOT, name), 'utf8');
