/**
 * A second run-task on a socket whose task is still running (docs/protocol.md "Unconfirmed points"
 * cv-run-task-busy). The client never does it: the probe sends the client's own run-task frame
 * and reads the answer from the raw events (the client ignores events of a task it did not start).
 */
import { cosyVoiceMessages, type CosyVoiceTaskParams } from '../../dashscope/cosyvoice';
import { newTaskId } from '../../dashscope/ids';
import { runTaskBusy } from './classify';
import { awaitStarted, openCosyVoice, startTask } from './cosyvoice-run';
import { defineProbe, readable } from './define';
import { billed, cosyVoiceVoice, CV_MODEL, HI } from './texts';

const ANSWER_MS = 5000;

export const cvBusy = defineProbe(
  {
    id: 'cv-busy',
    title: 'CosyVoice: a second run-task while a task runs',
    maxCharacters: billed([HI]),
    points: ['cv-run-task-busy'],
  },
  async (scope, report) => {
    scope.ctx.progress(`CosyVoice: "${HI}" left unfinished, then a second run-task on the same socket`);
    const secondId = newTaskId();
    const seen = { secondStarted: false, failed: false, answer: '' };
    const link = await openCosyVoice(scope, {
      watcher: {
        event: (frame) => {
          const header = (frame.header ?? {}) as Record<string, unknown>;
          if (header.event === 'task-started' && header.task_id === secondId) {
            seen.secondStarted = true;
            seen.answer = 'task-started for the second task';
          } else if (header.event === 'task-failed') {
            seen.failed = true;
            seen.answer = `task-failed (${header.task_id === secondId ? 'second' : 'first'} task) ${String(header.error_code)}: ${String(header.error_message)}`;
          }
          scope.poke();
        },
      },
    });
    const params: CosyVoiceTaskParams = { model: CV_MODEL, voice: cosyVoiceVoice(), format: 'pcm', sampleRate: 24000 };
    const first = await startTask(scope, link, params);
    await awaitStarted(scope, first);
    if (first.startedAt === undefined) {
      scope.release(link.connection);
      readable(first.error);
      report('cv-run-task-busy', undefined, `the first task did not start: ${first.error?.message ?? 'no task-started'}`);
      return;
    }
    first.task.sendText(HI);
    await scope.paceStart();
    link.connection.send(cosyVoiceMessages.runTask(secondId, params));
    await scope.until(ANSWER_MS, () => seen.secondStarted || seen.failed || link.closed !== undefined);
    // The socket may carry a task the client does not know of: it is closed, never reused.
    scope.release(link.connection);
    const closed = link.closed && !seen.failed ? `; the service closed the socket (${link.closed.code})` : '';
    report('cv-run-task-busy', runTaskBusy(seen), `${seen.answer || 'no answer within 5 s'}${closed}`);
  },
);
