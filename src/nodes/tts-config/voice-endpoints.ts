/**
 * Admin endpoints behind the edit dialogs' buttons: list the account's custom voices, and speak a
 * short preview of a voice so a user hears it before deploying. Both go through a *deployed*
 * tts-config node: the key stays in the runtime (the editor never sees it) and the preview borrows
 * a session from the same connection manager the synthesis nodes use.
 *
 * Both are POST and need `tts-config.write`: they spend the account's key, and a preview is billed
 * like any synthesis. A GET could also be triggered by a link or an <img> in another page.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { wavHeader } from '../../audio/resample';
import { allModels } from '../../dashscope/catalog';
import type { CustomVoice } from '../../dashscope/customization';
import { DashScopeError } from '../../dashscope/errors';
import type { VoiceFamily } from '../../dashscope/voice-services';
import { listFamilyVoices } from '../../voices/manage';
import type { TtsConfigNode } from './types';

/** Preview audio: 16-bit mono PCM at 24 kHz, which every CosyVoice and Qwen realtime model offers. */
export const PREVIEW_SAMPLE_RATE = 24000;
/** Longest preview text: a sample, not a way to synthesize documents from the editor. */
export const PREVIEW_MAX_CHARS = 200;
/** A preview that takes longer than this is given up (the dialog is waiting for it). */
const PREVIEW_TIMEOUT_MS = 30_000;

function badRequest(res: Response, message: string, status = 400): void {
  res.status(status).json({ error: message });
}

function body(req: Request): Record<string, unknown> {
  return req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
}

/** The deployed config node named by the request, or an answer saying why there is none. */
function deployedConfig(RED: NodeAPI, req: Request, res: Response): TtsConfigNode | undefined {
  const id = body(req).config;
  if (typeof id !== 'string' || !id) {
    badRequest(res, 'choose a tts-config node');
    return undefined;
  }
  const config = RED.nodes.getNode(id) as TtsConfigNode | null;
  if (!config) {
    // The editor may hold a config node that was never deployed: its key is not in the runtime yet.
    badRequest(res, 'deploy the tts-config node first: its API key is only known to the running flows', 404);
    return undefined;
  }
  return config;
}

function failure(res: Response, err: unknown): void {
  const e = err instanceof DashScopeError ? err : undefined;
  res.status(502).json({ error: err instanceof Error ? err.message : String(err), code: e?.code });
}

/** Custom voices of one family, optionally only those made for `model`. */
export async function listCustomVoices(config: TtsConfigNode, family: VoiceFamily, model?: string): Promise<CustomVoice[]> {
  const http = config.http;
  if (!http) throw new Error(config.configError ?? 'the tts-config node cannot work');
  return listFamilyVoices(http, family, model);
}

/** Speaks `text` with `voice` on `model` and resolves with the PCM samples. */
export async function synthesizePreview(
  config: TtsConfigNode,
  service: VoiceFamily,
  model: string,
  voice: string,
  text: string,
  timeoutMs = PREVIEW_TIMEOUT_MS,
): Promise<Buffer> {
  const manager = config.manager;
  if (!manager) throw new Error(config.configError ?? 'the tts-config node cannot work');
  const chunks: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  /** Ends the Qwen preview under way: its session is discarded rather than left to run on. */
  let abandon: ((err: Error) => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      const err = new Error('the preview took too long');
      abandon?.(err);
      reject(err);
    }, timeoutMs);
  });
  const speak = async (): Promise<void> => {
    if (service === 'cosyvoice') {
      const lease = await manager.acquireCosyVoice();
      try {
        await new Promise<void>((resolve, reject) => {
          const task = lease.runTask(
            { model, voice, format: 'pcm', sampleRate: PREVIEW_SAMPLE_RATE },
            { onAudio: (c) => chunks.push(c), onFinished: () => resolve(), onFailed: reject },
          );
          task.sendText(text);
          task.finish();
        });
      } finally {
        lease.release();
      }
      return;
    }
    const lease = await manager.acquireQwen(model, { voice, mode: 'commit', responseFormat: 'pcm', sampleRate: PREVIEW_SAMPLE_RATE });
    if (timedOut) {
      lease.discard(); // nobody waits for this preview any more: no request spent on it
      return;
    }
    let finished = false;
    try {
      // Ended with session.finish, the one fence after which no response of this text can still
      // come, however many responses the service answers the commit with (docs/protocol.md
      // "Qwen: end of an utterance"). The session is never reused.
      await new Promise<void>((resolve, reject) => {
        abandon = reject;
        lease.session.listener = {
          onAudio: (c) => chunks.push(c),
          onResponseDone: () => undefined,
          onSessionFinished: () => {
            finished = true;
            resolve();
          },
          onError: reject,
          onClosed: (err) => (err ? reject(err) : resolve()),
        };
        lease.session.append(text);
        lease.session.commit();
        lease.session.finish();
      });
    } finally {
      abandon = undefined;
      lease.session.listener = undefined;
      // A preview given up (timeout, error) leaves a session in an unknown state: it is closed.
      if (finished) lease.retire();
      else lease.discard();
    }
  };
  try {
    await Promise.race([speak(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const pcm = Buffer.concat(chunks);
  if (pcm.length === 0) throw new Error(`the service sent no audio: is "${voice}" a voice of ${model}?`);
  return pcm;
}

export function registerVoiceEndpoints(RED: NodeAPI): void {
  const write = RED.auth.needsPermission('tts-config.write');

  RED.httpAdmin.post('/dashscope-tts/voices', write, (req, res) => {
    const config = deployedConfig(RED, req, res);
    if (!config) return;
    const { family, model } = body(req);
    if (family !== 'cosyvoice' && family !== 'qwen') return badRequest(res, 'family must be cosyvoice or qwen');
    listCustomVoices(config, family, typeof model === 'string' && model ? model : undefined).then(
      (voices) => res.json({ voices: voices.map((v) => ({ voice: v.voice, targetModel: v.targetModel, status: v.status, kind: v.kind })) }),
      (err: unknown) => failure(res, err),
    );
  });

  RED.httpAdmin.post('/dashscope-tts/preview', write, (req, res) => {
    const config = deployedConfig(RED, req, res);
    if (!config) return;
    const { model, voice, text } = body(req);
    const known = allModels().find((m) => m.id === model);
    if (!known || (known.family !== 'cosyvoice' && known.family !== 'qwen-tts-realtime')) return badRequest(res, `unknown speech model ${String(model)}`);
    if (typeof voice !== 'string' || !voice.trim()) return badRequest(res, 'choose a voice');
    const say = typeof text === 'string' && text.trim() ? text.trim() : 'Hello! This is how I sound. 你好，这是我的声音。';
    if (Array.from(say).length > PREVIEW_MAX_CHARS) return badRequest(res, `a preview is at most ${PREVIEW_MAX_CHARS} characters`);
    synthesizePreview(config, known.family === 'cosyvoice' ? 'cosyvoice' : 'qwen', known.id, voice.trim(), say).then(
      (pcm) => {
        res.set('Content-Type', 'audio/wav');
        res.set('Cache-Control', 'no-store');
        res.send(Buffer.concat([wavHeader(PREVIEW_SAMPLE_RATE, pcm.length), pcm]));
      },
      (err: unknown) => failure(res, err),
    );
  });
}
