import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { epochNow } from '../../src/audio/audio-message';
import { MAX_TTL_SECONDS } from '../../src/audio/announcement';
import { SpeechQueue, type ActiveSpeech, type SpeechEngine } from '../../src/speech/speech-queue';
import { Utterance, type UtteranceEvents } from '../../src/speech/utterance';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

/**
 * Issue 21 on the speech nodes' side: msg.ttl (an announcement that waited too long in the node's
 * queue is never sent to the service) and msg.audio.requestedAt (when the node received the text).
 */

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];

interface OutMsg {
  payload: Buffer;
  topic?: string;
  audio?: { format: string; sampleRate: number; requestedAt?: number };
  parts?: { id: string; index: number; count?: number };
  ttl?: unknown;
  chime?: unknown;
  speakerVolume?: unknown;
}
interface EventMsg {
  topic?: string;
  ttl?: unknown;
  payload: { text: string; bytes: number; characters?: number; durationMs?: number; expired?: boolean; ttl?: number; waitedMs?: number; voice: string; model: string; format: string; sampleRate: number };
}
interface CaughtMsg {
  topic?: string;
  error?: { message: string; code?: string };
}
type Receiver = Node & { receive(msg: Record<string, unknown>): void; log(text: string): void };

type Service = 'cosyvoice' | 'qwen';
const SPEECH: Record<Service, { type: string; voice: string } & Record<string, unknown>> = {
  cosyvoice: { type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang' },
  qwen: { type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'commit' },
};

/** Long enough that what queues behind it waits out a short msg.ttl. */
const LONG = 'This announcement is long enough to keep the next one waiting for a good while. '.repeat(3).trim();
/** One second of audio takes this long to stream: LONG takes some 700 ms. */
const REAL_TIME_FACTOR = 700 / ((expectedAudio({ text: LONG, voice: 'longanyang', sampleRate: 24000 }).length / 48_000) * 1000);

describe('announcement freshness in the speech nodes (msg.ttl, msg.audio.requestedAt)', function () {
  this.timeout(20_000);
  let sim: DashScopeSimulator;

  async function deploy(service: Service, extra: Record<string, unknown> = {}, realTimeFactor = 0): Promise<void> {
    sim = await DashScopeSimulator.start({ realTimeFactor, firstAudioLatencyMs: 20 });
    await helper.load(nodes, synthesisFlow(sim.baseUrl, { id: 'tts', ...SPEECH[service], ...extra }), { cfg: { apiKey: KEY } });
  }

  freshServerEachTest({ after: () => sim?.close() });

  const node = (id: string): Node => helper.getNode(id);
  const tts = (): Receiver => helper.getNode('tts') as Receiver;
  /** Every text frame the node sent to the service, as text. */
  const sentToService = (): string => JSON.stringify(sim.transcripts.flatMap((t) => t.entries).filter((e) => e.dir === 'C').map((e) => e.json));
  const logged = (): string[] => {
    const lines: string[] = [];
    const n = tts();
    const original = n.log.bind(n);
    n.log = (text: string) => {
      lines.push(text);
      original(text);
    };
    return lines;
  };

  for (const service of ['cosyvoice', 'qwen'] as const) {
    const voice = SPEECH[service].voice;
    const audioOf = (text: string): Buffer => expectedAudio({ text, voice, sampleRate: 24000, service, qwenMode: 'commit' });

    it(`${service}: an utterance whose msg.ttl passed while it waited is never sent to the service; output 2 says expired; the one behind it plays`, async () => {
      await deploy(service, {}, REAL_TIME_FACTOR);
      const lines = logged();
      const caught = collect<CaughtMsg>(node('caught'));
      const events = nextMessages<EventMsg>(node('events'), 3);
      const joined = collect<OutMsg>(node('joined'));
      const chunks = collect<OutMsg>(node('chunks'));
      const stale = 'The door is open.';
      const fresh = 'The door is closed again.';
      tts().receive({ payload: LONG, topic: 'long' });
      tts().receive({ payload: stale, topic: 'stale', ttl: 0.2 });
      tts().receive({ payload: fresh, topic: 'fresh', ttl: 30 });
      const [first, expired, last] = await events;

      assert.equal(first?.topic, 'long');
      assert.equal(first?.payload.expired, undefined);
      assert.equal(expired?.topic, 'stale');
      assert.equal(expired?.ttl, 0.2, 'the message\'s own properties travel on output 2 too');
      assert.equal(expired?.payload.expired, true);
      assert.equal(expired?.payload.text, stale);
      assert.equal(expired?.payload.characters, 0);
      assert.equal(expired?.payload.bytes, 0);
      assert.equal(expired?.payload.durationMs, 0);
      assert.equal(expired?.payload.ttl, 0.2);
      assert.equal(expired?.payload.voice, voice);
      assert.equal(expired?.payload.model, SPEECH[service].model);
      assert.deepEqual([expired?.payload.format, expired?.payload.sampleRate], ['pcm', 24000]);
      assert.ok((expired?.payload.waitedMs ?? 0) >= 200, `it waited ${expired?.payload.waitedMs} ms, past its ttl`);
      assert.equal(last?.topic, 'fresh');
      assert.equal(last?.payload.expired, undefined);

      await waitFor(() => joined.length === 2, 3000, 'two whole utterances');
      assert.deepEqual(joined.map((m) => m.topic), ['long', 'fresh'], 'no audio message at all for the expired one');
      assert.ok(joined[1]?.payload.equals(audioOf(fresh)), 'the fresh one plays whole');
      assert.equal(chunks.filter((c) => c.topic === 'stale').length, 0);

      const sent = sentToService();
      assert.ok(sent.includes('The door is closed again'), 'the transcript holds the texts sent (control)');
      assert.ok(!sent.includes('The door is open'), 'the expired text never reached the service');
      assert.equal(sim.stats.billedCharacters, LONG.length + fresh.length, 'nothing billed for it');
      if (service === 'cosyvoice') assert.equal(sim.stats.tasks.started, 2, 'no task for it');
      else assert.equal(sim.stats.responses.created, 2, 'no response for it');
      assert.ok(lines.some((l) => /msg\.ttl of 0\.2 s passed/.test(l) && /not spoken/.test(l)), `a log line says so: ${lines.join(' | ')}`);
      assert.ok(!lines.some((l) => l.includes(stale)), 'the log does not repeat what was to be said');
      assert.deepEqual(caught, [], 'not an error: done() without one');
    });

    it(`${service}: a bad msg.ttl is refused at once with InvalidInput (nothing sent); the next message plays`, async () => {
      await deploy(service);
      const caught = collect<CaughtMsg>(node('caught'));
      const events = collect<EventMsg>(node('events'));
      const bad: unknown[] = [0, -5, 'soon', MAX_TTL_SECONDS + 1, Number.NaN, { seconds: 3 }, true];
      for (const [i, ttl] of bad.entries()) tts().receive({ payload: `Refused number ${i}.`, topic: `bad${i}`, ttl });
      await waitFor(() => caught.length === bad.length, 3000, 'every bad ttl reported');
      caught.forEach((c, i) => {
        assert.equal(c.error?.code, 'InvalidInput', `ttl ${String(bad[i])}`);
        assert.match(c.error?.message ?? '', /msg\.ttl/);
        assert.equal(c.topic, `bad${i}`);
      });

      const joined = nextMessages<OutMsg>(node('joined'), 1);
      const text = 'Still working.';
      tts().receive({ payload: text, topic: 'good', ttl: '5' });
      const [whole] = await joined;
      assert.ok(whole?.payload.equals(audioOf(text)));
      await waitFor(() => events.length === 1, 2000, 'its summary');
      assert.equal(events[0]?.payload.expired, undefined);
      assert.ok(!sentToService().includes('Refused number'), 'nothing of the refused ones was sent');
      assert.equal(sim.stats.billedCharacters, text.length);
    });
  }

  it('msg.ttl, msg.chime and msg.speakerVolume travel on with every audio message (they steer pcm speaker, not this node)', async () => {
    await deploy('cosyvoice');
    const chunks = collect<OutMsg>(node('chunks'));
    const events = nextMessages<EventMsg>(node('events'), 1);
    tts().receive({ payload: 'Someone is at the door.', ttl: 30, chime: 'ding-dong', speakerVolume: 40 });
    await events;
    await waitFor(() => chunks.some((c) => c.parts?.count !== undefined), 2000, 'end marker');
    assert.ok(chunks.length >= 2);
    for (const c of chunks) assert.deepEqual([c.ttl, c.chime, c.speakerVolume], [30, 'ding-dong', 40]);
  });

  it('requestedAt is each request\'s own time: two utterances queued behind each other each carry when they were received', async () => {
    await deploy('qwen', {}, REAL_TIME_FACTOR);
    const chunks = collect<OutMsg>(node('chunks'));
    const events = nextMessages<EventMsg>(node('events'), 2);
    const firstSent = epochNow();
    tts().receive({ payload: LONG, topic: 'a' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const secondSent = epochNow();
    tts().receive({ payload: 'Second.', topic: 'b' });
    await events;
    const at = (topic: string): number[] => [...new Set(chunks.filter((c) => c.topic === topic).map((c) => c.audio?.requestedAt as number))];
    const [a] = at('a');
    const [b] = at('b');
    assert.equal(at('a').length, 1, 'one requestedAt per utterance');
    assert.equal(at('b').length, 1);
    assert.ok(typeof a === 'number' && a >= firstSent && a < secondSent, `first ${a}`);
    // When it was received, not when its turn came (some 600 ms later).
    assert.ok(typeof b === 'number' && b >= secondSent && b < secondSent + 100, `second ${b} - ${secondSent}`);
  });

  it('stream input: the ttl of the message that started the stream counts; the rest of an expired stream is not spoken either', async () => {
    await deploy('cosyvoice', { input: 'stream' }, REAL_TIME_FACTOR);
    const events = collect<EventMsg>(node('events'));
    const joined = collect<OutMsg>(node('joined'));
    const caught = collect<CaughtMsg>(node('caught'));
    tts().receive({ payload: LONG, topic: 'long', complete: true });
    // A stream that starts behind it with a short ttl; its later pieces (with no ttl, or a long one) do not renew it.
    tts().receive({ payload: 'Stale stream ', topic: 'stale', ttl: 0.2 });
    tts().receive({ payload: 'first part. ', ttl: 60 });
    await waitFor(() => events.length === 2, 5000, 'the long one and the expired one');
    assert.equal(events[1]?.payload.expired, true);
    assert.equal(events[1]?.payload.text, 'Stale stream first part. ');
    // Pieces of the same stream after it expired: not a new utterance, late.
    tts().receive({ payload: 'Stale second part.' });
    tts().receive({ payload: '', complete: true });
    tts().receive({ payload: 'Fresh stream.', topic: 'fresh', complete: true });
    await waitFor(() => events.length === 3, 5000, 'the fresh one');
    assert.equal(events[2]?.topic, 'fresh');
    assert.equal(events[2]?.payload.expired, undefined);
    await waitFor(() => joined.length === 2, 2000, 'two whole utterances');
    assert.deepEqual(joined.map((m) => m.topic), ['long', 'fresh']);
    assert.ok(joined[1]?.payload.equals(expectedAudio({ text: 'Fresh stream.', voice: 'longanyang', sampleRate: 24000 })));
    const sent = sentToService();
    assert.ok(sent.includes('Fresh stream.'));
    assert.ok(!sent.includes('Stale'), 'no part of the expired stream reached the service');
    assert.deepEqual(caught, [], 'nothing of it is an error');
  });
});

describe('SpeechQueue and expired utterances', () => {
  /** Records what it was asked to speak; each utterance ends when the test says. */
  class ManualEngine implements SpeechEngine<string> {
    readonly spoken: string[] = [];
    private over: (() => void) | undefined;
    speak(utterance: Utterance<string>, onOver: () => void): ActiveSpeech {
      this.spoken.push(utterance.text);
      this.over = () => {
        utterance.events.done({ text: utterance.text, model: 'm', voice: 'v', format: 'pcm', sampleRate: 24000, bytes: 0 });
        onOver();
      };
      return { cancel: () => undefined };
    }
    finish(): void {
      const over = this.over;
      this.over = undefined;
      over?.();
    }
  }

  function utterance(text: string, ended: string[], ttlMs?: number): Utterance<string> {
    const events: UtteranceEvents = {
      started: () => undefined,
      audio: () => undefined,
      done: () => ended.push(`${text}: done`),
      failed: () => ended.push(`${text}: failed`),
      stopped: () => ended.push(`${text}: stopped`),
    };
    const u = new Utterance('settings', events, ttlMs);
    u.append(text);
    u.end();
    return u;
  }

  it('skips every expired utterance when its turn comes (handler told once each, with how long it waited), speaks the fresh ones, and goes idle', async () => {
    const engine = new ManualEngine();
    const ended: string[] = [];
    const expired: { text: string; waitedMs: number }[] = [];
    const states: string[] = [];
    const queue = new SpeechQueue<string>(engine, (state) => states.push(state), (u, waitedMs) => {
      expired.push({ text: u.text, waitedMs });
      u.events.stopped();
    });
    queue.submit(utterance('first', ended, 1));
    // 500 short-lived ones behind it: skipped in a loop, not a recursion per utterance.
    for (let i = 0; i < 500; i++) queue.submit(utterance(`stale ${i}`, ended, 5));
    queue.submit(utterance('fresh', ended, 60_000));
    queue.submit(utterance('no ttl', ended));
    assert.deepEqual(engine.spoken, ['first'], 'the first one\'s turn came at once: it is spoken even with a 1 ms ttl');
    await new Promise((resolve) => setTimeout(resolve, 20));
    engine.finish();
    assert.deepEqual(engine.spoken, ['first', 'fresh']);
    assert.equal(expired.length, 500);
    assert.ok(expired.every((e, i) => e.text === `stale ${i}` && e.waitedMs >= 15), 'in order, each with its wait');
    engine.finish();
    assert.deepEqual(engine.spoken, ['first', 'fresh', 'no ttl']);
    engine.finish();
    assert.equal(queue.length, 0);
    assert.equal(states[states.length - 1], 'idle');
    assert.equal(ended.filter((e) => e.endsWith('stopped')).length, 500);
    assert.deepEqual(ended.filter((e) => e.endsWith('done')), ['first: done', 'fresh: done', 'no ttl: done']);
  });

  it('without a handler an expired utterance ends stopped, so nothing waits for it', async () => {
    const engine = new ManualEngine();
    const ended: string[] = [];
    const queue = new SpeechQueue<string>(engine);
    queue.submit(utterance('first', ended));
    queue.submit(utterance('stale', ended, 1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    engine.finish();
    assert.deepEqual(engine.spoken, ['first']);
    assert.deepEqual(ended, ['first: done', 'stale: stopped']);
  });
});
