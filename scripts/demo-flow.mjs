// The flow `npm start` writes into a new user directory (scripts/start.mjs), in one place so that
// the tests deploy exactly what a newcomer gets: one tab with a button that speaks, and the
// DashScope service node the examples refer to by its id (importing an example into the demo then
// finds its service node already there: no conflict, and it speaks through the demo's service).
//
// Every property of the package's nodes is the dialog's default unless the demo sets it on
// purpose (test/browser/first-run-defaults.test.ts holds that list).
import { constants, copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The id every example's nodes name as their service node; the demo's service node has it. */
export const CONFIG_ID = 'dashscope-tts-config';
export const DEMO_TAB_ID = 'd5c0ffee00000001';
export const DEMO_TAB_LABEL = 'DashScope TTS';
export const DEMO_CONFIG_NAME = 'DashScope simulator (offline demo)';

/** The demo's nodes a test (or a user reading the flow file) looks for. */
export const DEMO_IDS = Object.freeze({
  hello: 'demo-say-hello',
  tts: 'demo-tts',
  speaker: 'demo-speaker',
  events: 'demo-events',
  finished: 'demo-finished',
  catch: 'demo-catch',
  errors: 'demo-errors',
});

export const HELLO_TEXT = 'Hello! This is DashScope text to speech, speaking through Node-RED.';

/** The recording the voice clone example clones (made by the project: examples/README.md). */
export const SAMPLE_FILE = 'voice-clone-sample.wav';
export const SHIPPED_SAMPLE = join(root, 'examples', SAMPLE_FILE);
/** ttsVoiceSampleFolder of the settings.js npm start writes: this folder inside the user directory. */
export const SAMPLE_FOLDER_NAME = 'voice-samples';

const REGION_LABELS = { beijing: 'Beijing', singapore: 'Singapore' };

function tabInfo(demo) {
  const service = demo
    ? 'The DashScope service node points at the local DashScope simulator that `npm start` runs when ' +
      'DASHSCOPE_API_KEY is not set: it answers like the real service, with made-up audio (a chirp for each character, not words). ' +
      'Set DASHSCOPE_API_KEY and run `npm start` again to hear real speech.'
    : 'The DashScope service node uses the real DashScope service; its API key comes from DASHSCOPE_API_KEY.';
  const serviceZh = demo
    ? 'DashScope service 节点指向 `npm start` 在未设置 DASHSCOPE_API_KEY 时运行的本地 DashScope 模拟器：' +
      '它像真实服务一样应答，但音频是每个字一个短音，而不是语音。设置 DASHSCOPE_API_KEY 后重新运行 `npm start` 即可听到真实语音。'
    : 'DashScope service 节点使用真实的 DashScope 服务，API key 取自环境变量 DASHSCOPE_API_KEY。';
  return [
    'Press the button of **Say hello**: *cosyvoice tts* speaks the text and *pcm speaker* plays it on ' +
      "this machine's default sound card. The debug sidebar shows the utterance (text, voice, duration), " +
      'when it finished playing, and any error.',
    '',
    service,
    '',
    '**More flows:** menu ☰ › **Import** › **Examples** › node-red-contrib-dashscope-tts. Each example ' +
      'uses this DashScope service node.',
    '',
    '---',
    '',
    '点击 **Say hello** 节点左侧的按钮：*cosyvoice tts* 合成这段文字，*pcm speaker* 在本机默认声卡上播放。' +
      '调试侧边栏显示这次合成的摘要（文字、音色、时长）、播放完成的消息以及错误。',
    '',
    serviceZh,
    '',
    '**更多流程：** 菜单 ☰ › **导入** › **示例** › node-red-contrib-dashscope-tts。每个示例都使用这个 DashScope service 节点。',
  ].join('\n');
}

function debug(id, name, wires, extra = {}) {
  return {
    id,
    type: 'debug',
    z: DEMO_TAB_ID,
    name,
    active: true,
    tosidebar: true,
    console: false,
    tostatus: false,
    complete: 'payload',
    targetType: 'msg',
    ...extra,
    ...wires,
  };
}

/**
 * The whole flow file: the tab, its nodes and the service node. `demo`: the offline demo on the
 * simulator (its address comes from DASHSCOPE_SIMULATOR_URL at run time, never written down);
 * otherwise the real service in `region` (beijing or singapore).
 */
export function demoFlow({ demo, region = 'beijing' }) {
  const tab = { id: DEMO_TAB_ID, type: 'tab', label: DEMO_TAB_LABEL, disabled: false, info: tabInfo(demo), env: [] };
  const nodes = [
    {
      id: 'demo-comment',
      type: 'comment',
      z: DEMO_TAB_ID,
      name: 'Press the button of "Say hello" (more flows: Import › Examples)',
      info: 'See this tab’s description (the flow’s info in the sidebar).\n\n请看本页的说明（侧边栏中的流程信息）。',
      x: 300,
      y: 60,
      wires: [],
    },
    {
      id: DEMO_IDS.hello,
      type: 'inject',
      z: DEMO_TAB_ID,
      name: 'Say hello',
      props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
      repeat: '',
      crontab: '',
      once: false,
      onceDelay: 0.1,
      topic: 'hello',
      payload: HELLO_TEXT,
      payloadType: 'str',
      x: 140,
      y: 120,
      wires: [[DEMO_IDS.tts]],
    },
    {
      id: DEMO_IDS.tts,
      type: 'cosyvoice-stream',
      z: DEMO_TAB_ID,
      name: '',
      config: CONFIG_ID,
      model: 'cosyvoice-v3-flash',
      voice: 'longanyang',
      format: 'pcm',
      sampleRate: 24000,
      bitRate: '',
      cache: false,
      fallback: false,
      input: 'utterance',
      volume: '',
      rate: '',
      pitch: '',
      ssml: false,
      wordTimestamps: false,
      seed: '',
      languageHints: '',
      instruction: '',
      x: 400,
      y: 120,
      wires: [[DEMO_IDS.speaker], [DEMO_IDS.events]],
    },
    {
      id: DEMO_IDS.speaker,
      type: 'pcm-speaker',
      z: DEMO_TAB_ID,
      name: '',
      device: '',
      backend: 'auto',
      volume: 100,
      prebufferMs: 200,
      queue: 'queue',
      stallTimeout: 5,
      chime: '',
      leadInMs: 0,
      keepOpen: 2,
      x: 680,
      y: 100,
      wires: [[DEMO_IDS.finished]],
    },
    debug(DEMO_IDS.finished, 'finished playing', { x: 890, y: 100, wires: [] }),
    debug(DEMO_IDS.events, 'utterance', { x: 680, y: 160, wires: [] }),
    {
      id: DEMO_IDS.catch,
      type: 'catch',
      z: DEMO_TAB_ID,
      name: 'errors on this tab',
      scope: null,
      uncaught: false,
      x: 160,
      y: 240,
      wires: [[DEMO_IDS.errors]],
    },
    debug(DEMO_IDS.errors, 'why it failed', { x: 400, y: 240, wires: [] }, { complete: 'error' }),
  ];
  const config = {
    id: CONFIG_ID,
    type: 'tts-config',
    name: demo ? DEMO_CONFIG_NAME : '',
    region: demo ? 'custom' : region,
    endpoint: demo ? '${DASHSCOPE_SIMULATOR_URL}' : '',
    workspace: '',
    cacheSize: 50,
    keepWarm: false,
    limitShare: 100,
  };
  return [tab, ...nodes, config];
}

/** What the live flow's service node is called in messages (its label in the editor). */
export function regionLabel(region) {
  return REGION_LABELS[region];
}

/**
 * The sample folder with the shipped recording in it (copied once: a file of the user's with the
 * same name is never replaced). Returns the folder.
 */
export function prepareSampleFolder(folder) {
  mkdirSync(folder, { recursive: true });
  const target = join(folder, SAMPLE_FILE);
  // COPYFILE_EXCL: never replace a file of the user's, nor write through a link left in its place.
  try {
    copyFileSync(SHIPPED_SAMPLE, target, constants.COPYFILE_EXCL);
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  return folder;
}
