/**
 * A small linked world for the qa and mc flavours: people, towns, rivers and companies whose
 * encyclopedia-style entries point at each other (a person was born in a town, the town lies on a
 * river, the river flows into a lake, a company was founded by a person and sits in a town).
 * Every link stays inside the cluster, so multi-hop questions are answerable from its documents
 * and only from them. Names are unique within a world.
 */
import type { Rng } from '../../core/rng.ts';
import { between, pick } from './text.ts';
import {
  COMPANY_STEMS,
  COMPANY_SUFFIXES,
  FAMILY_NAMES,
  FIRST_NAMES,
  HILLS,
  LAKES,
  OCCUPATIONS,
  PRODUCTS,
  REGIONS,
  RIVERS,
  TOWNS,
  TOWN_TRADES,
} from './vocab.ts';

export interface Person {
  name: string;
  occupation: string;
  born: number;
  birthTown: number;
  /** Index of the company this person founded, if any. */
  founded?: number;
}
export interface Town {
  name: string;
  region: string;
  river: number;
  population: number;
  foundedYear: number;
  trade: string;
}
export interface River {
  name: string;
  lengthKm: number;
  source: string;
  mouth: string;
}
export interface Company {
  name: string;
  product: string;
  founded: number;
  founder: number;
  town: number;
  staff: number;
}
export interface World {
  people: Person[];
  towns: Town[];
  rivers: River[];
  companies: Company[];
}

/** Sizes of a world; every count ≥ 1 and companies ≤ people. */
export interface WorldShape {
  people: number;
  towns: number;
  rivers: number;
  companies: number;
}

/** Build a world of the given shape. */
export function makeWorld(rng: Rng, shape: WorldShape): World {
  const lakes = pick(rng, LAKES, shape.rivers);
  const rivers = pick(rng, RIVERS, shape.rivers).map((name, i) => ({
    name,
    lengthKm: between(rng, 20, 400),
    source: rng.choice(HILLS),
    mouth: lakes[i],
  }));
  // Every river gets at least one town, so no river document is a dead end.
  const towns = pick(rng, TOWNS, shape.towns).map((name, i) => ({
    name,
    region: rng.choice(REGIONS),
    river: i < shape.rivers ? i : rng.int(shape.rivers),
    population: between(rng, 20, 900) * 100,
    foundedYear: between(rng, 1100, 1850),
    trade: rng.choice(TOWN_TRADES),
  }));
  const firsts = pick(rng, FIRST_NAMES, shape.people);
  const families = pick(rng, FAMILY_NAMES, shape.people);
  const people: Person[] = firsts.map((first, i) => ({
    name: `${first} ${families[i]}`,
    occupation: rng.choice(OCCUPATIONS),
    born: between(rng, 1900, 1990),
    birthTown: rng.int(shape.towns),
  }));
  const stems = pick(rng, COMPANY_STEMS, shape.companies);
  const founders = pick(
    rng,
    people.map((_, i) => i),
    shape.companies,
  );
  const companies = stems.map((stem, i) => {
    const founder = founders[i];
    people[founder].founded = i;
    return {
      name: `${stem} ${rng.choice(COMPANY_SUFFIXES)}`,
      product: rng.choice(PRODUCTS),
      founded: people[founder].born + between(rng, 22, 50),
      founder,
      town: rng.int(shape.towns),
      staff: between(rng, 2, 90) * 10,
    };
  });
  return { people, towns, rivers, companies };
}

/** Document keys, shared by the flavours for evidence. */
export const personKey = (i: number) => `person:${i}`;
export const townKey = (i: number) => `town:${i}`;
export const riverKey = (i: number) => `river:${i}`;
export const companyKey = (i: number) => `company:${i}`;

/** "a painter", "an engineer". */
export function withArticle(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/**
 * The encyclopedia entry of every entity, keyed. Extra sentences mention other towns and years of
 * the same world on purpose: fair distractors for a reader who skims.
 */
export function worldDocuments(w: World, rng: Rng): { key: string; text: string }[] {
  const docs: { key: string; text: string }[] = [];
  const otherTown = (not: number) => {
    const i = rng.int(w.towns.length - 1);
    return w.towns[i >= not ? i + 1 : i].name;
  };
  w.people.forEach((p, i) => {
    const town = w.towns[p.birthTown];
    const company = p.founded === undefined ? undefined : w.companies[p.founded];
    const work =
      company === undefined
        ? `${p.name} worked as ${withArticle(p.occupation)} for most of their life and never ran a company.`
        : `${p.name} founded the company ${company.name}.`;
    const later =
      w.towns.length > 1
        ? `Later ${p.name} moved to ${otherTown(p.birthTown)}, where ${p.name} lived for ${between(rng, 3, 30)} years.`
        : `${p.name} spent most of their life in ${town.name}.`;
    docs.push({
      key: personKey(i),
      text: `${p.name} is ${withArticle(p.occupation)}. ${p.name} was born in ${p.born} in the town of ${town.name}. ${work} ${later} ${p.name} is known for steady work as ${withArticle(p.occupation)} and for a book of letters published in ${p.born + between(rng, 25, 60)}. Friends describe ${p.name} as careful and patient.`,
    });
  });
  w.towns.forEach((t, i) => {
    const river = w.rivers[t.river];
    docs.push({
      key: townKey(i),
      text: `${t.name} is a town in the region of ${t.region}. It lies on the river ${river.name}. The town was founded in ${t.foundedYear} and has a population of ${t.population}. Its main trade is ${t.trade}. A market is held in ${t.name} every week, and an old bridge crosses the river there. The town has ${between(rng, 2, 9)} schools and a small museum about its history. A road links ${t.name} with the town of ${w.towns.length > 1 ? otherTown(i) : t.name}.`,
    });
  });
  w.rivers.forEach((r, i) => {
    docs.push({
      key: riverKey(i),
      text: `The ${r.name} is a river. It rises in the ${r.source} and flows into ${r.mouth}. The ${r.name} is ${r.lengthKm} km long. Small boats can use the lower part of the river. Fish such as trout live in its clear water. A path runs along the ${r.name} for much of its length, and in spring the river often floods the fields near its banks.`,
    });
  });
  w.companies.forEach((c, i) => {
    const founder = w.people[c.founder];
    const town = w.towns[c.town];
    const shop =
      w.towns.length > 1
        ? ` In ${c.founded + between(rng, 2, 20)} it opened a shop in ${otherTown(c.town)}.`
        : '';
    docs.push({
      key: companyKey(i),
      text: `${c.name} is a company that makes ${c.product}. It was founded in ${c.founded} by ${founder.name}. Its head office is in the town of ${town.name}. The company has ${c.staff} staff.${shop} It sells its ${c.product} in ${town.region} and beyond, and it is known for good service.`,
    });
  });
  return docs;
}
