import { loadModelFolder } from '../src/model/index.ts';
import { loadTokenizer } from '../src/text/index.ts';
import { Rng } from '../src/core/rng.ts';
import { trainingClusters } from '../src/pretrain/clusters.ts';
import { DEFAULT_SYNTH_OPTIONS } from '../src/data/synth/default.ts';
import { repeatExample } from '../src/pretrain/examples.ts';
import { inductionExample, inductionVocab } from '../src/pretrain/induction.ts';
import { encodeExample, toDatum, type EncodedExample } from '../src/pretrain/encode.ts';
const m = loadModelFolder(process.argv[2]);
const tok = loadTokenizer('../assets/model');
const clusters = trainingClusters(DEFAULT_SYNTH_OPTIONS, 20);
const vocab = inductionVocab(tok);
function loss(make: (r: Rng) => EncodedExample): string {
  const r = new Rng(5); let nll = 0, n = 0; const pos: number[] = []; const cnt: number[] = [];
  for (let i = 0; i < 20; i++) { const ex = make(r); const d = toDatum(ex, 1); const lp = m.forward([d], 'cross_entropy').logprobs[0];
    let k = 0; d.weights!.forEach((w, t) => { if (w > 0) { nll -= lp[t]; n++; const b = Math.min(5, Math.floor(k / 8)); pos[b] = (pos[b] ?? 0) - lp[t]; cnt[b] = (cnt[b] ?? 0) + 1; k++; } }); }
  return `${(nll / n).toFixed(3)} by 8-token bucket: ${pos.map((p, i) => (p / cnt[i]).toFixed(2)).join(' ')}`;
}
const sep = vocab.separator;
console.log('drill        ', loss((r) => inductionExample(r, vocab)));
console.log('words raw    ', loss((r) => { const s = tok.encode(repeatExample(r.choice(clusters), r).target, { addSpecialTokens: false }); return { role: 'repeat', ids: [...sep, ...s, ...sep, ...s], promptTokens: s.length + 2 * sep.length }; }));
console.log('words chat   ', loss((r) => encodeExample(tok, repeatExample(r.choice(clusters), r), { enableThinking: false, maxLmTokens: 1024 })));
console.log('ids in chat  ', loss((r) => { const ex = inductionExample(r, vocab); const run = ex.ids.slice(ex.promptTokens); const p = encodeExample(tok, { role: 'repeat', task: 'qa', prompt: 'Repeat the words below exactly, in the same order.\n\nX', target: 'X' }, { enableThinking: false, maxLmTokens: 1024 }); const pre = p.ids.slice(0, p.promptTokens); const xi = tok.encode('X', { addSpecialTokens: false }).length; const head = pre.slice(0, pre.length - 0); const idx = head.lastIndexOf(tok.encode('X', { addSpecialTokens: false })[0]); const before = pre.slice(0, idx), after = pre.slice(idx + xi); return { role: 'repeat', ids: [...before, ...run, ...after, ...run], promptTokens: before.length + run.length + after.length }; }));
