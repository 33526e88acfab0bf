// A local OpenAI-compatible model server for test nodes: real OpenClaw gateways are pointed at it
// (`models.providers.mock.baseUrl`), so `openclaw agent` runs end to end with no network and
// deterministic answers. Replies are plain text (never tool calls) with usage on every response.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/** The model id the stand-in advertises; configs use `mock/<STANDIN_MODEL_ID>`. */
export const STANDIN_MODEL_ID = 'standin-1';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const chatMessage = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});
const chatRequest = z.looseObject({
  model: z.string().optional(),
  messages: z.array(chatMessage),
  stream: z.boolean().optional(),
});

export type ChatMessage = z.infer<typeof chatMessage>;
export type ChatRequest = z.infer<typeof chatRequest>;

export interface ModelStandIn {
  /** Base URL to put in `models.providers.<id>.baseUrl` (ends in `/v1`). */
  readonly baseUrl: string;
  /** How many chat completions were answered so far. */
  readonly requests: number;
  /** Every chat-completion request body received, oldest first. */
  readonly received: readonly ChatRequest[];
  close(): Promise<void>;
}

export interface ModelStandInOptions {
  reply?: (messages: readonly ChatMessage[]) => string;
  /** Wait this long before answering each chat completion (a slow model; default 0). */
  replyDelayMs?: number;
}

export async function startModelStandIn(opts: ModelStandInOptions = {}): Promise<ModelStandIn> {
  const reply = opts.reply ?? defaultReply;
  const received: ChatRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendJson(res, 500, { error: { message: `stand-in bug: ${String(err)}`, type: 'server_error' } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? '';
    if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: STANDIN_MODEL_ID, object: 'model', created: 0, owned_by: 'ocm-tests' }],
      });
      return;
    }
    if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
      const parsed = chatRequest.safeParse(await readJson(req));
      if (!parsed.success) {
        sendJson(res, 400, {
          error: { message: `bad request: ${parsed.error.message}`, type: 'invalid_request_error' },
        });
        return;
      }
      received.push(parsed.data);
      if (opts.replyDelayMs) await new Promise((ok) => setTimeout(ok, opts.replyDelayMs));
      const text = reply(parsed.data.messages);
      const model = parsed.data.model ?? STANDIN_MODEL_ID;
      const usage = usageFor(parsed.data.messages, text);
      if (parsed.data.stream) streamCompletion(res, model, text, usage);
      else sendJson(res, 200, completion(model, text, usage));
      return;
    }
    sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'not_found' } });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return received.length;
    },
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Arithmetic in the last user message gets its correct answer; anything else a fixed sentence. */
export function defaultReply(messages: readonly ChatMessage[]): string {
  const asked = lastUserText(messages);
  const answer = solveArithmetic(asked);
  if (answer !== null) return `The answer is ${answer}.`;
  const firstWords = asked.split(/\s+/).filter(Boolean).slice(0, 6).join(' ');
  return `Stand-in model here; you said: ${firstWords}`;
}

// OpenClaw 2026.9 wraps a turn as [system, user("[Wed 2026-11-25 08:56 UTC] <question>\n\nRuntime: …"),
// user("<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>…<<<END_OPENCLAW_INTERNAL_CONTEXT>>>")] (REAL-OPENCLAW.md).
const INTERNAL_CONTEXT = /<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>[\s\S]*?<<<END_OPENCLAW_INTERNAL_CONTEXT>>>/g;
const TIMESTAMP_PREFIX = /^\[[A-Z][a-z]{2} \d{4}-\d{2}-\d{2}[^\]]*\]\s*/;
const RUNTIME_TRAILER = /\n+Runtime: [^\n]*(\n[\s\S]*)?$/;

