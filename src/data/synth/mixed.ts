/**
 * mc flavour: a mixed cluster (people, four towns, rivers, companies, with years, populations and
 * staff counts) and 4-option questions: a two-hop town, a comparison across the four towns, an age
 * computed from two documents, a two-hop region. The correct option's letter is given by the
 * caller, so the corpus can balance letters exactly.
 */
import type { Rng } from '../../core/rng.ts';
import type { DraftCluster, DraftQuestion } from './text.ts';
import { between, pick } from './text.ts';
import { REGIONS } from './vocab.ts';
import { companyKey, makeWorld, personKey, townKey, worldDocuments } from './world.ts';

export type Letter = 'A' | 'B' | 'C' | 'D';
export const LETTERS: readonly Letter[] = ['A', 'B', 'C', 'D'];

/** Place `correct` at `letter` and the shuffled distractors around it. */
function options(
  rng: Rng,
  correct: string,
  distractors: readonly string[],
  letter: Letter,
): [string, string, string, string] {
  const rest = rng.shuffle(distractors.slice(0, 3));
  rest.splice(LETTERS.indexOf(letter), 0, correct);
  return [rest[0], rest[1], rest[2], rest[3]];
}

/** One mc cluster; every question's correct option sits at `letter`. */
export function mixedCluster(rng: Rng, letter: Letter): DraftCluster {
  const world = makeWorld(rng, {
    people: 3,
    towns: 4,
    rivers: between(rng, 1, 2),
    companies: 2,
  });
  const { people, towns, companies } = world;
  // Distinct populations, so "largest" has one answer.
  while (new Set(towns.map((t) => t.population)).size < towns.length) {
    towns[rng.int(towns.length)].population = between(rng, 20, 900) * 100;
  }
  const townNames = towns.map((t) => t.name);
  const c = rng.int(companies.length);
  const company = companies[c];
  const f = company.founder;
  const founder = people[f];
  const p = rng.int(people.length);
  const person = people[p];
  const birth = towns[person.birthTown];
  const biggest = towns.reduce(
    (best, t, i) => (t.population > towns[best].population ? i : best),
    0,
  );
  const age = company.founded - founder.born;
  const ages = pick(rng, [-6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6], 3).map((d) => `${age + d}`);
  const questions: DraftQuestion[] = [
    {
      kind: 'office_town',
      question: `In which town is the head office of the company founded by ${founder.name}?`,
      answer: letter,
      options: options(
        rng,
        towns[company.town].name,
        townNames.filter((_, i) => i !== company.town),
        letter,
      ),
      evidenceKeys: [personKey(f), companyKey(c)],
    },
    {
      kind: 'largest_town',
      question: `Which of these towns has the largest population?`,
      answer: letter,
      options: options(
        rng,
        towns[biggest].name,
        townNames.filter((_, i) => i !== biggest),
        letter,
      ),
      evidenceKeys: towns.map((_, i) => townKey(i)),
    },
    {
      kind: 'founding_age',
      question: `How old was ${founder.name} in the year ${founder.name} founded ${company.name}?`,
      answer: letter,
      options: options(rng, `${age}`, ages, letter),
      evidenceKeys: [personKey(f), companyKey(c)],
    },
    {
      kind: 'birth_region',
      question: `In which region was ${person.name} born?`,
      answer: letter,
      options: options(
        rng,
        birth.region,
        pick(
          rng,
          REGIONS.filter((r) => r !== birth.region),
          3,
        ),
        letter,
      ),
      evidenceKeys: [personKey(p), townKey(person.birthTown)],
    },
  ];
  return { docs: worldDocuments(world, rng), questions };
}
