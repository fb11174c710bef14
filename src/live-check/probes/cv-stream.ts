/**
 * A task streamed in two pieces with a 3 s pause: is it spoken whole (docs/protocol.md
 * "Unconfirmed points" cv-stream-pause)? Where sentences are cut is asked elsewhere (cv-words),
 * on a task without a pause: the pause itself may make the service flush at the comma.
 */
import { billedLength } from '../../dashscope/text';
import { streamedWhole } from './classify';
import { finishTask, openCosyVoice, startTask, taskOutcome } from './cosyvoice-run';
import { defineProbe, readable } from './define';
import { billed, cosyVoiceVoice, CV_MODEL, STREAM_PIECES } from './texts';

const PAUSE_MS = 3000;
const WHOLE = STREAM_PIECES.join('');

export const cvStream = defineProbe(
  {
    id: 'cv-stream',
    title: 'CosyVoice: text streamed in two pieces with a pause',
    maxCharacters: billed(STREAM_PIECES),
    points: ['cv-stream-pause'],
  },
  async (scope, report) => {
    scope.ctx.progress(`CosyVoice: "${STREAM_PIECES[0]}" … ${PAUSE_MS / 1000} s … "${STREAM_PIECES[1]}"`);
    const link = await openCosyVoice(scope);
    const record = await startTask(scope, link, { model: CV_MODEL, voice: cosyVoiceVoice(), format: 'pcm', sampleRate: 24000 });
    record.task.sendText(STREAM_PIECES[0]);
    await scope.sleep(PAUSE_MS);
    if (record.task.acceptsText) record.task.sendText(STREAM_PIECES[1]);
    await finishTask(scope, record);
    scope.release(link.connection);
    readable(record.error);
    // Spoken whole: at least every character that is not a space was billed (whether spaces bill is not documented).
    const characters = record.result?.characters ?? 0;
    const expected = billedLength(WHOLE.replace(/\s+/g, ''));
    report(
      'cv-stream-pause',
      streamedWhole({ ended: record.ended, error: record.error, audioBytes: record.audioBytes, characters }, expected),
      `"${WHOLE}" with a ${PAUSE_MS / 1000} s pause after the comma: ${taskOutcome(record)}`,
    );
  },
);
