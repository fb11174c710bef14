/**
 * Plain HTTP side of the simulator: `POST /api/v1/services/audio/tts/customization`, routed on
 * `model` + `input.action` (voice-customization.md §1, §9). Anything else gets a JSON error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerKey, INVALID_API_KEY, isKeyAccepted, type KeyPolicy } from '../auth';
import { serviceForPath } from '../handshake';
import { errorBody, sendJson } from '../http-replies';
import { requestId } from '../ids';
import { isRecord, type JsonObject } from '../json';
import type { ResolvedOptions } from '../options';
import { ossResolver } from '../upload/resolve';
import type { UploadStore } from '../upload/store';
import type { VoiceStore } from '../voice-store';
import type { ActionHandler } from './action';
import { CustomizationError, invalidParameter, modelNotExist } from './errors';
import { qwenVoiceDesignActions } from './qwen-voice-design';
import { qwenVoiceEnrollmentActions } from './qwen-voice-enrollment';
import { voiceEnrollmentActions } from './voice-enrollment';

export const CUSTOMIZATION_PATH = '/api/v1/services/audio/tts/customization';
const MAX_BODY_BYTES = 32 * 1024 * 1024;

const SERVICES: Record<string, Record<string, ActionHandler>> = {
  'voice-enrollment': voiceEnrollmentActions,
  'qwen-voice-enrollment': qwenVoiceEnrollmentActions,
  'qwen-voice-design': qwenVoiceDesignActions,
};

export interface HttpDeps {
  voices: VoiceStore;
  options: ResolvedOptions;
  keys: KeyPolicy;
  uploads: UploadStore;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(invalidParameter('Request body too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function route(body: JsonObject): ActionHandler {
  const model = body.model;
  const actions = typeof model === 'string' ? SERVICES[model] : undefined;
  if (!actions) throw modelNotExist();
  const input = body.input;
  if (!isRecord(input)) throw invalidParameter("Missing required parameter 'input'.");
  const action = input.action;
  if (typeof action !== 'string' || !action) throw invalidParameter("Missing required parameter 'input.action'.");
  const handler = actions[action];
  if (handler) return handler;
  // Third-party: another service's action under this model is answered like a wrong model.
  const elsewhere = Object.values(SERVICES).some((a) => action in a);
  throw elsewhere ? modelNotExist() : invalidParameter(`Unsupported action '${action}' for model '${String(model)}'.`);
}

async function customization(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> {
  const key = bearerKey(req.headers);
  if (!isKeyAccepted(key, deps.keys)) return sendJson(res, 401, errorBody(INVALID_API_KEY.code, INVALID_API_KEY.message));
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalidParameter('Request body is not valid JSON.');
  }
  if (!isRecord(body)) throw invalidParameter('Request body must be a JSON object.');
  const handler = route(body);
  const result = handler({
    input: body.input as JsonObject,
    parameters: isRecord(body.parameters) ? body.parameters : {},
    headers: req.headers,
    voices: deps.voices,
    options: deps.options.customization,
    resolveOss: ossResolver(deps.uploads, key, String(body.model)),
  });
  sendJson(res, 200, { output: result.output, usage: result.usage, request_id: requestId() });
}

export function handleHttpRequest(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): void {
  const url = new URL(req.url ?? '/', 'http://simulator.local');
  const path = url.pathname.replace(/\/+$/, '');
  const fail = (err: unknown): void => {
    if (res.headersSent) return void res.destroy();
    if (err instanceof CustomizationError) sendJson(res, err.status, errorBody(err.code, err.message));
    else sendJson(res, 500, errorBody('InternalError', 'An internal error has occured, please try again later or contact service support.'));
  };
  if (path === CUSTOMIZATION_PATH) {
    if (req.method !== 'POST') return fail(new CustomizationError(405, 'InvalidParameter', 'Only POST is supported.'));
    customization(req, res, deps).catch(fail);
    return;
  }
  // cosyvoice.md: driving the WebSocket service with plain HTTP yields InvalidParameter / url error.
  if (serviceForPath(path)) return fail(invalidParameter('url error'));
  fail(new CustomizationError(404, 'NotFound', `No such endpoint: ${url.pathname}`));
}
