/**
 * Word timestamps: where the service sends them (docs/protocol.md "Unconfirmed points"
 * cv-words-in), read from the raw events the client merges, and whether their times restart with
 * each sentence (cv-word-times); and, from the same task sent whole, whether the service cuts
 * sentences at the comma (cv-sentence-split).
 */
import { sentenceSplit, wordTimes, wordsIn } from './classify';
import { openCosyVoice, speak, taskOutcome } from './cosyvoice-run';
import { defineProbe, readable } from './define';
import { billed, cosyVoiceVoice, CV_MODEL, WORDS_SENTENCE_ENDS, WORDS_TEXT } from './texts';

function wordCount(sentence: unknown): number {
  const words = (sentence as { words?: unknown } | undefined)?.words;
  return Array.isArray(words) ? words.length : 0;
}

export const cvWords = defineProbe(
  {
    id: 'cv-words',
    title: 'CosyVoice: where word timestamps come, what their times count from, and where sentences are cut',
    maxCharacters: billed([WORDS_TEXT]),
    points: ['cv-words-in', 'cv-word-times', 'cv-sentence-split'],
  },
  async (scope, report) => {
    scope.ctx.progress(`CosyVoice: "${WORDS_TEXT}" with word timestamps`);
    const seen = { sentenceEnd: 0, taskFinished: 0 };
    const link = await openCosyVoice(scope, {
      watcher: {
        event: (frame) => {
          const header = frame.header as Record<string, unknown> | undefined;
          const output = (frame.payload as Record<string, unknown> | undefined)?.output as Record<string, unknown> | undefined;
          if (!header || !output) return;
          if (header.event === 'result-generated' && output.type === 'sentence-end' && wordCount(output.sentence) > 0) seen.sentenceEnd += 1;
          if (header.event === 'task-finished' && wordCount(output.sentence) > 0) seen.taskFinished += 1;
        },
      },
    });
    const record = await speak(scope, link, { model: CV_MODEL, voice: cosyVoiceVoice(), format: 'pcm', sampleRate: 24000, wordTimestamps: true }, [WORDS_TEXT]);
    scope.release(link.connection);
    readable(record.error);
    report(
      'cv-sentence-split',
      record.error ? undefined : sentenceSplit(record.sentencesBegun, WORDS_SENTENCE_ENDS),
      `${record.sentencesBegun} sentence-begin event(s) for "${WORDS_TEXT}" (${WORDS_SENTENCE_ENDS} sentence ends, a comma in the first), sent whole`,
    );
    const where = `word lists in ${seen.sentenceEnd} sentence-end and ${seen.taskFinished} task-finished event(s)`;
    report('cv-words-in', record.error ? undefined : wordsIn(seen.sentenceEnd, seen.taskFinished), `${where}; ${taskOutcome(record)}`);

    const sentences = record.result?.sentences.filter((s) => s.words.length > 0) ?? [];
    const first = sentences[0];
    const second = sentences[1];
    const firstEnd = first?.words[first.words.length - 1]?.endTime;
    const secondBegin = second?.words[0]?.beginTime;
    report(
      'cv-word-times',
      wordTimes(secondBegin, firstEnd),
      second ? `first sentence's last word ends at ${firstEnd ?? '?'} ms; second's first word begins at ${secondBegin ?? '?'} ms` : `${sentences.length} sentence(s) with words: cannot compare`,
    );
  },
);
