/**
 * The hunt's dispatch index: which rules an event can possibly match, computed with a few field reads and
 * bitset operations per event, whatever the number of rules.
 *
 * Each rule's guard expression (necessary conditions of its query, see guard.ts) is turned into
 * *clauses*, all of which the event must satisfy; a clause is a disjunction of guard terms. Single-field
 * clauses (`event.category in (process)`, `event.type in (start)`, `process.name in (cmd.exe, ...)`,
 * `dll.name exists`) are indexed per field: for each routed field there is a bitset of the rules it lets
 * through for each value, for "some other value" and for "no value", and an event's candidate set is the
 * AND over routed fields. At most one multi-field clause per rule (from an `or` across fields, or the
 * stages of a sequence) is indexed the other way round: OR over fields of the rules whose clause a value
 * satisfies. A rule with no clause is in every candidate set.
 *
 * A clause is only ever a consequence of the query, so a rule is never skipped for an event it could
 * match: multi-valued fields (a category array) let a rule through when ANY value does, and a missing
 * field only lets through rules with no clause on it.
 */
import { compileFieldTester, type FieldTester } from "../events/field-access.js";
import type { JsonObject, JsonValue } from "../events/types.js";
import { type Guard, type GuardExpr, type GuardTerm, integerKey, union } from "./guard.js";

/** A disjunction of terms (at most one term per field). */
export type Clause = readonly GuardTerm[];

/** Fraction of events a term lets through. */
export type Estimate = (t: GuardTerm) => number;

function clauseCost(c: Clause, estimate: Estimate): number {
  let cost = 0;
  for (const t of c) cost += estimate(t);
  return Math.min(cost, 1);
}

function best(clauses: readonly Clause[], estimate: Estimate): Clause | undefined {
  let chosen: Clause | undefined;
  let cost = Number.POSITIVE_INFINITY;
  for (const c of clauses) {
    const k = clauseCost(c, estimate);
    if (k < cost) {
      cost = k;
      chosen = c;
    }
  }
  return chosen;
}

/** Bound on the clauses kept per expression (a pathological query must not blow up compile time). */
const MAX_CLAUSES = 64;

/**
 * Necessary clauses of a guard expression. `all`: every child's clauses. `any`: for each field every
 * item constrains on its own, the union of those constraints (so a sequence of process and network
 * stages still needs `event.category in (process, network)`), plus the union of each item's most
 * selective clause. An item with no clause makes the `any` unconstrained.
 */
export function clausesOf(expr: GuardExpr | undefined, estimate: Estimate): Clause[] {
  if (!expr) return [];
  switch (expr.kind) {
    case "term":
      return [[expr.term]];
    case "all": {
      const out: Clause[] = [];
      for (const item of expr.items) for (const c of clausesOf(item, estimate)) out.push(c);
      return out.length > MAX_CLAUSES ? pruned(out, estimate) : out;
    }
    case "any": {
      const per = expr.items.map((i) => clausesOf(i, estimate));
      if (per.some((c) => c.length === 0)) return [];
      const out: Clause[] = [];
      // Fields every item constrains with a single-field clause.
      const singles = per.map((cs) => {
        const m = new Map<string, Clause>();
        for (const c of cs) {
          if (c.length !== 1) continue;
          const prev = m.get(c[0].field);
          if (!prev || clauseCost(c, estimate) < clauseCost(prev, estimate)) m.set(c[0].field, c);
        }
        return m;
      });
      for (const field of singles[0].keys()) {
        let merged: Guard = [];
        for (const m of singles) {
          merged = union(merged, m.get(field));
          if (!merged) break;
        }
        if (merged && merged.length === 1) out.push(merged);
      }
      let joined: Guard = [];
      for (const cs of per) joined = union(joined, best(cs, estimate));
      if (joined && joined.length > 0 && !out.some((c) => sameClause(c, joined!))) out.push(joined);
      return out;
    }
    default: {
      const never: never = expr;
      throw new Error(`unknown guard ${JSON.stringify(never)}`);
    }
  }
}

function sameClause(a: Clause, b: Clause): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function pruned(clauses: Clause[], estimate: Estimate): Clause[] {
  return [...clauses].sort((a, b) => clauseCost(a, estimate) - clauseCost(b, estimate)).slice(0, MAX_CLAUSES);
}

/** Fields read for every event anyway: a clause on them costs no extra read. */
const CORE_FIELDS = new Set(["event.category", "event.type", "event.action", "host.os.type", "process.name"]);

