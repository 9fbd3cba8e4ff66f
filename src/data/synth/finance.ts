/**
 * docmath flavour: a short financial report of one fictional company over three years, cut into
 * 8–10 small documents (tables and prose). Numeric questions need two or more calculation steps
 * across a table and the text (sum segments, then a growth rate; revenue per employee; ...).
 *
 * Money is in millions of dollars, held in tenths so printed numbers are exact; each question
 * carries a derivation that uses the numbers exactly as printed, so its answer can be recomputed.
 */
import type { Rng } from '../../core/rng.ts';
import { evaluateArithmetic } from './arithmetic.ts';
import {
  between,
  formatAnswer,
  listText,
  pick,
  tenths,
  type DraftCluster,
  type DraftQuestion,
} from './text.ts';
import {
  COMPANY_STEMS,
  COMPANY_SUFFIXES,
  FAMILY_NAMES,
  FIRST_NAMES,
  PRODUCTS,
  SEGMENTS,
  TOWNS,
} from './vocab.ts';

type Three = [number, number, number];

interface Report {
  company: string;
  product: string;
  towns: string[];
  founded: number;
  ceo: string;
  chair: string;
  years: Three;
  segments: string[];
  /** (segment, year) revenue in tenths of a million. */
  revenue: Three[];
  costOfSales: Three;
  opex: Three;
  headcount: Three;
  cash: Three;
  debt: Three;
  capex: Three;
  research: Three;
  /** Shares in issue, tenths of a million. */
  shares: number;
  /** Dividend per share in cents. */
  dividend: Three;
}

/** Three yearly values: a start in [lo, hi] tenths, then steps of −5%..+15%. */
function series(rng: Rng, lo: number, hi: number): Three {
  const a = between(rng, lo, hi);
  const b = Math.max(1, Math.round((a * between(rng, 95, 115)) / 100));
  const c = Math.max(1, Math.round((b * between(rng, 95, 115)) / 100));
  return [a, b, c];
}

function scaled(base: Three, rng: Rng, loPct: number, hiPct: number): Three {
  return base.map((v) => Math.max(1, Math.round((v * between(rng, loPct, hiPct)) / 100))) as Three;
}

function makeReport(rng: Rng): Report {
  const first = pick(rng, FIRST_NAMES, 2);
  const family = pick(rng, FAMILY_NAMES, 2);
  const start = between(rng, 2012, 2021);
  const segments = pick(rng, SEGMENTS, 3);
  const revenue = segments.map(() => series(rng, 300, 3000));
  const total = [0, 1, 2].map((y) => revenue.reduce((s, r) => s + r[y], 0)) as Three;
  const d0 = between(rng, 20, 60);
  return {
    company: `${rng.choice(COMPANY_STEMS)} ${rng.choice(COMPANY_SUFFIXES)}`,
    product: rng.choice(PRODUCTS),
    towns: pick(rng, TOWNS, 3),
    founded: between(rng, 1950, start - 5),
    ceo: `${first[0]} ${family[0]}`,
    chair: `${first[1]} ${family[1]}`,
    years: [start, start + 1, start + 2],
    segments,
    revenue,
    costOfSales: scaled(total, rng, 50, 70),
    opex: scaled(total, rng, 10, 25),
    headcount: series(rng, 200, 3000),
    cash: series(rng, 100, 1500),
    debt: series(rng, 100, 2000),
    capex: scaled(total, rng, 4, 12),
    research: scaled(total, rng, 1, 6),
    shares: between(rng, 200, 1500),
    dividend: [d0, d0 + between(rng, 1, 8), d0 + between(rng, 9, 16)],
  };
}

function table(title: string, first: string, years: Three, rows: [string, Three][]): string {
  const head = `| ${first} | ${years.join(' | ')} |`;
  const body = rows.map(([name, v]) => `| ${name} | ${v.map(tenths).join(' | ')} |`);
  return [title, head, ...body].join('\n');
}

