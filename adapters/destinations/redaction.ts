// Replacing values read from variables by their labels in a text: the one primitive every guard
// against a secret in a message uses. Dependency-free, so that the SQLite worker threads load it cheaply.

/** A variable's value, and the label that messages show in its place (`options.path (from env P)`). */
export type Secret = readonly [value: string, label: string];

export type Redact = (text: string) => string;

export const unchanged: Redact = (text) => text;

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces every occurrence of each secret by its label, in one pass: a label put in is never
 * searched again, so a secret that occurs inside another's label cannot cascade. Longer secrets are
 * tried first, so one that contains another is replaced whole.
 */
export const redactor = (secrets: readonly Secret[]): Redact => {
  const usable = secrets.filter(([value]) => value !== '').sort((a, b) => b[0].length - a[0].length);
  if (usable.length === 0) return unchanged;
  const labels = new Map<string, string>();
  for (const [value, label] of usable) if (!labels.has(value)) labels.set(value, label);
  const pattern = new RegExp([...labels.keys()].map(escaped).join('|'), 'g');
  return (text) => text.replace(pattern, (found) => labels.get(found) ?? found);
};