/** Top-level keys remembered from the previous document (see RuleIndex.seenKeys); hostile input has more. */
const MAX_SEEN_KEYS = 512;

/** A clause letting through more than this fraction of events is not worth routing on its own field. */
const USEFUL = 0.6;

/** The clauses a rule is routed by: single-field ones (one per field) and at most one multi-field one. */
export interface RuleRouting {
  readonly single: readonly GuardTerm[];
  readonly multi: Clause | undefined;
}

/**
 * Choose a rule's routing clauses: the most selective clause (single- or multi-field), plus single-field
 * clauses on the core fields and any other single-field clause selective enough to be worth a read.
 */
export function chooseRouting(expr: GuardExpr | undefined, estimate: Estimate): RuleRouting {
  const clauses = clausesOf(expr, estimate);
  const perField = new Map<string, GuardTerm>();
  let multi: Clause | undefined;
  let multiCost = Number.POSITIVE_INFINITY;
  for (const c of clauses) {
    const cost = clauseCost(c, estimate);
    if (c.length === 1) {
      const t = c[0];
      const prev = perField.get(t.field);
      if (!prev || cost < estimate(prev)) perField.set(t.field, t);
    } else if (cost < multiCost) {
      multi = c;
      multiCost = cost;
    }
  }
  let bestSingle = Number.POSITIVE_INFINITY;
  for (const t of perField.values()) bestSingle = Math.min(bestSingle, estimate(t));
  const single: GuardTerm[] = [];
  for (const t of perField.values()) {
    const cost = estimate(t);
    if (CORE_FIELDS.has(t.field) ? cost < 0.999 : cost <= bestSingle || cost < USEFUL) single.push(t);
  }
  if (multiCost >= bestSingle || multiCost >= USEFUL) multi = undefined;
  return { single, multi };
}

type Bits = Uint32Array;

/**
 * Fields constraining fewer rules than this are not routed by (dropping a routing clause only widens a
 * rule's candidate set). Off (1): on the detection-rules corpus, dropping the fields of fewer than 4 or 16
 * rules made the hunt about 20% slower, since a routed read rules a field's rules out for less than their
 * literal pre-checks cost.
 */
const MIN_RULES_PER_FIELD = 1;

function withoutRareFields(
  rules: readonly { readonly index: number; readonly routing: RuleRouting }[],
  min: number,
): { readonly index: number; readonly routing: RuleRouting }[] {
  if (min <= 1) return [...rules];
  const count = new Map<string, number>();
  const add = (field: string) => count.set(field, (count.get(field) ?? 0) + 1);
  for (const { routing } of rules) {
    for (const t of routing.single) add(t.field);
    for (const t of routing.multi ?? []) add(t.field);
  }
  const kept = (field: string) => (count.get(field) ?? 0) >= min;
  return rules.map(({ index, routing }) => ({
    index,
    routing: {
      single: routing.single.filter((t) => kept(t.field)),
      // An `or` across fields holds only when one of them does: without every field it cannot be routed.
      multi: routing.multi?.every((t) => kept(t.field)) ? routing.multi : undefined,
    },
  }));
}

/** Fields read for every event: at most this many, each constraining at least this many rules. */
const MAX_PRIMARY = 8;
const MIN_PRIMARY_WEIGHT = 24;

/** One routed field: its reader and, per layer, the rules each value lets through. */
interface RoutedField {
  readonly path: string;
  readonly tester: FieldTester;
  /** Keys of integer-typed guards are compared by integer part; only then are strings parsed. */
  numericKeys: boolean;
  /**
   * The longest value key. A string over twice as long has no entry, so it is not lower-cased at all
   * (command lines, paths): lower-casing maps each character to one or more characters, so it never
   * shortens a string below half its UTF-16 length (a surrogate pair's lower case is at least one unit).
   */
  maxKeyLength: number;
  /** Conjunctive layer: rules let through when the field has no value. */
  absent?: Bits;
  /** ... when it has a value with no entry in `values`. */
  present?: Bits;
  values?: Map<string, Bits>;
  /**
   * Words of the bitsets where some rule is constrained by this field (elsewhere every bit is set), as a
   * set of word numbers (see `wordSet`).
   */
  words?: Bits;
  /** Disjunctive layer: rules whose multi-field clause holds when the field has any value / this value. */
  anyPresent?: Bits;
  anyValues?: Map<string, Bits>;
  /** Slots this field constrains in either layer, and the words holding them: read only while one is alive. */
  mask?: Bits;
  maskWords?: Bits;
  /** The pass number of the event last read (a field under two top-level keys is read once). */
  epoch: number;
  visit?: (value: JsonValue) => boolean;
  /** The string value read last, and what it let through (see `visitor`). */
  lastValue: string | undefined;
  lastRoute: ValueRoute | undefined;
  /** What string values read before let through, by the value as read (see `visitor`). */
  seen: Map<string, ValueRoute> | undefined;
  /** Times `seen` filled up and was emptied; past MAX_SEEN_RESETS the field stops remembering values. */
  seenResets: number;
}