/** What the person typed in the latest user turn, without OpenClaw's envelope. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    const raw =
      typeof m.content === 'string'
        ? m.content
        : Array.isArray(m.content)
          ? m.content.map((p) => p.text ?? '').join('\n')
          : '';
    const text = raw
      .replace(INTERNAL_CONTEXT, '')
      .replace(TIMESTAMP_PREFIX, '')
      .replace(RUNTIME_TRAILER, '')
      .trim();
    if (text) return text;
  }
  return '';
}

/**
 * Finds the first arithmetic expression in free text ("What is 17 * 23?", "(2+3)*4") and evaluates it
 * with the usual precedence. Returns null when there is none, or it divides by zero.
 */
export function solveArithmetic(text: string): number | null {
  const normalized = text
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, ' ') // a date is not a subtraction
    .replace(/(?<=[\d)]\s*)[×xX](?=\s*[\d(])/g, '*')
    .replace(/÷/g, '/')
    .replace(/\bplus\b/gi, '+')
    .replace(/\bminus\b/gi, '-')
    .replace(/\b(times|multiplied by)\b/gi, '*')
    .replace(/\bdivided by\b/gi, '/');
  // An expression: numbers joined by at least one operator, parentheses allowed.
  const match = normalized.match(/[(\d][\d\s.()]*(?:[-+*/][\s(]*\d[\d\s.()]*)+/);
  if (!match) return null;
  const value = evaluate(match[0].replace(/\s+/g, ''));
  if (value === null || !Number.isFinite(value)) return null;
  return Math.round(value * 1e9) / 1e9;
}

function evaluate(expr: string): number | null {
  let pos = 0;
  const peek = () => expr[pos];
  const number = (): number | null => {
    if (peek() === '(') {
      pos++;
      const inner = sum();
      if (peek() !== ')') return null;
      pos++;
      return inner;
    }
    if (peek() === '-') {
      pos++;
      const n = number();
      return n === null ? null : -n;
    }
    const m = /^\d+(?:\.\d+)?/.exec(expr.slice(pos));
    if (!m) return null;
    pos += m[0].length;
    return Number(m[0]);
  };
  const product = (): number | null => {
    let left = number();
    while (left !== null && (peek() === '*' || peek() === '/')) {
      const op = expr[pos++];
      const right = number();
      if (right === null) return null;
      left = op === '*' ? left * right : left / right;
    }
    return left;
  };
  const sum = (): number | null => {
    let left = product();
    while (left !== null && (peek() === '+' || peek() === '-')) {
      const op = expr[pos++];
      const right = product();
      if (right === null) return null;
      left = op === '+' ? left + right : left - right;
    }
    return left;
  };
  const result = sum();
  // Trailing unmatched ")" from the surrounding prose is fine; anything else means we misparsed.
  return result !== null && /^\)*$/.test(expr.slice(pos)) ? result : null;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

// Roughly 4 characters per token: stable across runs, and grows with the prompt like a real model's.
function usageFor(messages: readonly ChatMessage[], text: string): Usage {
  const promptChars = messages.reduce((n, m) => n + JSON.stringify(m.content ?? '').length, 0);
  const prompt_tokens = Math.max(1, Math.ceil(promptChars / 4));
  const completion_tokens = Math.max(1, Math.ceil(text.length / 4));
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

let completionSeq = 0;
function completionId(): string {
  completionSeq += 1;
  return `chatcmpl-standin-${completionSeq}`;
}

function completion(model: string, text: string, usage: Usage) {
  return {
    id: completionId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage,
  };
}

function streamCompletion(res: ServerResponse, model: string, text: string, usage: Usage): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const base = {
    id: completionId(),
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const send = (chunk: object) => res.write(`data: ${JSON.stringify({ ...base, ...chunk })}\n\n`);
  send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  // A few content pieces, so clients that assemble deltas are exercised.
  for (const piece of text.match(/.{1,12}/gs) ?? []) {
    send({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
  }
  send({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  // Usage chunk as OpenAI sends it with stream_options.include_usage; sent always, harmless otherwise.
  send({ choices: [], usage });
  res.end('data: [DONE]\n\n');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
