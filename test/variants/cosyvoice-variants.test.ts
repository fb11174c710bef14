/**
 * Issue 16, CosyVoice: the real service, not our picture of it. Where the protocol notes leave a
 * behaviour unconfirmed, the simulator has a switch for each plausible reading; the real
 * cosyvoice-stream node must speak every utterance, whole and in order, under every one of them.
 *
 * First the switches themselves (a raw WebSocket client sees each reading), then the matrix:
 * variant × input mode (whole utterances; a token stream with a pause) × format (pcm, wav, mp3).
 */
import assert from 'node:assert/strict';
import { DashScopeSimulator, type Fault, type SimulatorOptions } from '../simulator';
import { expectedAudio, type AudioFormat } from '../simulator/audio';
import { RawClient, type RawFrame } from '../simulator/raw-client';
import { waitFor } from '../support/collect';
import { helper, runsRigs } from '../support/node-red';
import { assertSpoken, CosyVoiceRig, SAMPLE_RATE, VOICE, type StreamStep } from './cosyvoice-rig';

const run = (id: string, format: AudioFormat = 'pcm'): object => ({
  header: { action: 'run-task', task_id: id, streaming: 'duplex' },
  payload: {
    task_group: 'audio',
    task: 'tts',
    function: 'SpeechSynthesizer',
    model: 'cosyvoice-v3-flash',
    parameters: { text_type: 'PlainText', voice: VOICE, format, sample_rate: 16000 },
    input: {},
  },
});
const say = (id: string, text: string): object => ({ header: { action: 'continue-task', task_id: id, streaming: 'duplex' }, payload: { input: { text } } });
const finish = (id: string): object => ({ header: { action: 'finish-task', task_id: id, streaming: 'duplex' }, payload: { input: {} } });

type Instruction = { header: { action: string }; payload: { input: { text?: string } } };

const event = (name: string) => (f: RawFrame): boolean => (f.json?.header as { event?: string } | undefined)?.event === name;
const headerOf = (f: RawFrame): { task_id?: string; error_code?: string; error_message?: string } => (f.json?.header ?? {}) as never;

