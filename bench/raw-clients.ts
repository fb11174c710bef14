import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/**
 * Minimal hand-written protocol clients: the floor that the nodes are compared with. They do the
 * same protocol steps as the nodes with nothing else around them.
 */
function open(url: string, key: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${key}` }, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const runTask = (taskId: string): string =>
  JSON.stringify({
    header: { action: 'run-task', task_id: taskId, streaming: 'duplex' },
    payload: {
      task_group: 'audio',
      task: 'tts',
      function: 'SpeechSynthesizer',
      model: 'cosyvoice-v3-flash',
      parameters: { text_type: 'PlainText', voice: 'longanyang', format: 'pcm', sample_rate: 24000 },
      input: {},
    },
  });
const instruction = (action: string, taskId: string, input: object): string =>
  JSON.stringify({ header: { action, task_id: taskId, streaming: 'duplex' }, payload: { input } });

/**
 * Listens on `ws` until the task there finishes: resolves with ms from `t0` to its first audio
 * frame. `onStarted` runs at task-started (a task run here); an armed task is started already.
 */
function firstAudioOfTask(ws: WebSocket, t0: number, onStarted?: () => void): Promise<number> {
  let first = -1;
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer, binary: boolean): void => {
      if (binary) {
        if (first < 0) first = performance.now() - t0;
        return;
      }
      const event = (JSON.parse(data.toString()) as { header: { event: string } }).header.event;
      if (event === 'task-started') onStarted?.();
      else if (event === 'task-finished') {
        ws.off('message', onMessage);
        resolve(first);
      } else if (event === 'task-failed') reject(new Error('task failed'));
    };
    ws.on('message', onMessage);
  });
}

/** One CosyVoice task on `ws`; resolves with ms from run-task to the first audio frame, after task-finished. */
function cosyTask(ws: WebSocket, text: string): Promise<number> {
  const taskId = randomUUID().replace(/-/g, '');
  const finished = firstAudioOfTask(ws, performance.now(), () => {
    ws.send(instruction('continue-task', taskId, { text }));
    ws.send(instruction('finish-task', taskId, {}));
  });
  ws.send(runTask(taskId));
  return finished;
}

export async function rawCosyVoice(baseWs: string, key: string): Promise<{ speak(text: string): Promise<number>; close(): void }> {
  const ws = await open(`${baseWs}/api-ws/v1/inference`, key);
  return { speak: (text) => cosyTask(ws, text), close: () => ws.close() };
}

/**
 * The same with a task started ahead, as the nodes do with keepWarm (docs/protocol.md "Keeping
 * warm"): the next task's run-task goes out as soon as the current one has finished, so the text
 * goes straight into continue-task. Resolves with ms from the text to the first audio frame.
 */
export async function rawCosyVoiceArmed(baseWs: string, key: string): Promise<{ speak(text: string): Promise<number>; close(): void }> {
  const ws = await open(`${baseWs}/api-ws/v1/inference`, key);
  let taskId = '';
  let started: Promise<void> = Promise.resolve();
  const arm = (): void => {
    taskId = randomUUID().replace(/-/g, '');
    const id = taskId;
    started = new Promise((resolve, reject) => {
      const onMessage = (data: Buffer, binary: boolean): void => {
        if (binary) return;
        const header = (JSON.parse(data.toString()) as { header: { event: string; task_id: string } }).header;
        if (header.task_id !== id) return;
        ws.off('message', onMessage);
        if (header.event === 'task-started') resolve();
        else reject(new Error(`armed task: ${header.event}`));
      };
      ws.on('message', onMessage);
    });
    ws.send(runTask(id));
  };
  arm();
  const speak = async (text: string): Promise<number> => {
    await started;
    const id = taskId;
    const finished = firstAudioOfTask(ws, performance.now());
    ws.send(instruction('continue-task', id, { text }));
    ws.send(instruction('finish-task', id, {}));
    const first = await finished;
    arm();
    return first;
  };
  return { speak, close: () => ws.close() };
}

/** The official samples' pattern: a new connection per utterance. Ms from connect to first audio. */
export async function cosyVoicePerConnection(baseWs: string, key: string, text: string): Promise<number> {
  const t0 = performance.now();
  const ws = await open(`${baseWs}/api-ws/v1/inference`, key);
  const connectMs = performance.now() - t0;
  const first = await cosyTask(ws, text);
  ws.close();
  return connectMs + first;
}

function qwenOpen(baseWs: string, key: string, model: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseWs}/api-ws/v1/realtime?model=${model}`, { headers: { Authorization: `Bearer ${key}` }, perMessageDeflate: false });
    ws.on('message', function setup(data: Buffer) {
      const type = (JSON.parse(data.toString()) as { type: string }).type;
      if (type === 'session.created') {
        ws.send(JSON.stringify({ event_id: `event_${randomUUID().replace(/-/g, '')}`, type: 'session.update', session: { voice: 'Cherry', mode: 'commit', response_format: 'pcm', sample_rate: 24000 } }));
      } else if (type === 'session.updated') {
        ws.off('message', setup);
        resolve(ws);
      } else if (type === 'error') reject(new Error('session setup failed'));
    });
    ws.once('error', reject);
  });
}

