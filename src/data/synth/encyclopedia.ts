/**
 * qa flavour: an encyclopedia-style cluster of 9–11 linked entity entries (people, towns, rivers,
 * companies) with multi-hop questions whose answers are short entity names: a river, a town,
 * a lake or a region, each reached through two or three documents.
 */
import type { Rng } from '../../core/rng.ts';
import type { DraftCluster, DraftQuestion } from './text.ts';
import { between } from './text.ts';
import { companyKey, makeWorld, personKey, riverKey, townKey, worldDocuments } from './world.ts';

/** One qa cluster with one question per template. */
export function encyclopediaCluster(rng: Rng): DraftCluster {
  const world = makeWorld(rng, {
    people: between(rng, 3, 4),
    towns: 3,
    rivers: 2,
    companies: between(rng, 1, 2),
  });
  const { people, towns, rivers, companies } = world;
  const p = rng.int(people.length);
  const person = people[p];
  const birth = towns[person.birthTown];
  const c = rng.int(companies.length);
  const company = companies[c];
  const founder = people[company.founder];
  const hq = towns[company.town];
  const questions: DraftQuestion[] = [
    {
      kind: 'birth_river',
      question: `On which river lies the town where ${person.name} was born?`,
      answer: rivers[birth.river].name,
      evidenceKeys: [personKey(p), townKey(person.birthTown)],
    },
    {
      kind: 'founder_town',
      question: `In which town was the founder of ${company.name} born?`,
      answer: towns[founder.birthTown].name,
      evidenceKeys: [companyKey(c), personKey(company.founder)],
    },
    {
      kind: 'birth_lake',
      question: `Into which lake does the river flow that passes the town where ${person.name} was born?`,
      answer: rivers[birth.river].mouth,
      evidenceKeys: [personKey(p), townKey(person.birthTown), riverKey(birth.river)],
    },
    {
      kind: 'office_region',
      question: `In which region is the head office of ${company.name}?`,
      answer: hq.region,
      evidenceKeys: [companyKey(c), townKey(company.town)],
    },
  ];
  return { docs: worldDocuments(world, rng), questions };
}