describe('CosyVoice service variants', () => {
  describe("the simulator's switches (a raw client sees each reading)", () => {
    let sim: DashScopeSimulator;
    const clients: RawClient[] = [];

    async function open(options: SimulatorOptions): Promise<RawClient> {
      sim = await DashScopeSimulator.start(options);
      const c = await RawClient.open(`${sim.baseUrl.replace('http', 'ws')}/api-ws/v1/inference`);
      clients.push(c);
      return c;
    }

    async function started(c: RawClient, id: string, format: AudioFormat = 'pcm'): Promise<void> {
      c.send(run(id, format));
      await c.next(event('task-started'));
    }

    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      await sim?.close();
    });

    for (const [containerHeaders, headers] of [
      ['per-task', 1],
      ['per-sentence', 2],
    ] as const) {
      it(`containerHeaders '${containerHeaders}': a two-sentence wav task carries ${headers} RIFF header(s)`, async () => {
        const c = await open({ cosyvoice: { containerHeaders } });
        await started(c, 't1', 'wav');
        c.send(say('t1', 'One, two.'));
        c.send(finish('t1'));
        await c.next(event('task-finished'));
        const audio = c.frames.filter((f) => f.binary).map((f) => f.data as Buffer);
        assert.equal(audio.filter((d) => d.subarray(0, 4).toString('latin1') === 'RIFF').length, headers);
        assert.equal(audio[0]?.subarray(0, 4).toString('latin1'), 'RIFF');
      });
    }

    it("blankContinueTask 'fail': whitespace alone fails the task; 'accept' (default) takes it", async () => {
      const strict = await open({ cosyvoice: { blankContinueTask: 'fail' } });
      await started(strict, 't1');
      strict.send(say('t1', ' \n '));
      const failed = await strict.next(event('task-failed'));
      assert.equal(headerOf(failed).error_code, 'InvalidParameter');
      assert.equal(headerOf(failed).error_message, 'Please ensure input text is valid.');
      await sim.close();

      const lenient = await open({});
      await started(lenient, 't2');
      lenient.send(say('t2', '  '));
      lenient.send(say('t2', 'Fine.'));
      lenient.send(finish('t2'));
      await lenient.next(event('task-finished'));
    });

    for (const throttleAnswer of ['task-failed', 'close'] as const) {
      it(`throttleAnswer '${throttleAnswer}': a start beyond the rate is refused that way`, async () => {
        const c = await open({ cosyvoice: { rateLimitPerSecond: 1, throttleAnswer } });
        await started(c, 't1');
        c.send(finish('t1'));
        await c.next(event('task-finished'));
        c.send(run('t2'));
        if (throttleAnswer === 'task-failed') {
          const failed = await c.next(event('task-failed'));
          assert.equal(headerOf(failed).error_code, 'Throttling.RateQuota');
        }
        const closed = await c.closed;
        assert.equal(closed.code, throttleAnswer === 'close' ? 1013 : 1000);
        if (throttleAnswer === 'close') assert.match(closed.reason, /^Throttling\.RateQuota: Requests rate limit exceeded/);
        assert.equal(c.frames.filter(event('task-started')).length, 1, 'the second task never started');
      });
    }

    it('idleCloseMs closes a connection parked between tasks', async () => {
      const c = await open({ cosyvoice: { idleCloseMs: 80 } });
      await started(c, 't1');
      c.send(say('t1', 'Hi.'));
      c.send(finish('t1'));
      await c.next(event('task-finished'));
      const at = Date.now();
      const closed = await c.closed;
      assert.equal(closed.code, 1000);
      assert.match(closed.reason, /idle/);
      assert.ok(Date.now() - at >= 60, 'closed by the idle timer, not at once');
    });

    it('paced audio: the task timeout counts only client messages, so it strikes while audio is still being sent', async () => {
      // ≈ 1.3 s of audio at a real-time factor of 0.5 takes ≈ 650 ms; the (scaled) limit is 200 ms.
      const c = await open({ firstAudioLatencyMs: 20, realTimeFactor: 0.5, cosyvoice: { taskTimeoutMs: 200, timeoutErrorCode: 'CLIENT_ERROR' } });
      await started(c, 't1');
      const sentAt = Date.now();
      c.send(say('t1', 'Read this aloud slowly,'));
      const failed = await c.next(event('task-failed'));
      assert.equal(headerOf(failed).error_code, 'CLIENT_ERROR');
      assert.equal(headerOf(failed).error_message, 'request timeout after 23 seconds.');
      const elapsed = Date.now() - sentAt;
      assert.ok(elapsed >= 180, `timed out ${elapsed} ms after the last text`);
      const heard = c.frames.filter((f) => f.binary).reduce((n, f) => n + (f.data as Buffer).length, 0);
      const whole = expectedAudio({ text: 'Read this aloud slowly,', voice: VOICE, sampleRate: 16000 }).length;
      assert.ok(heard > 0 && heard < whole, `the audio was cut short: ${heard} of ${whole} bytes`);
    });

    it('the stray-task-events fault sends another task id’s events and audio in the middle of a task', async () => {
      const c = await open({});
      sim.inject({ kind: 'stray-task-events' });
      await started(c, 't1');
      c.send(say('t1', 'Mine.'));
      c.send(finish('t1'));
      await c.next(event('task-finished'));
      const ids = new Set(c.frames.filter((f) => !f.binary).map((f) => headerOf(f).task_id));
      assert.equal(ids.size, 2, 'events of two task ids');
      assert.ok(c.frames.some(event('task-failed')), 'a stray task-failed among them');
    });
  });

  describe('cosyvoice-stream under every variant', () => {
    /** settings.js tuning: short client clocks and backoff, so each cell runs in about a second. */
    const TUNING = {
      cosyvoiceLimits: { startTimeoutMs: 1000, finishTimeoutMs: 2000, idleFinishMs: 120 },
      throttleBackoff: { baseMs: 300, maxMs: 600, maxAttempts: 6 },
    };
    /** A realistic pace, scaled: first audio after 20 ms, audio streamed at 1/20 of real time. */
    const PACE: SimulatorOptions = { firstAudioLatencyMs: 20, realTimeFactor: 0.05 };
    /** The service's 23 s limit, scaled to 400 ms (the client's idle finish is 120 ms). */
    const TASK_TIMEOUT_MS = 400;

    interface Variant {
      name: string;
      sim?: SimulatorOptions;
      faults?: Fault[];
      /** Proof that the cell met the variant's behaviour, not just the documented one. */
      met?: (r: CosyVoiceRig) => void;
    }

    const throttled = (r: CosyVoiceRig): void => assert.ok(r.sim.stats.tasks.failed >= 1, 'the service refused a start');

    const VARIANTS: Variant[] = [
      { name: 'documented reading' },
      { name: 'a container header on every sentence', sim: { cosyvoice: { containerHeaders: 'per-sentence' } } },
      { name: 'whitespace-only continue-task fails the task', sim: { cosyvoice: { blankContinueTask: 'fail' } } },
      { name: 'rate limit answered with task-failed', sim: { cosyvoice: { rateLimitPerSecond: 2, throttleAnswer: 'task-failed' } }, met: throttled },
      { name: 'rate limit answered with a close', sim: { cosyvoice: { rateLimitPerSecond: 2, throttleAnswer: 'close' } }, met: throttled },
      {
        name: 'parked connections closed after 100 ms idle',
        sim: { cosyvoice: { idleCloseMs: 100 } },
        met: (r) => assert.ok(r.sim.stats.connections.cosyvoice >= 2, 'a parked connection was closed and replaced'),
      },
      { name: 'events of other task ids in every task', faults: [{ kind: 'stray-task-events', times: Infinity }] },
      {
        // The case: audio still streaming for longer than the task timeout after the last text.
        name: 'audio streams longer than the task timeout (CLIENT_ERROR)',
        sim: { realTimeFactor: 0.25, cosyvoice: { taskTimeoutMs: 250, timeoutErrorCode: 'CLIENT_ERROR' } },
      },
    ];

    const FORMATS: AudioFormat[] = ['pcm', 'wav', 'mp3'];

    const audio = (text: string, format: AudioFormat): Buffer => expectedAudio({ text, voice: VOICE, sampleRate: SAMPLE_RATE, format });

    let rig: CosyVoiceRig | undefined;

    before(() => helper.settings({ ttsConfigConnection: TUNING } as Record<string, unknown>));
    after(() => helper.settings({}));
    runsRigs(() => {
      const current = rig;
      rig = undefined;
      return current;
    });

    async function start(variant: Variant, format: AudioFormat): Promise<CosyVoiceRig> {
      const sim: SimulatorOptions = { ...PACE, ...variant.sim, cosyvoice: { taskTimeoutMs: TASK_TIMEOUT_MS, ...variant.sim?.cosyvoice } };
      rig = await CosyVoiceRig.start({ sim, faults: variant.faults, node: { format } });
      return rig;
    }

    /** The service never timed a task out (the failure: a task cut off in the middle of its audio). */
    function assertNoTimeout(r: CosyVoiceRig): void {
      const timedOut = r.sim.transcripts.some((t) =>
        t.entries.some((e) => e.dir === 'S' && !e.binary && /request timeout/.test(JSON.stringify(e.json ?? ''))),
      );
      assert.equal(timedOut, false, 'the service timed a task out');
    }

    for (const variant of VARIANTS) {
      for (const format of FORMATS) {
        it(`${variant.name} · whole utterances · ${format}`, async () => {
          const r = await start(variant, format);
          const texts = { a: 'Good morning, the kitchen lights are on.', b: 'The garage door is open, please close it!', c: 'Everything else is fine.' };
          // Two queued back to back (two task starts at once), then one more after the parked socket sat idle.
          const [a, b] = await Promise.all([r.say(texts.a, 'a'), r.say(texts.b, 'b')]);
          assertSpoken(a, audio(texts.a, format), texts.a, 'a');
          assertSpoken(b, audio(texts.b, format), texts.b, 'b');
          await new Promise((resolve) => setTimeout(resolve, 250));
          const c = await r.say(texts.c, 'c');
          assertSpoken(c, audio(texts.c, format), texts.c, 'c');
          r.assertEachOnce();
          assertNoTimeout(r);
          variant.met?.(r);
        });

        it(`${variant.name} · stream with a pause · ${format}`, async () => {
          const r = await start(variant, format);
          // A bare space arriving while the task runs, then a pause past the client's idle finish
          // (two tasks), and a closing message with no text.
          const taskRuns = (): Promise<void> => waitFor(() => r.sim.stats.tasks.started >= 1, 2000, 'the first task');
          const script: StreamStep[] = ['The first', taskRuns, ' ', 20, 'part arrives,', 300, ' and then', 20, ' the rest', 20, ' comes!', 20, ''];
          const text = script.filter((s): s is string => typeof s === 'string').join('');
          const s1 = await r.stream(script, 's1');
          assertSpoken(s1, audio(text, format), text, 's1');
          assert.equal(s1.event.taskIds.length, 2, 'the pause split the utterance into two tasks');
          const sent = (r.sim.transcripts[0]?.entries ?? []).filter((e) => e.dir === 'C').map((e) => e.json as Instruction);
          const firstTask = sent.slice(0, sent.findIndex((m) => m.header.action === 'finish-task')).flatMap((m) => m.payload.input.text ?? []);
          assert.deepEqual(firstTask, ['The first', ' part arrives,'], 'the bare space waited for the next text');
          // The next one always plays.
          const s2 = await r.stream(['And', ' that is', ' all.'], 's2');
          assertSpoken(s2, audio('And that is all.', format), 'And that is all.', 's2');
          r.assertEachOnce();
          assertNoTimeout(r);
          variant.met?.(r);
        });
      }
    }
  });
});
