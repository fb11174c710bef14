/**
 * Every point the live check answers: the ids of docs/protocol.md "Unconfirmed points", plus the
 * kit's own questions (does an utterance speak, how is a bad key refused). The package's default
 * is the reading the code and the simulator assume; the readings are the answers the kit can tell
 * apart, named as the report prints them.
 */
import { modelsOf } from '../dashscope/catalog';
import type { Point, PointId } from './probe';

const SPEAKS = ['speaks', 'not available to this account', 'fails'] as const;
/** A model this account may not use (cv-speaks-*, qwen-speaks-*) is the account's business, not the package's (README: "?"). */
const SPEAKS_NEUTRAL = ['not available to this account'] as const;
/** Faster than documented is no trouble for the client (its timeouts are far longer); slower is worth a report. */
const PACING = ['800 ms or less, as documented', 'slower than documented'] as const;
const REFUSAL = ['refused, final', 'refused, retried', 'accepted'] as const;

/** `cv-speaks-<model>`: one point per CosyVoice model of the catalog. */
export function cosyVoiceSpeaksPoint(model: string): PointId {
  return `cv-speaks-${model}`;
}

function point(id: PointId, question: string, readings: readonly string[], packageDefault: string = readings[0] as string, neutral?: readonly string[]): Point {
  return neutral ? { id, question, packageDefault, readings, neutral } : { id, question, packageDefault, readings };
}

export const POINTS: readonly Point[] = [
  // CosyVoice: what speaks, how fast.
  ...modelsOf('cosyvoice').map((m) =>
    point(cosyVoiceSpeaksPoint(m.id), `Does ${m.id} speak a short utterance with a system voice for this account?`, SPEAKS, SPEAKS[0], SPEAKS_NEUTRAL),
  ),
  // The service's own share of the first-audio time: the network's round trip, measured on the same
  // task, taken off (docs/protocol.md "Unconfirmed points" cv-pacing documents the service's 200–800 ms).
  point('cv-pacing', 'CosyVoice first-audio latency in the service (text → first audio on a warm connection, less the measured round trip): within the documented 200–800 ms or better?', PACING),
  point('cv-stream-pause', 'Is a task streamed in two pieces with a 3 s pause between them spoken whole?', ['spoken whole', 'cut short', 'failed']),
  point('cv-sentence-split', 'Does CosyVoice cut sentences at commas too (the documented terminators), or at sentence ends only (a task sent whole, no pause)?', [
    'at commas too',
    'at sentence ends only',
  ]),
  point('cv-container-headers', 'Do later sentences of a wav/mp3 task repeat the container header?', ['per-task', 'per-sentence']),
  point('cv-opus-rates', 'Is opus at 22050 Hz accepted?', ['accepted', 'refused']),
  point('cv-words-in', 'Where do word timestamps come: sentence-end, task-finished, or both?', ['sentence-end', 'task-finished', 'both']),
  point('cv-word-times', 'Are word times relative to the sentence or to the task?', ['sentence', 'task']),
  point('cv-blank-text', 'Is a continue-task of whitespace only accepted?', ['accept', 'fail']),
  point('cv-run-task-busy', 'What does a run-task on a socket with a running task get?', ['reject', 'replace']),
  point('cv-throttle-answer', 'How is a run-task beyond 3 starts a second refused on the WebSocket?', ['task-failed', 'close']),
  // Refusals: how the package takes them.
  point('cv-bad-voice', 'A CosyVoice task with a voice that does not exist: how does the package take the refusal?', REFUSAL),
  point('cv-bad-model', 'A CosyVoice task with a model that does not exist: how does the package take the refusal?', REFUSAL),
  point('qwen-bad-voice', 'A Qwen session with a voice that does not exist (session.update, then "Hi." committed): how does the package take the refusal?', REFUSAL),
  point('qwen-unknown-model', 'How does Qwen answer a session for a model it does not know?', ['session.created, then close', 'error event', 'handshake refused']),
  point('bad-key', 'A CosyVoice connection with a made-up key: how does the package take the refusal?', REFUSAL),
  // Qwen.
  // As cv-speaks: an account that may not use the model is told so, neutrally (probes/classify.ts speaks).
  point('qwen-speaks-server_commit', 'Does qwen3-tts-flash-realtime speak an utterance in server_commit mode for this account?', SPEAKS, SPEAKS[0], SPEAKS_NEUTRAL),
  point('qwen-speaks-commit', 'Does qwen3-tts-flash-realtime speak an utterance in commit mode for this account?', SPEAKS, SPEAKS[0], SPEAKS_NEUTRAL),
  // Qwen documents no latency, and this figure includes the network's round trip: informational only.
  point(
    'qwen-pacing',
    'Qwen first-audio latency on a session opened ahead (commit → first delta, network included): within 200–800 ms (the range CosyVoice documents) or better? (informational: Qwen documents none)',
    PACING,
    PACING[0],
    PACING,
  ),
  point('qwen-server-cuts', 'Where does server_commit cut text into responses: at sentence ends, or at clause marks too?', ['sentence', 'clause']),
  point('qwen-announce-commits', 'Does server_commit announce its own cuts with input_text_buffer.committed?', ['not sent', 'sent']),
  point('qwen-buffer-limit', 'Does server_commit cut a text without punctuation within 150 characters?', ['none within 150 characters', 'a limit']),
  point('qwen-empty-commit', 'How is a commit of an empty buffer answered?', ['error', 'committed', 'ignore']),
  point('qwen-after-error', 'Does a session stay open after an error event (a refused commit)?', ['stays open', 'closes']),
  point('qwen-responses-per-commit', 'How many responses does one commit of two sentences get?', ['one', 'per-sentence']),
  point('qwen-usage', 'Is response.done usage.characters per response or the session total so far?', ['per-response', 'cumulative']),
  point('qwen-container-headers', 'Does every wav response start with its own header, or only the session’s first?', ['per-response', 'per-session']),
  point('qwen-uncommitted-on-finish', 'In commit mode, is text appended but not committed spoken at session.finish?', ['discard', 'synthesize']),
  point('qwen-extra-rates', 'Is a Qwen sample rate of 22050 Hz accepted (and kept: session.updated echoes it)?', ['refused', 'accepted']),
  // Upload.
  point('upload-size', 'What is max_file_size_mb of the temporary upload policy for voice-enrollment?', ['10 MB', 'other']),
  // Long (--long).
  point('cv-idle-close', 'After how long does the service close an idle CosyVoice connection (from the end of its task, or from finish-task)?', ['60 s', '61 s', 'other', 'none within 90 s']),
  point('cv-task-clock', 'When does a task with no new instruction fail?', ['23 s after the last instruction', 'other']),
  point('cv-timeout-code', 'What error_code does that timeout carry?', ['InvalidParameter', 'CLIENT_ERROR', 'other']),
  point('qwen-idle-timeout', 'Does the service end a Qwen session left idle within 120 s?', ['none within 120 s', 'a limit']),
];

export function pointById(id: PointId): Point | undefined {
  return POINTS.find((p) => p.id === id);
}
