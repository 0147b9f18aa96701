/** Writes crds/*.yaml from the zod schemas (see operator/src/crds/generate.ts). Usage: npx tsx scripts/generate-crds.ts */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrds } from '../operator/src/crds/generate.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'crds');
for (const { file, yaml } of renderCrds()) {
  writeFileSync(join(dir, file), yaml);
  console.log(`wrote crds/${file}`);
}