function qwenUtterance(ws: WebSocket, text: string): Promise<number> {
  const t0 = performance.now();
  let first = -1;
  return new Promise((resolve) => {
    const onMessage = (data: Buffer): void => {
      const type = (JSON.parse(data.toString()) as { type: string }).type;
      if (type === 'response.audio.delta' && first < 0) first = performance.now() - t0;
      if (type === 'response.done') {
        ws.off('message', onMessage);
        resolve(first);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ event_id: `event_${randomUUID().replace(/-/g, '')}`, type: 'input_text_buffer.append', text }));
    ws.send(JSON.stringify({ event_id: `event_${randomUUID().replace(/-/g, '')}`, type: 'input_text_buffer.commit' }));
  });
}

export async function rawQwen(baseWs: string, key: string, model: string): Promise<{ speak(text: string): Promise<number>; close(): void }> {
  const ws = await qwenOpen(baseWs, key, model);
  return { speak: (text) => qwenUtterance(ws, text), close: () => ws.close() };
}

/**
 * The protocol steps the node takes for Qwen (docs/protocol.md "Qwen: end of an utterance"): each
 * utterance on a session of its own, ended with session.finish, and the next utterance's session
 * opened as soon as this one's text is out, so it is ready when the next text comes. Resolves
 * with ms from the text to the first audio delta, after session.finished.
 */
export async function rawQwenSessions(baseWs: string, key: string, model: string): Promise<{ speak(text: string): Promise<number>; close(): void }> {
  let next = qwenOpen(baseWs, key, model);
  let last: WebSocket | undefined;
  const speak = async (text: string): Promise<number> => {
    const ws = await next;
    last = ws;
    const t0 = performance.now();
    let first = -1;
    const finished = new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const type = (JSON.parse(data.toString()) as { type: string }).type;
        if (type === 'response.audio.delta' && first < 0) first = performance.now() - t0;
        else if (type === 'session.finished') resolve();
        else if (type === 'error') reject(new Error('session failed'));
      });
    });
    ws.send(JSON.stringify({ event_id: `event_${randomUUID().replace(/-/g, '')}`, type: 'input_text_buffer.append', text }));
    ws.send(JSON.stringify({ event_id: `event_${randomUUID().replace(/-/g, '')}`, type: 'input_text_buffer.commit' }));
    ws.send(JSON.stringify({ event_id: `event_${randomUUID().replace(/-/g, '')}`, type: 'session.finish' }));
    next = qwenOpen(baseWs, key, model);
    await finished;
    ws.close();
    return first;
  };
  return {
    speak,
    close: () => {
      last?.close();
      void next.then((ws) => ws.close(), () => undefined);
    },
  };
}

export async function qwenPerConnection(baseWs: string, key: string, model: string, text: string): Promise<number> {
  const t0 = performance.now();
  const ws = await qwenOpen(baseWs, key, model);
  const setupMs = performance.now() - t0;
  const first = await qwenUtterance(ws, text);
  ws.close();
  return setupMs + first;
}
