import type { z } from 'zod';
import { configSchema } from './schema.js';

/** How an environment string becomes a value for this leaf. */
export type LeafKind = 'string' | 'number' | 'boolean' | 'list';

export interface ConfigLeaf {
  /** Dotted key path, e.g. `sip.port`. */
  key: string;
  path: readonly string[];
  kind: LeafKind;
  /** What the leaf accepts, in words (the schema's description). */
  allowed: string;
  /** `DROUTER_` + the path in upper snake case, `__` between levels. */
  envName: string;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { def: Def }).def;
}

/** Wrappers that carry defaults or optionality around the real schema. */
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable']);

function unwrap(schema: z.ZodType): { inner: z.ZodType; description: string | undefined } {
  let current = schema;
  let description = current.description;
  while (WRAPPERS.has(defOf(current).type)) {
    const inner = defOf(current).innerType;
    if (!inner) break;
    current = inner;
    description ??= current.description;
  }
  return { inner: current, description };
}

const KIND_BY_TYPE: Record<string, LeafKind> = {
  string: 'string',
  enum: 'string',
  number: 'number',
  boolean: 'boolean',
  array: 'list',
  // The only unions are "a word or a number" (defaultGroup: none | N).
  union: 'number',
};

export function envNameOf(path: readonly string[]): string {
  const snake = path.map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());
  return `DROUTER_${snake.join('__')}`;
}

function collectLeaves(schema: z.ZodType, path: string[], out: ConfigLeaf[]): void {
  const { inner, description } = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object' && def.shape) {
    for (const [name, child] of Object.entries(def.shape)) collectLeaves(child, [...path, name], out);
    return;
  }
  const kind = KIND_BY_TYPE[def.type];
  if (!kind) throw new Error(`config schema: key ${path.join('.')} has unsupported type ${def.type}`);
  if (!description) throw new Error(`config schema: key ${path.join('.')} lacks an "allowed" description`);
  out.push({ key: path.join('.'), path, kind, allowed: description, envName: envNameOf(path) });
}

function listLeaves(): readonly ConfigLeaf[] {
  const leaves: ConfigLeaf[] = [];
  collectLeaves(configSchema, [], leaves);
  return leaves;
}

/** Every key of the configuration, in schema order. */
export const CONFIG_LEAVES: readonly ConfigLeaf[] = listLeaves();

export function leafAt(path: readonly (string | number | symbol)[]): ConfigLeaf | undefined {
  const key = path.filter((p) => typeof p === 'string').join('.');
  return CONFIG_LEAVES.find((leaf) => leaf.key === key);
}
