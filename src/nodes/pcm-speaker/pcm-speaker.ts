import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { UtteranceStart } from '../../audio/announcement';
import { AUDIO_MESSAGE_KEYS, readAudioMessage } from '../../audio/audio-message';
import { BackendSelector, type BackendInfo } from '../../audio/backend-selector';
import { ChimeLibrary } from '../../audio/chime';
import { AudioInputError, framesIn } from '../../audio/pcm-format';
import { BATCH_MAX_MS, IDLE_CLOSE_MS, PcmPlayer, type UtteranceReport } from '../../audio/player';
import { deviceLabel } from '../../audio/sinks/sink';
import { limitsOf } from '../shared/limits';
import { Announcements, chimeFolderOf } from './announcement-options';
import { ChunkRouter } from './chunk-routing';
import { registerDevicesEndpoint } from './devices-endpoint';
import { InputError } from '../../speech/input-error';
import { GuardedCalls } from '../shared/guarded-calls';
import { baseMessage, type Message } from '../shared/message-base';
import { resolveSettings, type PcmSpeakerProps, type PcmSpeakerSettings } from './settings';
import { speakerStatus } from './status';
import { statusTexts } from '../shared/status-text';

interface PcmSpeakerDef extends NodeDef, PcmSpeakerProps {}

type DoneFn = (err?: Error) => void;

/** Properties that steer playback and do not belong in the "finished" message. */
const CONTROL_KEYS = [...AUDIO_MESSAGE_KEYS, 'stop', 'complete', 'error', '_error'];

/** settings.js `pcmSpeakerIdleCloseMs`: how long an idle device stays open (default 2000 ms). */
function idleCloseMs(RED: NodeAPI): number {
  const value = (RED.settings as unknown as Record<string, unknown>).pcmSpeakerIdleCloseMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : IDLE_CLOSE_MS;
}

/** The "finished" message: the input message's own properties, and what happened to the utterance. */
function finishedMessage(report: UtteranceReport<Message>): Message {
  return {
    ...report.meta,
    payload: {
      id: report.id,
      durationMs: report.durationMs,
      bytes: report.bytes,
      interrupted: report.interrupted,
      ...(report.partial ? { partial: true } : {}),
      ...(report.cut === 'stalled' ? { stalled: true } : {}),
      ...(report.cut === 'bufferFull' ? { bufferFull: true } : {}),
      ...(report.format ? { format: report.format } : {}),
      ...(report.backend ? { backend: report.backend } : {}),
      ...(report.error ? { error: report.error.message } : {}),
      ...(report.expired ? { expired: true } : {}),
      ...(report.chimeMs !== undefined ? { chimeMs: report.chimeMs } : {}),
    },
  };
}

/** The "started" message (output 2): the first sample of an utterance reached the device. */
function startedMessage(start: UtteranceStart<Message>): Message {
  return {
    ...start.meta,
    payload: {
      event: 'started',
      id: start.id,
      queueWaitMs: start.queueWaitMs,
      firstAudioMs: start.firstAudioMs,
      backend: start.backend,
      ...(start.chime ? { chime: start.chime } : {}),
      leadInMs: start.leadInMs,
    },
  };
}

/** Where users set the buffer limit: named in the error that refuses audio past it. */
const BUFFER_LIMIT_SETTING = 'settings.js ttsLimits.speakerBufferSeconds';

function describePayload(payload: unknown): string {
  if (payload === null) return 'null';
  if (Array.isArray(payload)) return 'an array';
  return typeof payload;
}

