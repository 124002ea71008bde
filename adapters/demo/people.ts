// Realistic, reproducible customer data for the demo and the benchmarks: profiles with names,
// emails, lifetime value and plan, groups (vip, newsletter, trial), and rounds of changes.
import type { InputEvent } from '../../domain/events.js';

/** mulberry32: a tiny seeded generator, so every demo and benchmark sees the same people. */
export const random = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const FIRST = [
  'Ada',
  'Ben',
  'Chloé',
  'Dev',
  'Emma',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemi',
  'Liam',
  'Maya',
  'Noor',
  'Oscar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Vera',
  'Wei',
  'Ximena',
  'Yusuf',
  'Zoë',
];
const LAST = [
  'Andersen',
  'Barros',
  'Chen',
  'Dubois',
  'Eze',
  'Fischer',
  'García',
  'Haddad',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Patel',
  'Rossi',
  'Santos',
  'Tanaka',
  'Varga',
];
const DOMAINS = ['example.com', 'mail.test', 'inbox.example', 'corp.example'];
const PLANS = ['free', 'starter', 'pro', 'enterprise'];

export const GROUPS = {
  vip: 'VIP customers',
  newsletter: 'Newsletter subscribers',
  trial: 'On a trial',
} as const;

export type Person = { profileId: string; email: string; firstName: string; lastName: string };

const pick = <A>(rnd: () => number, xs: readonly A[]): A => xs[Math.floor(rnd() * xs.length)] as A;

export const personAt = (i: number, rnd: () => number): Person => {
  const firstName = pick(rnd, FIRST);
  const lastName = pick(rnd, LAST);
  const email = `${firstName}.${lastName}.${i}@${pick(rnd, DOMAINS)}`
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
  return { profileId: `p${String(i).padStart(7, '0')}`, email, firstName, lastName };
};

/** The groups, then `count` profiles, each followed by the groups it joins. */
export function* population(count: number, seed = 42): Generator<InputEvent> {
  const rnd = random(seed);
  for (const [groupId, name] of Object.entries(GROUPS))
    yield { type: 'GroupCreated', data: { groupId, name } };
  for (let i = 0; i < count; i++) {
    const p = personAt(i, rnd);
    yield {
      type: 'ProfileCreated',
      data: {
        profileId: p.profileId,
        properties: {
          email: p.email,
          firstName: p.firstName,
          lastName: p.lastName,
          lifetimeValue: Math.round(rnd() * 500000) / 100,
          plan: pick(rnd, PLANS),
          signedUpAt: new Date(Date.UTC(2023, 0, 1) + Math.floor(rnd() * 700) * 86400000)
            .toISOString()
            .slice(0, 10),
        },
      },
    };
    if (rnd() < 0.2) yield { type: 'ProfileJoinedGroup', data: { groupId: 'vip', profileId: p.profileId } };
    if (rnd() < 0.6)
      yield { type: 'ProfileJoinedGroup', data: { groupId: 'newsletter', profileId: p.profileId } };
    if (rnd() < 0.1) yield { type: 'ProfileJoinedGroup', data: { groupId: 'trial', profileId: p.profileId } };
  }
}

export type Round = { readonly events: InputEvent[]; readonly counts: Record<string, number> };

/**
 * A round of everyday changes to `fraction` of the first `count` profiles: new values, changed
 * emails, leaving and joining groups, deletions; plus `newcomers` (by default `fraction`) new
 * profiles. Needs the membership the population gave (re-generated from the same seed) to only emit
 * events that ingest accepts.
 */
export const changes = (count: number, fraction: number, seed = 42, newcomers = fraction): Round => {
  const rnd = random(seed + 1);
  const n = Math.max(1, Math.round(count * fraction));
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, count)) chosen.add(Math.floor(rnd() * count));
  const idOf = (i: number): string => `p${String(i).padStart(7, '0')}`;
  // The memberships of the chosen profiles only: ten million profiles' would not fit in memory.
  const members = new Map<string, Set<string>>([...chosen].map((i) => [idOf(i), new Set<string>()]));
  for (const e of population(count, seed))
    if (e.type === 'ProfileJoinedGroup') members.get(e.data.profileId)?.add(e.data.groupId);
  const events: InputEvent[] = [];
  const counts: Record<string, number> = {
    changed: 0,
    renamed: 0,
    left: 0,
    joined: 0,
    deleted: 0,
    created: 0,
  };
  for (const i of [...chosen].sort((a, b) => a - b)) {
    const profileId = idOf(i);
    const groups = members.get(profileId) ?? new Set<string>();
    const roll = rnd();
    if (roll < 0.35) {
      events.push({
        type: 'ProfilePropertiesChanged',
        data: { profileId, set: { lifetimeValue: Math.round(rnd() * 900000) / 100, plan: pick(rnd, PLANS) } },
      });
      counts.changed = (counts.changed ?? 0) + 1;
    } else if (roll < 0.5) {
      events.push({
        type: 'ProfilePropertiesChanged',
        data: { profileId, set: { email: `renamed.${i}@new-mail.example` } },
      });
      counts.renamed = (counts.renamed ?? 0) + 1;
    } else if (roll < 0.7 && groups.size > 0) {
      const groupId = [...groups][0] as string;
      events.push({ type: 'ProfileLeftGroup', data: { groupId, profileId } });
      counts.left = (counts.left ?? 0) + 1;
    } else if (roll < 0.9) {
      const groupId = groups.has('vip') ? 'newsletter' : 'vip';
      events.push({ type: 'ProfileJoinedGroup', data: { groupId, profileId } });
      counts.joined = (counts.joined ?? 0) + 1;
    } else {
      events.push({ type: 'ProfileDeleted', data: { profileId } });
      counts.deleted = (counts.deleted ?? 0) + 1;
    }
  }
  // As many as were changed unless told otherwise (n is at least one, where the fraction rounds to none).
  const arrivals = newcomers === fraction ? n : Math.round(count * newcomers);
  let i = 0;
  for (const e of arrivals === 0 ? [] : population(count + arrivals, seed + 7)) {
    if (e.type === 'GroupCreated') continue;
    // Newcomers get ids past the population's, so they never collide with existing profiles.
    const data = e.data as { profileId: string };
    const idx = Number(data.profileId.slice(1));
    if (idx < count) continue;
    if (e.type === 'ProfileCreated') {
      if (i >= arrivals) break;
      i++;
      counts.created = (counts.created ?? 0) + 1;
    }
    events.push(e);
  }
  return { events, counts };
};
