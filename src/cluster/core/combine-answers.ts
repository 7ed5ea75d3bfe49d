/**
 * How the workers' answers to one admin request become the node's: pure,
 * so the admin front (admin-front.ts) keeps only the HTTP around it.
 */
import type { WorkerStatus } from '../worker-supervisor.js';

/** A worker's answer to a forwarded request. */
export interface Answer {
  worker: number;
  status: number;
  contentType: string;
  body: string;
}

/** A worker's answer with its body read as JSON (undefined when it is not an object). */
interface Parsed {
  answer: Answer;
  body: Record<string, unknown> | undefined;
}

/** How the answers of every worker to one route become the node's. */
export type Combine = (answers: readonly Answer[], workers: readonly WorkerStatus[]) => Answer;

export const FAN_OUT: Readonly<Record<string, Combine>> = {
  'POST /reload': combineReloads,
  'GET /ha': combineHa,
  'POST /ha/keepalived': combineHa,
  'GET /health': combineHealth,
};

/** The node's answer to an MI dr_reload: the first worker's error (JSON-RPC or HTTP) when one did not reload, else the first's. */
export function combineMiReloads(answers: readonly Answer[]): Answer {
  const failed = ({ answer, body }: Parsed) => answer.status >= 300 || body?.error !== undefined;
  return parseAll(answers).reduce((chosen, each) => (!failed(chosen) && failed(each) ? each : chosen)).answer;
}

/**
 * One reload report for the node: the worst worker's (the first when all
 * did), with every worker's outcome under `workers`; 200 only when every
 * worker reloaded (422: a worker refused the data and keeps its snapshot).
 */
function combineReloads(answers: readonly Answer[]): Answer {
  const parsed = parseAll(answers);
  const workers = parsed.map(({ answer, body }) => ({
    worker: answer.worker,
    status: answer.status,
    ok: body?.ok ?? false,
    generation: body?.generation ?? null,
    ...(body?.error ? { error: body.error } : {}),
  }));
  const worst = worstOf(parsed);
  return json(worst.answer, worst.answer.status, { ...worst.body, workers });
}

/** The node's role: the leader's view when a worker leads (any worker of the node may), every worker's role beside. */
function combineHa(answers: readonly Answer[]): Answer {
  const parsed = parseAll(answers);
  const chosen = leaderOf(parsed) ?? worstOf(parsed);
  const workers = parsed.map(({ answer, body }) => ({
    worker: answer.worker,
    status: answer.status,
    role: body?.role ?? null,
    holder: body?.holder ?? null,
  }));
  return json(chosen.answer, chosen.answer.status, { ...chosen.body, workers });
}

/** The node is as healthy as its least healthy worker; its `ha` block is the leader's, when one leads. */
export function combineHealth(answers: readonly Answer[], statuses: readonly WorkerStatus[]): Answer {
  const parsed = parseAll(answers);
  const worst = worstOf(parsed);
  const leaderHa = parsed
    .map(({ body }) => body?.ha as { role?: unknown } | undefined)
    .find((ha) => ha?.role === 'leader');
  const roles = new Map(
    parsed.map(({ answer, body }) => [answer.worker, (body?.ha as { role?: unknown } | undefined)?.role ?? null]),
  );
  const workers = statuses.map((status) => ({ ...status, role: roles.get(status.worker) ?? null }));
  return json(worst.answer, worst.answer.status, { ...worst.body, ...(leaderHa ? { ha: leaderHa } : {}), workers });
}

function parseAll(answers: readonly Answer[]): Parsed[] {
  if (answers.length === 0) throw new Error('no worker answered');
  return answers.map((answer) => ({ answer, body: parseJson(answer.body) }));
}

/** The answer with the highest status (the first of those): an error anywhere is the node's error. */
function worstOf(parsed: readonly Parsed[]): Parsed {
  return parsed.reduce((worst, each) => (each.answer.status > worst.answer.status ? each : worst));
}

function leaderOf(parsed: readonly Parsed[]): Parsed | undefined {
  return parsed.find(({ answer, body }) => answer.status === 200 && body?.role === 'leader');
}

export function json(from: Answer, status: number, body: unknown): Answer {
  return { worker: from.worker, status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
