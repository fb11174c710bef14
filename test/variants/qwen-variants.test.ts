/**
 * Issue 16, the Qwen part: the real qwen-realtime node against every plausible reading of what
 * the notes leave unconfirmed (qwen-realtime.md §4.3, §4.5, §5.4, §6, §7), as simulator switches:
 * where server_commit cuts (sentences or clauses, a length limit), whether it announces its cuts,
 * how an empty commit is answered, how many responses a commit gets, responses that end early,
 * and sessions the service ends. In every cell each utterance is spoken byte for byte, in order,
 * with its end marker and its output-2 event, or fails with a clear error naming it; the next
 * utterance always plays in full; a fully spoken utterance is never reported failed.
 */
import assert from 'node:assert/strict';
import type { Fault, QwenOptions, SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { runsRigs } from '../support/node-red';
import { assertSpoken, QwenRig, VOICE, type Ending } from './qwen-rig';
import { ConnectionManager, type ManagerOptions } from '../../src/connection/connection-manager';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import type { DashScopeError } from '../../src/dashscope/errors';
import { QwenEngine, type QwenEngineOptions } from '../../src/speech/qwen-engine';
import type { QwenUtteranceSettings } from '../../src/speech/qwen-settings';
import { SpeechQueue } from '../../src/speech/speech-queue';
import { Utterance } from '../../src/speech/utterance';
import { DashScopeSimulator } from '../simulator';
import { RecordingOutput } from '../support/recording-output';
import { allSentences, QWEN_TERMINATORS } from '../simulator/audio';
import { cutBuffer } from '../simulator/qwen/server-cuts';
import type { RawClient } from '../simulator/raw-client';
import { count, finishAndCollect, rawSession, responseSizes, send, serverEvent } from './qwen-raw';
import { assertWireDiscipline, clientTypes, openedAt, qwenSessions, serverErrors, serverTypes, sessionIdOf } from './qwen-transcripts';

type Mode = 'server_commit' | 'commit';

/** A realistic pace: first audio after 20 ms, audio streamed at 20x real time. */
const PACE: SimulatorOptions = { firstAudioLatencyMs: 20, realTimeFactor: 0.05 };

const FULL_STOP = 'The garage door is open. Please close it before you leave.';
const NO_FINAL = 'The garage door is open. Please close it before you leave';
const CLAUSES = 'Lights off, heating down; the alarm is set: 门已锁好，窗户、阳台都关了，晚安';
const STREAMED = 'Tokens arrive one by one, from a language model. The answer ends here';
const NEXT = 'Everything is back to normal.';
/** 400 characters and not one punctuation mark: only a length limit can cut it. */
const LONG = (() => {
  const words = 'the quick brown fox jumps over the lazy dog while the garden lights stay on all night long'.split(' ');
  let text = '';
  for (let i = 0; text.length < 400; i++) text += `${words[i % words.length]} `;
  return text.slice(0, 400).replace(/ $/, 'x');
})();

const audioOf = (text: string): Buffer => expectedAudio({ text, voice: VOICE, sampleRate: 24000, service: 'qwen' });

interface Cell {
  mode: Mode;
  qwen: QwenOptions;
}

/**
 * The combinations that matter: in server_commit mode the client never commits, yet every cut,
 * announcement and empty-commit answer is crossed; commit mode is crossed with the empty-commit
 * answers and the responses per commit (the server_commit switches do nothing in commit mode, and
 * responsesPerCommit nothing in server_commit mode, where the client sends no commit).
 */
function cells(): Cell[] {
  const out: Cell[] = [];
  for (const serverCuts of ['sentence', 'clause'] as const)
    for (const maxBufferChars of [0, 60])
      for (const announceServerCommits of [false, true])
        for (const emptyCommit of ['error', 'committed', 'ignore'] as const)
          out.push({ mode: 'server_commit', qwen: { serverCuts, maxBufferChars, announceServerCommits, emptyCommit } });
  for (const responsesPerCommit of ['one', 'per-sentence'] as const)
    for (const emptyCommit of ['error', 'committed', 'ignore'] as const) out.push({ mode: 'commit', qwen: { responsesPerCommit, emptyCommit } });
  return out;
}

/** Responses the variant must have produced for `text` (so a switch that did nothing fails the cell). */
function responsesFor(cell: Cell, text: string): number {
  if (cell.mode === 'commit') return cell.qwen.responsesPerCommit === 'per-sentence' ? allSentences(text, QWEN_TERMINATORS).length : 1;
  const { pieces, rest } = cutBuffer(text, {
    sentenceTerminators: QWEN_TERMINATORS,
    serverCuts: cell.qwen.serverCuts ?? 'sentence',
    maxBufferChars: cell.qwen.maxBufferChars ?? 0,
  });
  return pieces.length + (rest ? 1 : 0);
}

function label(cell: Cell): string {
  return `${cell.mode} ${Object.entries(cell.qwen)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ')}`;
}

function assertFailedClearly(ending: Ending, topic: string, code: string | RegExp, expected: Buffer): void {
  assert.equal(ending.kind, 'error', `"${topic}" was spoken instead of failing`);
  if (ending.kind !== 'error') return;
  if (typeof code === 'string') assert.equal(ending.code, code, ending.message);
  else assert.match(ending.code ?? '', code, ending.message);
  assert.ok(ending.message.length > 0);
  assert.ok(expected.subarray(0, ending.heard.length).equals(ending.heard), `"${topic}": what was heard is the start of the utterance`);
  const marker = ending.chunks.find((c) => c.parts?.count !== undefined);
  if (ending.heard.length > 0) assert.equal(marker?.partial, true, 'audio already heard is closed as a partial sequence');
}

/** server_commit: the text ends with a stretch no cut ends, synthesized at session.finish. */
function endsUncut(cell: Cell, text: string): boolean {
  return (
    cutBuffer(text, { sentenceTerminators: QWEN_TERMINATORS, serverCuts: cell.qwen.serverCuts ?? 'sentence', maxBufferChars: cell.qwen.maxBufferChars ?? 0 }).rest !== ''
  );
}

describe('variants: Qwen-TTS-Realtime under every service variant (issue 16)', function () {
  this.timeout(30_000);
  let rig: QwenRig | undefined;

  runsRigs(() => {
    const current = rig;
    rig = undefined;
    return current;
  });

  describe('the Qwen engine on its own (no Node-RED)', () => {
    let sim: DashScopeSimulator | undefined;
    let manager: ConnectionManager | undefined;
    afterEach(async () => {
      await manager?.close();
      await sim?.close();
      manager = undefined;
      sim = undefined;
    });
    const settings: QwenUtteranceSettings = { model: 'qwen3-tts-flash-realtime', session: { voice: VOICE, mode: 'server_commit', responseFormat: 'pcm', sampleRate: 24000 } };

    /** One utterance through a queue and the engine, on a manager of its own against a fresh simulator. */
    async function speak(
      simOptions: SimulatorOptions,
      text: string,
      o: { engine?: QwenEngineOptions; manager?: Partial<ManagerOptions>; faults?: Fault[] } = {},
    ): Promise<RecordingOutput> {
      sim = await DashScopeSimulator.start(simOptions);
      for (const fault of o.faults ?? []) sim.inject(fault);
      manager = new ConnectionManager({ endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }), credentials: { apiKey: 'sk-test-key' }, keepWarm: false, ...o.manager });
      const out = new RecordingOutput();
      const u = new Utterance(settings, out);
      u.append(text);
      u.end();
      new SpeechQueue(new QwenEngine(manager, o.engine)).submit(u);
      await out.whenComplete();
      return out;
    }

    describe("the engine's clock after session.finish (responseTimeoutMs)", () => {
      const engine: QwenEngineOptions = { responseTimeoutMs: 150, closeAfterErrorMs: 1000 };

      it('a service silent for longer than the timeout after session.finish: ResponseTimeout', async () => {
        const out = await speak({ firstAudioLatencyMs: 400 }, NEXT, { engine });
        assert.equal((out.error as DashScopeError | undefined)?.code, 'ResponseTimeout');
      });

      it('one response streaming audio for much longer than the timeout, with no other event: not a timeout', async () => {
        const started = Date.now();
        const out = await speak(PACE, LONG, { engine }); // 24 s of audio at 20x: over a second of deltas only
        assert.equal(out.error, undefined);
        assert.ok(Date.now() - started > 600, 'it did stream for several timeout periods');
        assert.ok(out.bytes.equals(audioOf(LONG)));
      });
    });

    describe('a rate-limit close (1013, Throttling reason) before any audio', () => {
      it('is tried again after a growing pause, as often as the throttle policy allows, and then spoken', async () => {
        const out = await speak(PACE, NEXT, {
          manager: { throttleBackoff: { baseMs: 200, maxMs: 400, maxAttempts: 5 } },
          faults: [{ kind: 'qwen-throttle-close', times: 2 }],
        });
        assert.equal(out.error, undefined, 'spoken, not failed after one immediate retry');
        assert.ok(out.bytes.equals(audioOf(NEXT)));
        const opened = qwenSessions((sim as DashScopeSimulator).transcripts).map((t) => openedAt(t) as number);
        assert.equal(opened.length, 3, 'two refused sessions, then the one that spoke');
        const pauses = opened.slice(1).map((t, i) => t - (opened[i] as number));
        // backoffDelay with equal jitter: at least half of 200, then of 400 ms.
        assert.ok((pauses[0] as number) >= 100 && (pauses[1] as number) >= 200, `paused before each retry: ${pauses.join(', ')} ms`);
      });
    });
  });

  describe("the simulator's switches do what they say (raw sessions)", () => {
    let sim: DashScopeSimulator | undefined;
    const clients: RawClient[] = [];
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      await sim?.close();
      sim = undefined;
    });
    async function session(qwen: QwenOptions, mode: Mode, extra: SimulatorOptions = {}): Promise<RawClient> {
      sim = await DashScopeSimulator.start({ ...extra, qwen });
      const c = await rawSession(sim, mode);
      clients.push(c);
      return c;
    }
    const append = (c: RawClient, text: string): void => send(c, 'input_text_buffer.append', { text });

    it('server_commit, defaults: cuts at sentence ends only, unannounced; session.finish speaks the rest, then finished and close 1000', async () => {
      const c = await session({}, 'server_commit');
      append(c, 'One, two; three. Fo');
      append(c, 'ur');
      const { events, closeCode } = await finishAndCollect(c);
      assert.deepEqual(responseSizes(events), ['One, two; three.'.length, ' Four'.length]);
      assert.equal(count(events, 'input_text_buffer.committed'), 0);
      assert.equal(events.at(-1)?.type, 'session.finished');
      assert.equal(closeCode, 1000);
    });

    it('server_commit, serverCuts=clause: also at ， , 、 ； ; ： :', async () => {
      const c = await session({ serverCuts: 'clause' }, 'server_commit');
      append(c, 'One, two; three: 四、五，六。 Seven');
      const { events } = await finishAndCollect(c);
      // A CJK ideograph is billed 2 (README §4): ' 四、' is 4, '五，' 3, '六。' 3.
      assert.deepEqual(responseSizes(events), [4, 5, 7, 4, 3, 3, 6]);
    });

    it('server_commit, maxBufferChars=10: a text without cut points is cut every 10 characters, however it is fragmented', async () => {
      const c = await session({ maxBufferChars: 10 }, 'server_commit');
      for (const piece of 'abcdefghijklmnopqrstuvwxy'.match(/.{1,3}/g)!) append(c, piece);
      const { events } = await finishAndCollect(c);
      assert.deepEqual(responseSizes(events), [10, 10, 5]);
    });

    it('server_commit, announceServerCommits: each of its own cuts is announced with input_text_buffer.committed (the flush at finish is not a commit)', async () => {
      const c = await session({ announceServerCommits: true }, 'server_commit');
      append(c, 'One. Two. Three');
      const { events } = await finishAndCollect(c);
      assert.equal(count(events, 'input_text_buffer.committed'), 2);
      assert.equal(count(events, 'response.done'), 3);
      assert.equal(events[0]?.type, 'input_text_buffer.committed');
    });

    for (const emptyCommit of ['error', 'committed', 'ignore'] as const) {
      it(`emptyCommit=${emptyCommit}: how a commit finds an empty buffer, in commit mode and in server_commit after the service cut everything`, async () => {
        for (const mode of ['commit', 'server_commit'] as const) {
          const c = await session({ emptyCommit }, mode);
          if (mode === 'server_commit') append(c, 'Already cut.');
          send(c, 'input_text_buffer.commit');
          send(c, 'input_text_buffer.clear'); // a marker: everything before cleared answers the commit
          await c.next((f) => serverEvent(f).type === 'input_text_buffer.cleared');
          const answers = c.frames.slice(2).map(serverEvent).filter((e) => !e.type.startsWith('response.'));
          const expected = { error: ['error', 'input_text_buffer.cleared'], committed: ['input_text_buffer.committed', 'input_text_buffer.cleared'], ignore: ['input_text_buffer.cleared'] }[emptyCommit];
          assert.deepEqual(answers.map((e) => e.type), expected, mode);
          if (emptyCommit === 'error') assert.match(answers[0]?.error?.message ?? '', /buffer is empty/);
          assert.equal(count(c.frames.slice(2).map(serverEvent), 'response.created'), mode === 'server_commit' ? 1 : 0, 'no response for an empty commit');
          await c.close();
          await sim?.close();
          sim = undefined;
        }
      });
    }

    it('commit, responsesPerCommit=per-sentence: one response per sentence of the committed text', async () => {
      const c = await session({ responsesPerCommit: 'per-sentence' }, 'commit');
      append(c, 'One. Two! Three');
      send(c, 'input_text_buffer.commit');
      const { events } = await finishAndCollect(c);
      assert.deepEqual(responseSizes(events), [4, 5, 6]);
      assert.equal(count(events, 'input_text_buffer.committed'), 1);
    });

    it('maxSessionMs: an error, then a close, even in the middle of a response', async () => {
      const c = await session({ maxSessionMs: 150 }, 'commit', { realTimeFactor: 0.5 });
      append(c, 'A sentence that takes a while to stream at half real time.');
      send(c, 'input_text_buffer.commit');
      const { code } = await c.closed;
      const events = c.frames.slice(2).map(serverEvent);
      assert.equal(code, 1000);
      assert.equal(events.at(-1)?.type, 'error');
      assert.equal(events.at(-1)?.error?.code, 'session_expired');
      assert.ok(count(events, 'response.audio.delta') > 0 && count(events, 'response.done') === 0, 'it struck mid-response');
    });

    it('response-status fault: the next response ends after afterFrames deltas with that status; the one after is whole', async () => {
      const c = await session({ responsesPerCommit: 'per-sentence' }, 'commit');
      sim!.inject({ kind: 'response-status', status: 'failed', afterFrames: 1 });
      append(c, 'The first sentence is long enough for several deltas. The second too, and it is whole.');
      send(c, 'input_text_buffer.commit');
      const { events } = await finishAndCollect(c);
      const done = events.filter((e) => e.type === 'response.done').map((e) => e.response?.status);
      assert.deepEqual(done, ['failed', 'completed']);
      const firstDone = events.findIndex((e) => e.type === 'response.done');
      assert.equal(count(events.slice(0, firstDone), 'response.audio.delta'), 1);
    });
  });

  describe('the matrix: five kinds of text in every cell', () => {
    for (const cell of cells()) {
      it(label(cell), async () => {
        rig = await QwenRig.start({ sim: { ...PACE, qwen: cell.qwen }, node: { mode: cell.mode } });
        const r = rig;
        // The stream runs on its own node, alongside the queue of whole utterances.
        const streamed = r.stream(STREAMED, 'streamed');
        const texts: [string, string][] = [
          ['full-stop', FULL_STOP],
          ['no-final', NO_FINAL],
          ['clauses', CLAUSES],
          ['long', LONG],
          ['next', NEXT],
        ];
        const endings = texts.map(([topic, text]) => r.say(text, topic));
        for (const [i, [topic, text]] of texts.entries()) assertSpoken(await endings[i]!, audioOf(text), text, topic);
        assertSpoken(await streamed, audioOf(STREAMED), STREAMED, 'streamed');
        r.assertEachOnce();

        const sessions = qwenSessions(r.sim.transcripts);
        assertWireDiscipline(sessions, cell.mode);
        for (const t of sessions) assert.deepEqual(serverErrors(t), [], 'the service never had to refuse anything');
        // One session per utterance: no response of one utterance can reach the next.
        const used = [...r.records.values()].map((rec) => rec.events[0]?.sessionId);
        assert.equal(new Set(used).size, used.length, 'every utterance on its own session');
        const finished = sessions.filter((t) => clientTypes(t).includes('session.finish'));
        assert.equal(finished.length, texts.length + 1, 'each utterance ended its session with session.finish');
        // The variant really happened: as many responses as its cuts make, announced or not.
        for (const [topic, text] of [...texts, ['streamed', STREAMED] as [string, string]]) {
          const event = r.records.get(topic)?.events[0];
          assert.equal(event?.responseIds.length, responsesFor(cell, text), `"${topic}": responses`);
          const session = sessions.find((t) => event?.sessionId === sessionIdOf(t));
          const announced = session ? serverTypes(session).filter((type) => type === 'input_text_buffer.committed').length : -1;
          const serverCutsMade = cell.mode === 'server_commit' && cell.qwen.announceServerCommits ? responsesFor(cell, text) - (endsUncut(cell, text) ? 1 : 0) : 0;
          const commits = cell.mode === 'commit' ? clientTypes(session!).filter((type) => type === 'input_text_buffer.commit').length : 0;
          assert.equal(announced, serverCutsMade + commits, `"${topic}": input_text_buffer.committed events`);
        }
      });
    }
  });

  describe('responses that end early (response.done failed / cancelled / incomplete)', () => {
    const CODES = { failed: 'ResponseFailed', cancelled: 'ResponseCancelled', incomplete: 'ResponseIncomplete' } as const;
    for (const mode of ['server_commit', 'commit'] as const) {
      for (const status of ['failed', 'cancelled', 'incomplete'] as const) {
        it(`${mode}, ${status} before any audio: said again on a fresh session, spoken in full; the next plays`, async () => {
          rig = await QwenRig.start({ sim: PACE, node: { mode } });
          rig.sim.inject({ kind: 'response-status', status });
          assertSpoken(await rig.say(FULL_STOP, 'cut'), audioOf(FULL_STOP), FULL_STOP, 'cut');
          assertSpoken(await rig.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
          rig.assertEachOnce();
        });

        it(`${mode}, ${status} after some audio: a clear ${CODES[status]} naming the status; the next plays`, async () => {
          rig = await QwenRig.start({ sim: PACE, node: { mode } });
          rig.sim.inject({ kind: 'response-status', status, afterFrames: 2 });
          const cut = await rig.say(FULL_STOP, 'cut');
          assertFailedClearly(cut, 'cut', CODES[status], audioOf(FULL_STOP));
          assert.ok(cut.kind === 'error' && cut.heard.length > 0, 'some audio was heard before the response ended');
          assert.match(cut.kind === 'error' ? cut.message : '', new RegExp(`"${status}"`));
          assertSpoken(await rig.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
          rig.assertEachOnce();
        });
      }

      it(`${mode}, failed twice before any audio: one retry only, then ResponseFailed; the next plays`, async () => {
        rig = await QwenRig.start({ sim: PACE, node: { mode } });
        rig.sim.inject({ kind: 'response-status', status: 'failed', times: 2 });
        const ONE = 'A single sentence.'; // one response per attempt: the two faults hit the two attempts
        assertFailedClearly(await rig.say(ONE, 'cut'), 'cut', 'ResponseFailed', audioOf(ONE));
        assertSpoken(await rig.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
        rig.assertEachOnce();
      });
    }

    it('server_commit, the second of two responses fails after the first was heard: ResponseIncomplete, not a partial "success"', async () => {
      rig = await QwenRig.start({ sim: PACE });
      const r = rig;
      const [first, second] = ['The first sentence is heard in full.', ' The second one is cut short.'];
      // The fault takes the next response queued: the second sentence's, appended after the first was heard.
      const p = r.ended('two');
      r.node('qs').receive({ payload: first, topic: 'two' });
      await waitFor(() => (r.records.get('two')?.chunks.length ?? 0) > 0, 5000, 'the first response heard');
      r.sim.inject({ kind: 'response-status', status: 'incomplete', afterFrames: 1 });
      r.node('qs').receive({ payload: second, topic: 'two', complete: true });
      const o = await p;
      assertFailedClearly(o, 'two', 'ResponseIncomplete', audioOf(first + second));
      assert.ok(o.kind === 'error' && o.heard.length > audioOf(first).length, 'the whole first response and the start of the second were heard');
      assertSpoken(await r.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
    });
  });

  describe('sessions the service ends (idle and maximum duration)', () => {
    it('the idle limit closes the parked spare between utterances: the next one is spoken anyway', async () => {
      rig = await QwenRig.start({ sim: { ...PACE, qwen: { idleTimeoutMs: 150 } } });
      assertSpoken(await rig.say(FULL_STOP, 'first'), audioOf(FULL_STOP), FULL_STOP, 'first');
      const r = rig;
      await waitFor(() => qwenSessions(r.sim.transcripts).every((t) => t.closeCode !== undefined), 3000, 'the spare closed by the service');
      assertSpoken(await rig.say(NEXT, 'second'), audioOf(NEXT), NEXT, 'second');
      rig.assertEachOnce();
    });

    it('the idle limit strikes in a stream that pauses before any audio: said again on a fresh session, spoken in full', async () => {
      rig = await QwenRig.start({ sim: { ...PACE, qwen: { idleTimeoutMs: 150 } } });
      const text = 'A model that thinks for a while before it goes on. And then finishes.';
      const first = 'A model that thinks for a while';
      const p = rig.ended('paused');
      rig.node('qs').receive({ payload: first, topic: 'paused' });
      await new Promise((resolve) => setTimeout(resolve, 220)); // longer than the idle limit, less than two
      rig.node('qs').receive({ payload: text.slice(first.length), topic: 'paused', complete: true });
      assertSpoken(await p, audioOf(text), text, 'paused');
      const idled = qwenSessions(rig.sim.transcripts).filter((t) => serverErrors(t).some((e) => e.startsWith('idle_timeout')));
      assert.ok(idled.length >= 1, 'the service did end a session for idleness');
      assertSpoken(await rig.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
      rig.assertEachOnce();
    });

    it('an error of a code nobody knows, then the service closes, before any audio: said again on a fresh session, spoken', async () => {
      rig = await QwenRig.start({ sim: PACE });
      rig.sim.inject({ kind: 'qwen-error', code: 'Session.LimitReached', message: 'The session has ended.', on: 'append', fatal: true });
      assertSpoken(await rig.say(FULL_STOP, 'ended'), audioOf(FULL_STOP), FULL_STOP, 'ended');
      assertSpoken(await rig.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
      rig.assertEachOnce();
    });

    it('an error of a code nobody knows on a session that stays open: that error, to catch; the next plays', async () => {
      rig = await QwenRig.start({ sim: PACE });
      rig.sim.inject({ kind: 'qwen-error', code: 'Text.Refused', message: 'This text cannot be spoken.', on: 'append' });
      const o = await rig.say(FULL_STOP, 'refused');
      assertFailedClearly(o, 'refused', 'Text.Refused', audioOf(FULL_STOP));
      assert.match(o.kind === 'error' ? o.message : '', /cannot be spoken/);
      assertSpoken(await rig.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
      rig.assertEachOnce();
    });

    for (const mode of ['server_commit', 'commit'] as const) {
      it(`${mode}: the maximum duration ends the session before the first audio: said again on a fresh session, spoken`, async () => {
        rig = await QwenRig.start({ sim: { firstAudioLatencyMs: 300, realTimeFactor: 0.05, qwen: { maxSessionMs: 800 } }, node: { mode } });
        const r = rig;
        assertSpoken(await r.say(NEXT, 'first'), audioOf(NEXT), NEXT, 'first');
        // The spare opened for the next utterance: wait until it has less than 150 ms to live.
        await waitFor(() => qwenSessions(r.sim.transcripts).length >= 2, 3000, 'the spare');
        const spare = qwenSessions(r.sim.transcripts)[1]!;
        await waitFor(() => Date.now() - (openedAt(spare) ?? Date.now()) >= 650, 3000, 'the spare near its end');
        assertSpoken(await r.say(NEXT, 'late'), audioOf(NEXT), NEXT, 'late');
        assert.ok(serverErrors(spare).some((e) => e.startsWith('session_expired')), 'the spare was expired by the service');
        assert.ok(clientTypes(spare).includes('input_text_buffer.append'), 'and it had been given the text');
        rig.assertEachOnce();
      });

      it(`${mode}: the maximum duration ends the session in the middle of the audio: a clear session_expired; the next plays`, async () => {
        rig = await QwenRig.start({ sim: { ...PACE, qwen: { maxSessionMs: 600 } }, node: { mode } });
        const cut = await rig.say(LONG, 'long');
        assertFailedClearly(cut, 'long', 'session_expired', audioOf(LONG));
        assert.ok(cut.kind === 'error' && cut.heard.length > 0);
        assertSpoken(await rig.say(NEXT, 'next'), audioOf(NEXT), NEXT, 'next');
        rig.assertEachOnce();
      });
    }
  });

  describe('one container header per utterance, however many responses', () => {
    const TWO = 'One sentence here. And another one there.';
    const cases: { name: string; mode: Mode; format: 'wav' | 'mp3'; qwen: QwenOptions }[] = [
      { name: 'server_commit, WAV, cut per sentence', mode: 'server_commit', format: 'wav', qwen: {} },
      { name: 'server_commit, WAV, cut at clauses and by length', mode: 'server_commit', format: 'wav', qwen: { serverCuts: 'clause', maxBufferChars: 12 } },
      { name: 'commit, WAV, one response per sentence', mode: 'commit', format: 'wav', qwen: { responsesPerCommit: 'per-sentence' } },
      { name: 'server_commit, MP3, cut per sentence', mode: 'server_commit', format: 'mp3', qwen: {} },
    ];
    for (const c of cases) {
      it(`${c.name}: exactly one header, at the start of the node's output`, async () => {
        rig = await QwenRig.start({ sim: { ...PACE, qwen: c.qwen }, node: { mode: c.mode, format: c.format } });
        const o = await rig.say(TWO, 'two');
        assert.equal(o.kind, 'spoken', o.kind === 'error' ? `${o.code}: ${o.message}` : '');
        assert.ok(o.event.responseIds.length >= 2, `the service answered in ${o.event.responseIds.length} responses`);
        const header = c.format === 'wav' ? Buffer.from('RIFF') : Buffer.from('ID3');
        assert.equal(o.audio.indexOf(header), 0, 'a header at the start');
        assert.equal(o.audio.indexOf(header, 1), -1, 'and no other');
        // For WAV the bytes are exact whatever the cuts: one header, then every sample.
        if (c.format === 'wav') {
          const expected = expectedAudio({ text: TWO, voice: VOICE, sampleRate: 24000, service: 'qwen', format: 'wav', qwenMode: 'commit' });
          assertSpoken(o, expected, TWO, 'two');
        } else {
          assertSpoken(o, expectedAudio({ text: TWO, voice: VOICE, sampleRate: 24000, service: 'qwen', format: 'mp3', qwenMode: 'commit' }), TWO, 'two');
        }
      });
    }
  });
});
