/** Tiny DOM helpers: element lookup that fails loudly, and element building without innerHTML. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

type Child = Node | string | null | undefined | false;

/** Create an element with a class and children (strings become text nodes, never markup). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function fmt(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** Replace a select's options, keeping the current value when it is still offered. */
export function setOptions(
  select: HTMLSelectElement,
  options: readonly (readonly [string, string])[],
): void {
  const keep = select.value;
  select.replaceChildren(...options.map(([value, text]) => h('option', { value }, text)));
  if (options.some(([v]) => v === keep)) select.value = keep;
}
