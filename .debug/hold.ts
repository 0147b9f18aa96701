import { writeFileSync } from 'node:fs';
import { startCluster } from '../test/cluster/index.js';
const c = await startCluster().catch((e) => { console.error('START FAILED', e.message.slice(0, 3000)); process.exit(1); });
writeFileSync('/tmp/cluster-probe/hold.env', `export KUBECONFIG=${c.cp.kubeconfigPath}\nexport PATH=${c.cp.binDir}:$PATH\nDIR=${c.dir}\n`);
console.log('READY', c.dir);
process.on('SIGTERM', async () => { await c.stop(); process.exit(0); });
setInterval(() => {}, 1000);