/** What one value of a routed field lets through, in each layer (see `visitor`). */
interface ValueRoute {
  /** Conjunctive layer: the value's bitset (or `present`), and a second one when two keys matched. */
  readonly x: Bits | undefined;
  readonly y: Bits | undefined;
  /** Disjunctive layer: the bitsets of the value's keys. */
  readonly anyA: Bits | undefined;
  readonly anyB: Bits | undefined;
}

/**
 * Values a routed field remembers (a field with more distinct values, such as a process id, empties its
 * memory when full; after MAX_SEEN_RESETS fills it stops remembering, so a high-cardinality field costs
 * one failed lookup per value at most). Only values up to MAX_SEEN_LENGTH long are remembered: what the
 * memories keep alive stays under a few MB whatever the events hold.
 */
const MAX_SEEN_VALUES = 128;
const MAX_SEEN_RESETS = 8;
const MAX_SEEN_LENGTH = 64;

/** The non-primary fields under one top-level key. */
interface HeadGroup {
  readonly fields: RoutedField[];
  /** AND of the fields' `absent` bitsets: what is let through when the document lacks the key. */
  readonly absent: Bits;
  words: Bits;
  epoch: number;
}

/** The set of word numbers `w` (one bit each) for which `keep(w)` holds. */
function wordSet(nWords: number, keep: (w: number) => boolean): Bits {
  const set = new Uint32Array(Math.ceil(nWords / 32));
  for (let w = 0; w < nWords; w++) if (keep(w)) set[w >>> 5] |= 1 << (w & 31);
  return set;
}

/** The rule indexes (into the hunt's compiled rules) an event can match. */
export class RuleIndex {
  private readonly nWords: number;
  private readonly slotRule: Int32Array;
  private readonly fields: RoutedField[] = [];
  /** Fields constraining the most rules, read for every event. */
  private readonly primary: RoutedField[] = [];
  /** The other fields by first path segment: read only when the event has that top-level key. */
  private readonly byHead = new Map<string, HeadGroup>();
  private readonly groups: HeadGroup[] = [];
  private epoch = 0;
  /**
   * The previous document's top-level keys, in order, and their head groups: documents of one source share
   * their key order (and V8 hands out the same key strings), so most keys match by identity, not by a
   * slice and a map lookup.
   */
  private readonly seenKeys: string[] = [];
  private readonly seenGroups: (HeadGroup | undefined)[] = [];
  private readonly base: Bits;
  private readonly noMulti: Bits;
  private readonly acc: Bits;
  /**
   * Which words of `acc` may still hold a candidate (a bit per word; every word whose `acc` is non-zero
   * has its bit set). Once the broad fields have ruled most rules out, most words are zero: the later
   * fields' aliveness checks and ANDs then visit only the live words, not every word they constrain.
   */
  private readonly live: Bits;
  private readonly allWords: Bits;
  private readonly anyAcc: Bits;
  private readonly scratch: Bits;
  // Per-field visit state (the visitor closures are made once, not per event).
  private count = 0;
  private first: Bits | undefined;
  /** Number of fields read per event (for tests and --profile). */
  readonly routedFields: number;