function documents(r: Report, rng: Rng): { key: string; text: string }[] {
  const [y0, y1, y2] = r.years;
  const docs = [
    {
      key: 'overview',
      text: `${r.company} is a maker of ${r.product} based in ${r.towns[0]}. The company was founded in ${r.founded} and is led by chief executive ${r.ceo}. This report covers the years ${y0}, ${y1} and ${y2}. All amounts are in millions of dollars unless stated otherwise. The company sells its ${r.product} through three segments: ${listText(r.segments)}. Its main plant is in ${r.towns[0]} and a second site is in ${r.towns[1]}.`,
    },
    {
      key: 'revenue',
      text: `${table(
        'Table 1: Revenue by segment (million dollars)',
        'Segment',
        r.years,
        r.segments.map((s, i) => [s, r.revenue[i]]),
      )}\nThe table shows the revenue of each segment of ${r.company}. Total revenue is the sum of the three segments.`,
    },
    {
      key: 'costs',
      text: `${table('Table 2: Costs (million dollars)', 'Item', r.years, [
        ['Cost of sales', r.costOfSales],
        ['Operating expenses', r.opex],
      ])}\nCost of sales covers materials, energy and factory wages. Operating expenses cover sales, offices and administration. Operating profit is total revenue minus cost of sales minus operating expenses.`,
    },
    {
      key: 'workforce',
      text: `At the end of ${y0} ${r.company} employed ${r.headcount[0]} people. The number of employees was ${r.headcount[1]} at the end of ${y1} and ${r.headcount[2]} at the end of ${y2}. Most staff work at the plant in ${r.towns[0]}. The company trains new staff for six weeks before they join a production line.`,
    },
    {
      key: 'cash',
      text: `Cash at the end of ${y2} was ${tenths(r.cash[2])} million dollars, compared with ${tenths(r.cash[1])} million dollars at the end of ${y1} and ${tenths(r.cash[0])} million dollars at the end of ${y0}. Total debt was ${tenths(r.debt[0])}, ${tenths(r.debt[1])} and ${tenths(r.debt[2])} million dollars at the end of ${y0}, ${y1} and ${y2}. Net cash is cash minus total debt.`,
    },
    {
      key: 'investment',
      text: `${table('Table 3: Investment (million dollars)', 'Item', r.years, [
        ['Capital spending', r.capex],
        ['Research', r.research],
      ])}\nCapital spending went mostly to new machines in ${r.towns[0]} and ${r.towns[1]}. Research covers new designs for ${r.product}.`,
    },
    {
      key: 'shareholders',
      text: `${r.company} had ${tenths(r.shares)} million shares in issue in each year from ${y0} to ${y2}. It paid a dividend of ${(r.dividend[0] / 100).toFixed(2)} dollars per share for ${y0}, ${(r.dividend[1] / 100).toFixed(2)} dollars per share for ${y1} and ${(r.dividend[2] / 100).toFixed(2)} dollars per share for ${y2}. The total dividend is the dividend per share times the number of shares.`,
    },
  ];
  const optional = [
    {
      key: 'outlook',
      text: `For ${y2 + 1} ${r.company} expects revenue to grow by about ${between(rng, 2, 9)} percent. It plans to open a new site in ${r.towns[2]} and to hire about ${between(rng, 2, 9) * 10} more staff. The company also plans to launch a new range of ${r.product}. These plans may change if demand for ${r.product} falls.`,
    },
    {
      key: 'risks',
      text: `The main risks for ${r.company} are the price of materials, the cost of energy and the demand for ${r.product}. A fall in demand in the ${r.segments[0]} segment would hit revenue first. The company buys most materials from suppliers near ${r.towns[1]}. It holds insurance against fire and flood at each site.`,
    },
    {
      key: 'board',
      text: `The board of ${r.company} has ${between(rng, 5, 9)} members. ${r.ceo} has led the company since ${between(rng, r.founded + 1, y0)}. The chair of the board is ${r.chair}. The board met ${between(rng, 6, 12)} times in ${y2}. It reviews the plans for each segment once a year.`,
    },
    {
      key: 'segments',
      text: `The ${r.segments[0]} segment sells ${r.product} to customers near ${r.towns[0]}. The ${r.segments[1]} segment serves larger buyers. The ${r.segments[2]} segment is run from ${r.towns[1]}. Each segment has its own manager, who reports to ${r.ceo}.`,
    },
  ];
  return [...docs, ...pick(rng, optional, between(rng, 1, 3))];
}

/** A question template: builds the wording and the derivation over printed numbers. */
type Template = (r: Report, rng: Rng) => Omit<DraftQuestion, 'answer'> & { derivation: string };

const sumExpr = (r: Report, y: number) => `(${r.revenue.map((s) => tenths(s[y])).join(' + ')})`;

function twoYears(rng: Rng): [number, number] {
  const [a, b] = pick(rng, [0, 1, 2], 2).sort((x, y) => x - y);
  return [a, b];
}

