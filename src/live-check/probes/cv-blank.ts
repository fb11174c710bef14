/**
 * A continue-task of whitespace only (docs/protocol.md "Unconfirmed points" cv-blank-text). The
 * client never sends one, so the probe sends the client's own frame through the connection.
 */
import { cosyVoiceMessages } from '../../dashscope/cosyvoice';
import { blankText } from './classify';
import { awaitStarted, finishTask, openCosyVoice, startTask, taskOutcome } from './cosyvoice-run';
import { defineProbe, readable } from './define';
import { billed, BLANK_PIECES, cosyVoiceVoice, CV_MODEL } from './texts';

export const cvBlank = defineProbe(
  {
    id: 'cv-blank',
    title: 'CosyVoice: a continue-task of whitespace only',
    maxCharacters: billed(BLANK_PIECES),
    points: ['cv-blank-text'],
  },
  async (scope, report) => {
    const [before, blank, after] = BLANK_PIECES;
    scope.ctx.progress(`CosyVoice: "${before}", then a blank continue-task, then "${after}"`);
    const link = await openCosyVoice(scope);
    const record = await startTask(scope, link, { model: CV_MODEL, voice: cosyVoiceVoice(), format: 'pcm', sampleRate: 24000 });
    // continue-task only after task-started (docs/protocol.md "CosyVoice: task lifecycle").
    if (await awaitStarted(scope, record)) {
      record.task.sendText(before);
      link.connection.send(cosyVoiceMessages.continueTask(record.task.id, blank));
      // Give a refusal its moment before more text could hide it.
      await scope.until(1000, () => record.ended);
      if (record.task.acceptsText) record.task.sendText(after);
      await finishTask(scope, record);
    }
    scope.release(link.connection);
    readable(record.error);
    report('cv-blank-text', record.startedAt === undefined ? undefined : blankText(record), `"${before}" + ${JSON.stringify(blank)} + "${after}": ${taskOutcome(record)}`);
  },
);
