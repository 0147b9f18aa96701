/**
 * Replays the stages of Dockerfile.proxy / Dockerfile.operator on the host, where no container engine exists:
 * every stage gets a directory standing for its root filesystem, and COPY, WORKDIR and RUN act on those. Stages
 * that need the base image are stood in for: `build` by the repository's own tsc, `tini` by Debian's tini
 * package on the host, the runtime's `/nodejs/bin/node` by this Node.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
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

function run(cmd: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', cmd], { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`${cmd}: ${stderr}`)) : resolve(),
    );
  });
}

/** Host stand-ins for paths of stages that need a base image. */
const HOST_STAGES: Record<string, (path: string) => string> = {
  tini: (path) => path, // Debian's tini package: the same files on the host (apt-get install tini)
};

/**
 * Replays `stages` into `root` (one sub-directory per stage): the `deps` stage runs its RUN lines for real (npm,
 * offline-friendly through the npm cache), the `build` stage is the repository compiled with tsc, the runtime stage
 * is assembled by its COPY lines. Returns the runtime stage's root and working directory.
 */
export async function replayStages(stages: Stage[], root: string): Promise<{ rootfs: string; workdir: string }> {
  const fs = (stage: string, path: string) => join(root, stage, path);
  for (const stage of stages) {
    let workdir = '/';
    if (stage.name === 'build') {
      const out = fs('build', '/src/dist');
      const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
      await run(`"${tsc}" -p tsconfig.build.json --outDir "${out}"`, ROOT, process.env);
      continue;
    }
    if (HOST_STAGES[stage.name]) continue;
    for (const { op, args } of stage.instructions) {
      if (op === 'WORKDIR') {
        workdir = posix.resolve(workdir, args);
        await mkdir(fs(stage.name, workdir), { recursive: true });
      } else if (op === 'COPY') {
        const words = args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        const rawDest = paths.pop() as string;
        const intoDir = rawDest.endsWith('/') || paths.length > 1;
        const dest = posix.resolve(workdir, rawDest);
        for (const src of paths) {
          const hostStage = from ? HOST_STAGES[from] : undefined;
          const source = !from ? join(ROOT, src) : hostStage ? hostStage(src) : fs(from, src);
          // as docker: a file goes into a destination directory; a directory's contents go to the destination
          const target = intoDir && !(await stat(source)).isDirectory() ? posix.join(dest, posix.basename(src)) : dest;
          await mkdir(dirname(fs(stage.name, target)), { recursive: true });
          await cp(source, fs(stage.name, target), { recursive: true, dereference: true });
        }
      } else if (op === 'RUN') {
        const cmd = args.replace(/--mount=\S+\s*/g, '');
        await run(cmd, fs(stage.name, workdir), { ...process.env, npm_config_prefer_offline: 'true' });
      }
    }
    if (stage === stages.at(-1)) return { rootfs: join(root, stage.name), workdir: fs(stage.name, workdir) };
  }
  throw new Error('no runtime stage');
}

/** The Dockerfile's text. */
export const readDockerfile = (name: string): Promise<string> => readFile(join(ROOT, name), 'utf8');
