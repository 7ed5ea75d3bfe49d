import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigViolation, errorMessage } from '../errors.js';
import { type Config, configSchema } from './schema.js';
import { nearestName } from './nearest-name.js';
import { CONFIG_LEAVES, type ConfigLeaf, leafAt } from './schema-leaves.js';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Environment variables with the DROUTER_ prefix that are not configuration keys. */
const NON_KEY_VARIABLES = [/^DROUTER_CONFIG$/, /^DROUTER_TEST_/];

/**
 * Reads the configuration file (`--config`, else `DROUTER_CONFIG`, else the
 * embedded default), applies `DROUTER_*` overrides and validates the result.
 * Throws ConfigError listing every violation at once.
 */
export function loadConfig(options: {
  configFile: string | undefined;
  defaultFile: string;
  env: Environment;
}): Readonly<Config> {
  const file = options.configFile ?? options.env.DROUTER_CONFIG ?? options.defaultFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = errorMessage(error);
    throw new ConfigError([
      {
        key: '--config',
        value: file,
        allowed: `a readable YAML file (${reason})`,
        source: 'the command line or DROUTER_CONFIG',
      },
    ]);
  }
  return resolveConfig(text, file, options.env);
}

/** Pure part of loadConfig: YAML text plus environment to a frozen Config. */
export function resolveConfig(yamlText: string, fileName: string, env: Environment): Readonly<Config> {
  const fromFile = parseConfigYaml(yamlText, fileName);
  const sources = new Map<string, string>();
  const violations: ConfigViolation[] = [];
  const input = structuredClone(fromFile);

  for (const leaf of CONFIG_LEAVES) {
    const raw = env[leaf.envName];
    if (raw === undefined) continue;
    setAtPath(input, leaf.path, parseEnvValue(raw, leaf));
    sources.set(leaf.key, leaf.envName);
  }
  violations.push(...unknownVariables(env));

  const result = configSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      violations.push(...violationsOf(issue, input, (key) => sources.get(key) ?? fileName));
    }
  }
  if (violations.length > 0 || !result.success) throw new ConfigError(violations);
  return deepFreeze(result.data);
}

function parseConfigYaml(text: string, fileName: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    const reason = errorMessage(error);
    throw new ConfigError([{ key: '(file)', value: fileName, allowed: `valid YAML (${reason})`, source: fileName }]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([
      { key: '(file)', value: parsed, allowed: 'a YAML mapping of sections (sip, admin, store, …)', source: fileName },
    ]);
  }
  return parsed as Record<string, unknown>;
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  yes: true,
  on: true,
  '1': true,
  false: false,
  no: false,
  off: false,
  '0': false,
};

/**
 * Environment values are strings; turn them into the leaf's type where the
 * text is unambiguous, else pass the text on so validation names it.
 */
export function parseEnvValue(raw: string, leaf: Pick<ConfigLeaf, 'kind'>): unknown {
  const text = raw.trim();
  switch (leaf.kind) {
    case 'string':
      return raw;
    case 'number':
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : raw;
    case 'boolean':
      return BOOLEAN_WORDS[text.toLowerCase()] ?? raw;
    case 'list':
      return text === '' ? [] : text.split(',').map((item) => parseListItem(item.trim()));
  }
}

function parseListItem(item: string): string | number {
  return /^-?\d+(\.\d+)?$/.test(item) ? Number(item) : item;
}

/** `; did you mean X?` when a known name is near enough, else nothing. */
function didYouMean(name: string, known: Iterable<string>): string {
  const nearest = nearestName(name, known);
  return nearest === undefined ? '' : `; did you mean ${nearest}?`;
}

function unknownVariables(env: Environment): ConfigViolation[] {
  const known = new Set(CONFIG_LEAVES.map((leaf) => leaf.envName));
  return Object.keys(env)
    .filter((name) => name.startsWith('DROUTER_') && !known.has(name))
    .filter((name) => !NON_KEY_VARIABLES.some((pattern) => pattern.test(name)))
    .map((name) => ({
      key: name,
      value: env[name],
      allowed: `no such configuration key${didYouMean(name, known)} (variables are DROUTER_ + the key path in upper snake case, __ between levels: README, Configuration)`,
      source: 'environment',
    }));
}

/** Every key a file may name: the leaves and the sections above them (`sip`, `sip.tcp`). */
const FILE_KEYS = new Set(
  CONFIG_LEAVES.flatMap((leaf) => leaf.path.map((_, depth) => leaf.path.slice(0, depth + 1).join('.'))),
);

function violationsOf(issue: z.core.$ZodIssue, input: unknown, sourceOf: (key: string) => string): ConfigViolation[] {
  if (issue.code === 'unrecognized_keys') {
    const parent = issue.path.map(String);
    return issue.keys.map((name) => {
      const key = [...parent, name].join('.');
      return {
        key,
        value: valueAtPath(input, [...parent, name]),
        allowed: `not a configuration key${didYouMean(key, FILE_KEYS)}`,
        source: sourceOf(key),
      };
    });
  }
  const leaf = leafAt(issue.path);
  const key = leaf?.key ?? issue.path.map(String).join('.');
  const path = leaf?.path ?? issue.path.map(String);
  return [{ key, value: valueAtPath(input, path), allowed: leaf?.allowed ?? issue.message, source: sourceOf(key) }];
}

function valueAtPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function setAtPath(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = root;
  for (const segment of path.slice(0, -1)) {
    const next = current[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[segment] = {};
    current = current[segment] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) current[last] = value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
