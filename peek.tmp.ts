import { readFileSync, readdirSync } from 'node:fs';
import { trainingClusters } from './src/pretrain/clusters.ts';
import { DEFAULT_SYNTH_OPTIONS } from './src/data/synth/default.ts';
const dir = process.argv[2];
const cs = new Map(trainingClusters(DEFAULT_SYNTH_OPTIONS, 300).map((c) => [c.id, c]));
const files = readdirSync(dir).sort();
const n = files.length;
for (const [lo, hi] of [[0, n / 3], [n / 3, (2 * n) / 3], [(2 * n) / 3, n]]) {
  let total = 0, inShown = 0, inCluster = 0, trained = 0, trainedShown = 0;
  for (const f of files.slice(Math.floor(lo), Math.floor(hi))) {
    for (const line of readFileSync(`${dir}/${f}`, 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(line);
      if (r.role !== 'questioner' || r.task !== 'qa' || r.parse.kind !== 'ok') continue;
      const c = cs.get(r.cluster_id);
      if (!c) { console.log('missing', r.cluster_id); continue; }
      total++;
      const ref = r.parse.referenceAnswer;
      const shown = r.documents.map((i: number) => c.documents[i]).join('\n');
      const s = shown.includes(ref);
      if (s) inShown++;
      if (c.documents.join('\n').includes(ref)) inCluster++;
      if (r.trained) { trained++; if (s) trainedShown++; }
    }
  }
  console.log(`steps ${Math.floor(lo)}-${Math.floor(hi)}: qa parsed ${total}, reference in shown docs ${inShown}, in cluster ${inCluster}; trained ${trained}, in shown ${trainedShown}`);
}