  constructor(
    routed: readonly { readonly index: number; readonly routing: RuleRouting }[],
    /** A field constraining fewer rules is not read (see `withoutRareFields`). */
    minRulesPerField = MIN_RULES_PER_FIELD,
  ) {
    const rules = withoutRareFields(routed, minRulesPerField);
    // Slots cluster rules routed by the same field and value, so a field's constraints touch few words.
    // Each rule's key is built once (a comparator building both keys built each about 2 log2(n) times).
    const keyed = rules.map((r) => ({ r, key: slotKey(r.routing) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.r.index - b.r.index));
    const order = keyed.map((k) => k.r);
    const n = order.length;
    this.nWords = Math.max(1, Math.ceil(n / 32));
    this.slotRule = new Int32Array(n);
    const bits = () => new Uint32Array(this.nWords);
    this.base = bits();
    for (let s = 0; s < n; s++) this.base[s >>> 5] |= 1 << (s & 31);
    this.noMulti = this.base.slice();
    this.acc = bits();
    this.allWords = wordSet(this.nWords, () => true);
    this.live = this.allWords.slice();
    this.anyAcc = bits();
    this.scratch = bits();
    const byPath = new Map<string, RoutedField>();
    const field = (path: string): RoutedField => {
      let f = byPath.get(path);
      if (!f) {
        // Every property from the start: fields built with different properties would have different
        // shapes, and `route` reading them would go through polymorphic property lookups.
        f = {
          path,
          tester: compileFieldTester(path),
          numericKeys: false,
          maxKeyLength: 0,
          absent: undefined,
          present: undefined,
          values: undefined,
          words: undefined,
          anyPresent: undefined,
          anyValues: undefined,
          mask: undefined,
          maskWords: undefined,
          epoch: -1,
          visit: undefined,
          lastValue: undefined,
          lastRoute: undefined,
          seen: new Map(),
          seenResets: 0,
        };
        byPath.set(path, f);
        this.fields.push(f);
      }
      return f;
    };
    const set = (b: Bits, s: number) => {
      b[s >>> 5] |= 1 << (s & 31);
    };
    const clear = (b: Bits, s: number) => {
      b[s >>> 5] &= ~(1 << (s & 31));
    };
    const note = (f: RoutedField, key: string) => {
      if (/^-?\d+$/.test(key)) f.numericKeys = true;
      if (key.length > f.maxKeyLength) f.maxKeyLength = key.length;
    };
    // First pass: which slots each field constrains (conjunctive) and each value lets through.
    const conjValues = new Map<RoutedField, Map<string, number[]>>();
    const conjExists = new Map<RoutedField, number[]>();
    const conjSlots = new Map<RoutedField, number[]>();
    order.forEach(({ index, routing }, s) => {
      this.slotRule[s] = index;
      for (const t of routing.single) {
        const f = field(t.field);
        let slots = conjSlots.get(f);
        if (!slots) conjSlots.set(f, (slots = []));
        slots.push(s);
        if (t.values === undefined) {
          let e = conjExists.get(f);
          if (!e) conjExists.set(f, (e = []));
          e.push(s);
          continue;
        }
        let m = conjValues.get(f);
        if (!m) conjValues.set(f, (m = new Map()));
        for (const v of t.values) {
          note(f, v);
          let l = m.get(v);
          if (!l) m.set(v, (l = []));
          l.push(s);
        }
      }
      if (routing.multi) {
        clear(this.noMulti, s);
        for (const t of routing.multi) {
          const f = field(t.field);
          if (t.values === undefined) {
            f.anyPresent ??= bits();
            set(f.anyPresent, s);
            continue;
          }
          f.anyValues ??= new Map();
          for (const v of t.values) {
            note(f, v);
            let b = f.anyValues.get(v);
            if (!b) f.anyValues.set(v, (b = bits()));
            set(b, s);
          }
        }
      }
    });
    for (const [f, slots] of conjSlots) {
      const absent = this.base.slice();
      for (const s of slots) clear(absent, s);
      const present = absent.slice();
      for (const s of conjExists.get(f) ?? []) set(present, s);
      const values = new Map<string, Bits>();
      for (const [v, list] of conjValues.get(f) ?? []) {
        const b = present.slice();
        for (const s of list) set(b, s);
        values.set(v, b);
      }
      f.absent = absent;
      f.present = present;
      f.values = values;
      f.words = wordSet(this.nWords, (w) => absent[w] !== this.base[w]);
    }
    for (const f of this.fields) {
      const mask = bits();
      if (f.absent) for (let w = 0; w < this.nWords; w++) mask[w] = this.base[w] & ~f.absent[w];
      if (f.anyPresent) for (let w = 0; w < this.nWords; w++) mask[w] |= f.anyPresent[w];
      for (const b of f.anyValues?.values() ?? []) for (let w = 0; w < this.nWords; w++) mask[w] |= b[w];
      f.mask = mask;
      f.maskWords = wordSet(this.nWords, (w) => mask[w] !== 0);
      f.visit = this.visitor(f);
    }
    // Fields constraining many rules first: once they have ruled most rules out, the fields only the
    // ruled-out rules need are not read at all.
    const weight = (f: RoutedField) => {
      let n = 0;
      for (let w = 0; w < this.nWords; w++) n += popcount(f.mask![w]);
      return n;
    };
    const weights = new Map(this.fields.map((f) => [f, weight(f)]));
    this.fields.sort((a, b) => weights.get(b)! - weights.get(a)! || (a.path < b.path ? -1 : 1));
    for (const f of this.fields) {
      if (this.primary.length < MAX_PRIMARY && weights.get(f)! >= MIN_PRIMARY_WEIGHT) {
        this.primary.push(f);
        continue;
      }
      const head = f.path.split(".")[0];
      let group = this.byHead.get(head);
      if (!group) {
        group = { fields: [], absent: this.base.slice(), words: new Uint32Array(0), epoch: -1 };
        this.byHead.set(head, group);
        this.groups.push(group);
      }
      group.fields.push(f);
      if (f.absent) for (let w = 0; w < this.nWords; w++) group.absent[w] &= f.absent[w];
    }
    for (const g of this.groups) g.words = wordSet(this.nWords, (w) => g.absent[w] !== this.base[w]);
    this.routedFields = this.fields.length;
  }

  private visitor(f: RoutedField): (value: JsonValue) => boolean {
    const nWords = this.nWords;
    const anyAcc = this.anyAcc;
    const scratch = this.scratch;
    const or = (into: Bits, b: Bits) => {
      for (let w = 0; w < nWords; w++) into[w] |= b[w];
    };
    if (!f.anyValues && (!f.values || f.values.size === 0)) {
      // Only existence matters for this field: the first value decides, with no key to compute.
      return () => {
        if (f.anyPresent) or(anyAcc, f.anyPresent);
        if (f.values) {
          this.first = f.present!;
          this.count = 1;
        }
        return true;
      };
    }
    /** What a value lets through: its keys (lower-cased, and as an integer) looked up in each layer. */
    const lookUp = (value: JsonValue): ValueRoute => {
      let key: string | undefined;
      let intKey: string | undefined;
      if (typeof value === "string") {
        if (value.length <= 2 * f.maxKeyLength) key = value.toLowerCase();
        if (f.numericKeys) intKey = integerKey(value);
      } else if (typeof value === "number" || typeof value === "bigint") {
        if (f.numericKeys) intKey = integerKey(value);
      }
      let anyA: Bits | undefined;
      let anyB: Bits | undefined;
      const av = f.anyValues;
      if (av) {
        anyA = key !== undefined ? av.get(key) : undefined;
        anyB = intKey !== undefined && intKey !== key ? av.get(intKey) : undefined;
      }
      let x: Bits | undefined;
      let y: Bits | undefined;
      const values = f.values;
      if (values) {
        const a = key !== undefined ? values.get(key) : undefined;
        const b = intKey !== undefined && intKey !== key ? values.get(intKey) : undefined;
        x = a ?? b ?? f.present!;
        y = a && b ? b : undefined;
      }
      return { x, y, anyA, anyB };
    };
    return (value) => {
      let route: ValueRoute;
      if (typeof value !== "string") route = lookUp(value);
      else if (value === f.lastValue) {
        // Consecutive events share most values of the routed fields (category, type, OS, dataset): the
        // previous lookup is reused without lower-casing or hashing the value again.
        route = f.lastRoute!;
      } else {
        // Other values seen before are found by the value as read: one hash of it, instead of a lower-cased
        // copy and a lookup per key. Values too long to have an entry are not remembered (command lines).
        const seen =
          value.length <= MAX_SEEN_LENGTH && value.length <= 2 * f.maxKeyLength ? f.seen : undefined;
        let known = seen?.get(value);
        if (!known) {
          known = lookUp(value);
          if (seen) {
            if (seen.size >= MAX_SEEN_VALUES) {
              seen.clear();
              if (++f.seenResets >= MAX_SEEN_RESETS) f.seen = undefined;
            }
            f.seen?.set(value, known);
          }
        }
        route = known;
        f.lastValue = value;
        f.lastRoute = known;
      }
      const { x, y, anyA, anyB } = route;
      if (f.anyPresent) or(anyAcc, f.anyPresent);
      if (anyA) or(anyAcc, anyA);
      if (anyB) or(anyAcc, anyB);
      if (x) {
        if (this.count === 0 && !y) {
          this.first = x;
          this.count = 1;
        } else {
          if (this.count === 0) scratch.set(x);
          else {
            if (this.count === 1) scratch.set(this.first!);
            or(scratch, x);
          }
          if (y) or(scratch, y);
          this.count = 2;
        }
      }
      return false;
    };
  }

  /**
   * Write the compiled-rule indexes of every rule the document can match to `out` from its start (slot
   * order) and return how many. `out` holds at least one entry per indexed rule: a typed buffer reused for
   * every document (an array emptied per document drops and re-grows its backing store each time).
   */
  candidates(doc: JsonObject, out: Int32Array): number {
    const acc = this.acc;
    const anyAcc = this.anyAcc;
    const live = this.live;
    acc.set(this.base);
    live.set(this.allWords);
    anyAcc.set(this.noMulti);
    const epoch = ++this.epoch;
    // A field can only have a value when the document has its first path segment as a key (or as the
    // head of a dotted key such as `"process.name"`): the fields under other heads are known absent
    // without reading them.
    const seenKeys = this.seenKeys;
    const seenGroups = this.seenGroups;
    let k = 0;
    for (const key in doc) {
      let group: HeadGroup | undefined;
      if (seenKeys[k] === key) group = seenGroups[k];
      else {
        const dot = key.indexOf(".");
        group = this.byHead.get(dot < 0 ? key : key.slice(0, dot));
        if (k < MAX_SEEN_KEYS) {
          seenKeys[k] = key;
          seenGroups[k] = group;
        }
      }
      k++;
      if (group) group.epoch = epoch;
    }
    for (const g of this.groups) if (g.epoch !== epoch) this.and(g.words, g.absent);
    for (const f of this.primary) this.route(doc, f, epoch);
    for (const g of this.groups) if (g.epoch === epoch) for (const f of g.fields) this.route(doc, f, epoch);
    this.first = undefined;
    const slotRule = this.slotRule;
    let n = 0;
    for (let j = 0; j < live.length; j++) {
      let words = live[j];
      while (words !== 0) {
        const lowWord = words & -words;
        words ^= lowWord;
        const w = (j << 5) + 31 - Math.clz32(lowWord);
        let x = acc[w] & anyAcc[w];
        while (x !== 0) {
          const low = x & -x;
          out[n++] = slotRule[(w << 5) + 31 - Math.clz32(low)];
          x ^= low;
        }
      }
    }
    return n;
  }

  /**
   * `acc &= b` over the live words among `words`; a word that becomes zero leaves the live set. `alive`
   * walks the live words the same way: both run for every routed field of every event, so the walk is
   * spelled out in each rather than shared through a callback.
   */
  private and(words: Bits, b: Bits): void {
    const acc = this.acc;
    const live = this.live;
    for (let j = 0; j < words.length; j++) {
      let m = live[j] & words[j];
      while (m !== 0) {
        const low = m & -m;
        m ^= low;
        const w = (j << 5) + 31 - Math.clz32(low);
        if ((acc[w] &= b[w]) === 0) live[j] &= ~low;
      }
    }
  }

  /** Read one field (unless no rule it constrains is still a candidate) and apply both layers. */
  private route(doc: JsonObject, f: RoutedField, epoch: number): void {
    if (f.epoch === epoch) return;
    f.epoch = epoch;
    if (!this.alive(f.mask!, f.maskWords!)) return;
    this.count = 0;
    this.first = undefined;
    f.tester(doc, f.visit!);
    const words = f.words;
    if (!words) return;
    this.and(words, this.count === 0 ? f.absent! : this.count === 1 ? this.first! : this.scratch);
  }

  /** Whether a live word of `acc` shares a bit with `mask` (`words`: the words where `mask` has bits). */
  private alive(mask: Bits, words: Bits): boolean {
    const acc = this.acc;
    const live = this.live;
    for (let j = 0; j < words.length; j++) {
      let m = live[j] & words[j];
      while (m !== 0) {
        const low = m & -m;
        m ^= low;
        const w = (j << 5) + 31 - Math.clz32(low);
        if ((acc[w] & mask[w]) !== 0) return true;
      }
    }
    return false;
  }

  /** Every rule (when a document cannot be read safely), written as `candidates` writes them. */
  all(out: Int32Array): number {
    out.set(this.slotRule);
    return this.slotRule.length;
  }
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}

function slotKey(r: RuleRouting): string {
  const t = [...r.single].sort((a, b) => (a.field < b.field ? -1 : 1));
  return t.map((x) => `${x.field}=${x.values?.[0] ?? ""}`).join("|") || "~";
}