export = function registerPcmSpeaker(RED: NodeAPI): void {
  function PcmSpeaker(this: Node, def: PcmSpeakerDef): void {
    RED.nodes.createNode(this, def);
    const node = this;

    let settings: PcmSpeakerSettings;
    try {
      settings = resolveSettings(def);
    } catch (err) {
      const message = (err as Error).message;
      node.error(message);
      node.status({ fill: 'red', shape: 'ring', text: message });
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: DoneFn) => done(new AudioInputError('InvalidSetting', message)));
      return;
    }

    // Player events come from timers and device callbacks: every call into Node-RED from them is guarded.
    const calls = new GuardedCalls(node);
    const selector = new BackendSelector(settings.backend, settings.device, (format) => framesIn(format, BATCH_MAX_MS));
    const router = new ChunkRouter();
    let probing = settings.backend !== 'aplay';
    let problem: string | undefined;
    let lastStatus = '';
    const statusLine = statusTexts(RED, node.type);
    const announcements = new Announcements(new ChimeLibrary(), settings.chime, chimeFolderOf(RED.settings as unknown as Record<string, unknown>), {
      chimeFailed: (err, msg) => {
        // The utterance plays without it; the status says why until one plays to its end.
        problem = err.message;
        calls.error(err, baseMessage(msg, CONTROL_KEYS));
      },
      logDetail: (text) => node.debug(text),
    });
    // A chime that cannot be loaded shows now, not when the first alert needs it.
    const chimeProblem = announcements.check();
    if (chimeProblem) {
      problem = chimeProblem.message;
      node.error(chimeProblem);
    }

    const showStatus = (): void => {
      const info: BackendInfo = selector.info();
      const status: NodeStatus = speakerStatus({
        probing,
        info,
        playingBackend: player.backend,
        pending: player.pendingCount,
        problem,
        noDefaultDevice: info.noDefaultDevice === true && deviceLabel(settings.device) === 'default',
      }, statusLine);
      const key = JSON.stringify(status);
      if (key === lastStatus) return;
      lastStatus = key;
      calls.status(status);
    };

    const player: PcmPlayer<Message> = new PcmPlayer<Message>(
      {
        gainPercent: settings.volume,
        prebufferMs: settings.prebufferMs,
        queueMode: settings.queue,
        idleCloseMs: settings.keepOpenMs ?? idleCloseMs(RED),
        leadInMs: settings.leadInMs,
        stallMs: settings.stallMs,
        maxBufferedMs: limitsOf(RED.settings as unknown as Record<string, unknown>).speakerBufferMs,
        bufferLimitSetting: BUFFER_LIMIT_SETTING,
        openSink: (format) => selector.open(format),
        fallBack: (sink, err) => selector.fallBack(sink, err),
      },
      {
        finished: (report: UtteranceReport<Message>) => {
          if (report.expired) {
            // Intended behaviour (msg.ttl), not a fault: a log line, and the report on output 1.
            calls.log(`utterance ${report.id} expired: not played, ${report.lateMs ?? 0} ms past its ttl`);
          } else if (!report.interrupted && !report.error) {
            problem = undefined;
          }
          // A catch node hears of the failure with the utterance's own properties (topic...).
          if (report.error) calls.error(report.error, report.meta);
          calls.send([finishedMessage(report), null], (err) => {
            const failure = new InputError('ReportNotSent', `utterance ${report.id} was played, but its "finished" message could not be sent: ${err.message}`);
            problem = failure.message;
            calls.error(failure, report.meta);
          });
        },
        started: (start: UtteranceStart<Message>) => {
          calls.send([null, startedMessage(start)], (err) => {
            const failure = new InputError('ReportNotSent', `utterance ${start.id} started, but its "started" message could not be sent: ${err.message}`);
            problem = failure.message;
            calls.error(failure, start.meta);
          });
        },
        warn: (text) => calls.warn(text),
        deviceError: (err, lost) => {
          problem = err.message;
          // With utterances lost, each is reported to catch nodes on its own (above).
          if (lost === 0) calls.warn(err.message);
        },
        changed: showStatus,
      },
    );

    showStatus();
    let closed = false;
    void selector.ready().then((info) => {
      // The probe is shared and may outlive a node that was redeployed meanwhile.
      if (closed) return;
      probing = false;
      if (info.speakerProblem) {
        const also = info.noDefaultDevice && deviceLabel(settings.device) === 'default' ? '; aplay cannot use it either: choose a Device' : '';
        const line = `speaker addon not used (${info.speakerProblem})${info.backend ? `: playing through ${info.backend}` : ''}${also}`;
        if (info.noDefaultDevice || !info.backend) calls.warn(line);
        else calls.log(line);
      }
      // Set only where a sound server matters: backend "sound server", or auto with a server that answered and cannot be used.
      if (info.serverProblem) calls.warn(`sound server not used (${info.serverProblem})${info.backend ? `: playing through ${info.backend}` : ''}`);
      showStatus();
    });

    node.on('input', (raw: NodeMessageInFlow, _send: unknown, done: DoneFn) => {
      const msg = raw as unknown as Message;
      const payload = msg.payload;
      if (msg.stop === true) {
        player.stop();
        if (!Buffer.isBuffer(payload) || payload.length === 0) {
          done();
          return;
        }
      }
      if (!Buffer.isBuffer(payload)) {
        done(new AudioInputError('InvalidInput', `msg.payload must be a Buffer of PCM or WAV audio (got ${describePayload(payload)})`));
        return;
      }
      const audio = readAudioMessage(msg);
      const route = router.route(msg, audio.parts);
      try {
        player.push(route.id, {
          payload,
          audio: audio.audio,
          end: route.end,
          interrupted: audio.interrupted,
          partial: audio.partial,
          priority: msg.priority === true,
          // One closure per chunk, called on an utterance's first chunk only.
          first: () => ({ meta: baseMessage(msg, CONTROL_KEYS), options: announcements.options(msg, audio.audio) }),
        });
      } catch (err) {
        problem = (err as Error).message;
        showStatus();
        done(err as Error);
        return;
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      player.close().then(done, done);
    });
  }

  RED.nodes.registerType('pcm-speaker', PcmSpeaker);
  registerDevicesEndpoint(RED);
};
