/**
 * Writes crds/*.yaml, and the Helm chart's copy in charts/switchyard/crds/, from the zod schemas (see
 * operator/src/crds/generate.ts). Usage: npx tsx scripts/generate-crds.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrds } from '../operator/src/crds/generate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const dir of ['crds', 'charts/switchyard/crds']) {
  for (const { file, yaml } of renderCrds()) {
    writeFileSync(join(root, dir, file), yaml);
    console.log(`wrote ${dir}/${file}`);
  }
}