const TEMPLATES: Template[] = [
  (r, rng) => {
    const [a, b] = twoYears(rng);
    return {
      kind: 'revenue_growth',
      question: `By what percentage did the total revenue of ${r.company} change from ${r.years[a]} to ${r.years[b]}?`,
      derivation: `(${sumExpr(r, b)} - ${sumExpr(r, a)}) / ${sumExpr(r, a)} * 100`,
      evidenceKeys: ['revenue'],
    };
  },
  (r, rng) => {
    const y = rng.int(3);
    return {
      kind: 'operating_profit',
      question: `What was the operating profit of ${r.company} in ${r.years[y]}, in million dollars?`,
      derivation: `${sumExpr(r, y)} - ${tenths(r.costOfSales[y])} - ${tenths(r.opex[y])}`,
      evidenceKeys: ['revenue', 'costs'],
    };
  },
  (r, rng) => {
    const y = rng.int(3);
    return {
      kind: 'operating_margin',
      question: `What was the operating margin of ${r.company} in ${r.years[y]}, as a percentage of total revenue?`,
      derivation: `(${sumExpr(r, y)} - ${tenths(r.costOfSales[y])} - ${tenths(r.opex[y])}) / ${sumExpr(r, y)} * 100`,
      evidenceKeys: ['revenue', 'costs'],
    };
  },
  (r, rng) => {
    const y = rng.int(3);
    return {
      kind: 'revenue_per_employee',
      question: `What was the total revenue of ${r.company} per employee in ${r.years[y]}, in thousand dollars?`,
      derivation: `${sumExpr(r, y)} / ${r.headcount[y]} * 1000`,
      evidenceKeys: ['revenue', 'workforce'],
    };
  },
  (r, rng) => {
    const y = rng.int(3);
    const s = rng.int(3);
    return {
      kind: 'segment_share',
      question: `What share of the total revenue of ${r.company} in ${r.years[y]} came from the ${r.segments[s]} segment, in percent?`,
      derivation: `${tenths(r.revenue[s][y])} / ${sumExpr(r, y)} * 100`,
      evidenceKeys: ['revenue'],
    };
  },
  (r, rng) => {
    const [a, b] = twoYears(rng);
    const shares = tenths(r.shares);
    return {
      kind: 'dividend_change',
      question: `How much more did ${r.company} pay in total dividends for ${r.years[b]} than for ${r.years[a]}, in million dollars?`,
      derivation: `${shares} * ${(r.dividend[b] / 100).toFixed(2)} - ${shares} * ${(r.dividend[a] / 100).toFixed(2)}`,
      evidenceKeys: ['shareholders'],
    };
  },
  (r, rng) => {
    const [a, b] = twoYears(rng);
    return {
      kind: 'net_cash_change',
      question: `By how much did the net cash of ${r.company} change from the end of ${r.years[a]} to the end of ${r.years[b]}, in million dollars?`,
      derivation: `(${tenths(r.cash[b])} - ${tenths(r.debt[b])}) - (${tenths(r.cash[a])} - ${tenths(r.debt[a])})`,
      evidenceKeys: ['cash'],
    };
  },
  (r, rng) => {
    const y = rng.int(3);
    return {
      kind: 'capex_share',
      question: `What was the capital spending of ${r.company} in ${r.years[y]} as a percentage of its total revenue?`,
      derivation: `${tenths(r.capex[y])} / ${sumExpr(r, y)} * 100`,
      evidenceKeys: ['investment', 'revenue'],
    };
  },
  (r, rng) => {
    const y = rng.int(3);
    return {
      kind: 'research_per_employee',
      question: `How much did ${r.company} spend on research per employee in ${r.years[y]}, in thousand dollars?`,
      derivation: `${tenths(r.research[y])} / ${r.headcount[y]} * 1000`,
      evidenceKeys: ['investment', 'workforce'],
    };
  },
];

/** Number of docmath question templates (eval questions cycle through them). */
export const FINANCE_TEMPLATE_COUNT = TEMPLATES.length;

/**
 * One financial report cluster with one question per template (answers |x| ≥ 1 only, so the
 * rounding of the printed answer stays inside the rule check's tolerance).
 */
export function financeCluster(rng: Rng): DraftCluster {
  const report = makeReport(rng);
  const docs = documents(report, rng);
  const questions: DraftQuestion[] = [];
  for (const template of TEMPLATES) {
    const q = template(report, rng);
    const value = evaluateArithmetic(q.derivation);
    if (!Number.isFinite(value) || Math.abs(value) < 1) continue;
    questions.push({ ...q, answer: formatAnswer(value) });
  }
  return { docs, questions };
}
