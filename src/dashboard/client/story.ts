/**
 * One question's story in a step: the questioner sample and its parse outcome, the cluster's
 * documents (the ones the questioner saw highlighted, the rest marked as distractors), every
 * responder answer with its rule score and the verifier votes on it with their majority.
 */
import type { QuestionStory, Rec } from './api.ts';
import { fmt, h } from './dom.ts';

function field(label: string, value: unknown): HTMLElement {
  return h('span', { class: 'field' }, h('b', {}, `${label} `), fmt(value));
}

function voteWord(v: unknown): [string, string] {
  if (v === 1 || v === true) return ['YES', 'vote-yes'];
  if (v === 0 || v === false) return ['NO', 'vote-no'];
  return ['invalid', 'vote-invalid'];
}

function parseView(parse: unknown): HTMLElement {
  if (typeof parse !== 'object' || parse === null) return h('p', {}, 'parse: –');
  const p = parse as Rec;
  const rows: HTMLElement[] = [h('p', {}, field('parse', p.kind))];
  // whatever the parser recorded (question, reference answer, options, reason …), in its order
  for (const [k, v] of Object.entries(p)) {
    if (k !== 'kind') rows.push(h('p', {}, h('b', {}, `${k}: `), fmt(v)));
  }
  return h('div', { class: 'parse' }, ...rows);
}

function documentsView(story: QuestionStory): HTMLElement {
  const c = story.cluster;
  if (c === null) return h('p', {}, 'no cluster recorded for this sample');
  if (!c.ok) return h('p', { class: 'unavailable' }, `cluster ${c.id}: ${c.reason}`);
  const seenRaw = story.questioner?.documents;
  const seen = new Set(Array.isArray(seenRaw) ? seenRaw.filter((x) => typeof x === 'number') : []);
  return h(
    'div',
    { class: 'docs' },
    h(
      'h3',
      {},
      `Cluster ${c.id}: ${seen.size} of ${c.documents.length} documents seen by the questioner`,
    ),
    // the documents the questioner saw first, then the distractors; each keeps its index
    ...[...c.documents.keys()]
      .sort((a, b) => Number(seen.has(b)) - Number(seen.has(a)) || a - b)
      .map((i) => [i, c.documents[i] ?? ''] as const)
      .map(([i, d]) =>
        h(
          'div',
          { class: seen.has(i) ? 'doc seen' : 'doc distractor', 'data-doc': String(i) },
          h('span', { class: 'tag' }, seen.has(i) ? `doc ${i} · seen` : `doc ${i} · distractor`),
          '\n',
          d,
        ),
      ),
  );
}

function answerView(r: Rec, votes: readonly Rec[]): HTMLElement {
  const pass = typeof r.rule_score === 'number' && r.rule_score > 0;
  const first = votes[0];
  return h(
    'div',
    { class: pass ? 'answer pass' : 'answer', 'data-index': fmt(r.index) },
    h(
      'p',
      {},
      field('answer', r.index),
      field('pred', r.pred),
      field('gt', r.gt ?? r.answer),
      field('rule score', r.rule_score),
      field('reward', r.reward),
      field('advantage', r.advantage),
      field('trained', r.trained),
    ),
    h('pre', {}, fmt(r.text)),
    votes.length === 0
      ? null
      : h(
          'div',
          { class: 'votes' },
          h('b', {}, 'verifier votes: '),
          ...votes.flatMap((v) => {
            const [word, cls] = voteWord(v.vote);
            return [h('span', { class: cls, title: fmt(v.text) }, word), ' '];
          }),
          ' majority ',
          h('b', {}, voteWord(first?.majority)[0]),
          ` · agreement ${fmt(first?.agreement)} · verifier rewards ${votes.map((v) => fmt(v.reward)).join(', ')} · trained ${fmt(first?.trained)}`,
        ),
  );
}

export function renderStory(host: HTMLElement, story: QuestionStory): void {
  const q = story.questioner;
  const head = h('h3', {}, `Step ${story.step} · question ${story.uid}`);
  const parts: (HTMLElement | null)[] = [head];
  if (q !== null) {
    parts.push(
      h(
        'p',
        {},
        field('task', q.task),
        field('label', q.label),
        field('pass rate', q.pass_rate),
        field('reward', q.reward),
        field('advantage', q.advantage),
        field('trained', q.trained),
      ),
      h('h3', {}, 'Questioner'),
      h('pre', {}, fmt(q.text)),
      parseView(q.parse),
      documentsView(story),
    );
  }
  parts.push(h('h3', {}, `Responder answers (${story.responders.length})`));
  for (const r of story.responders) {
    const votes = story.verifiers.filter((v) => v.responder_index === r.index);
    parts.push(answerView(r, votes));
  }
  host.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
}
