/**
 * Custom voices, shared by the customization endpoint (which creates them) and both WebSocket
 * services (which may only use them with their exact target_model). CosyVoice voices pass through
 * DEPLOYING; the switch to their final status happens lazily when the voice is next looked at, so
 * the store needs no timers.
 */
import { hex } from './ids';

export type VoiceService = 'voice-enrollment' | 'qwen-voice-enrollment' | 'qwen-voice-design';
export type VoiceKind = 'clone' | 'design';
export type VoiceStatus = 'DEPLOYING' | 'OK' | 'UNDEPLOYED';

export interface CustomVoice {
  /** voice_id (CosyVoice) or voice (Qwen). */
  id: string;
  service: VoiceService;
  kind: VoiceKind;
  targetModel: string;
  /** prefix (CosyVoice) or preferred_name (Qwen). */
  name: string;
  /** Qwen voices have no status in the API; they are always OK here. */
  status: VoiceStatus;
  createdAt: number;
  modifiedAt: number;
  url?: string;
  voicePrompt?: string;
  previewText?: string;
  language?: string;
}

export interface NewVoice {
  service: VoiceService;
  targetModel: string;
  kind?: VoiceKind;
  name?: string;
  id?: string;
  /** Fixed status; when omitted CosyVoice voices are DEPLOYING for `deployMs`, Qwen voices OK. */
  status?: VoiceStatus;
  deployMs?: number;
  /** Status reached after deploying (UNDEPLOYED simulates a rejected sample). */
  deployOutcome?: 'OK' | 'UNDEPLOYED';
  url?: string;
  voicePrompt?: string;
  previewText?: string;
  language?: string;
}

interface StoredVoice extends CustomVoice {
  settlesAt?: number;
  settlesTo?: 'OK' | 'UNDEPLOYED';
}

function timestamp17(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}`;
}

/** Id formats from voice-customization.md §2.1, §2.2, §3.1, §4.1. */
function makeId(v: NewVoice, kind: VoiceKind, name: string, now: number): string {
  if (v.service === 'voice-enrollment') {
    return kind === 'design' ? `${v.targetModel}-vd-${name}-${hex(32)}` : `${v.targetModel}-${name}-${hex(32)}`;
  }
  const tag = v.service === 'qwen-voice-design' ? 'vd' : 'vc';
  return `qwen-tts-${tag}-${name}-voice-${timestamp17(now)}-${hex(4)}`;
}

export class VoiceStore {
  private readonly voices = new Map<string, StoredVoice>();

  constructor(private readonly defaultDeployMs: () => number = () => 0) {}

  add(v: NewVoice): CustomVoice {
    const now = Date.now();
    const kind = v.kind ?? (v.service === 'qwen-voice-design' ? 'design' : 'clone');
    const name = v.name ?? 'sim';
    const id = v.id ?? makeId(v, kind, name, now);
    const stored: StoredVoice = {
      id,
      service: v.service,
      kind,
      targetModel: v.targetModel,
      name,
      status: v.status ?? (v.service === 'voice-enrollment' ? 'DEPLOYING' : 'OK'),
      createdAt: now,
      modifiedAt: now,
      url: v.url,
      voicePrompt: v.voicePrompt,
      previewText: v.previewText,
      language: v.language,
    };
    if (v.status === undefined && stored.status === 'DEPLOYING') {
      stored.settlesAt = now + (v.deployMs ?? this.defaultDeployMs());
      stored.settlesTo = v.deployOutcome ?? 'OK';
    }
    this.voices.set(id, stored);
    return this.snapshot(stored);
  }

  get(id: string): CustomVoice | undefined {
    const v = this.voices.get(id);
    return v ? this.snapshot(v) : undefined;
  }

  /** In creation order. */
  list(service?: VoiceService): CustomVoice[] {
    return [...this.voices.values()].filter((v) => !service || v.service === service).map((v) => this.snapshot(v));
  }

  count(service: VoiceService): number {
    let n = 0;
    for (const v of this.voices.values()) if (v.service === service) n++;
    return n;
  }

  /** Pins a status (no further automatic change). */
  setStatus(id: string, status: VoiceStatus): void {
    const v = this.mustGet(id);
    v.status = status;
    v.settlesAt = undefined;
    v.settlesTo = undefined;
    v.modifiedAt = Date.now();
  }

  /** update_voice: a new sample sends the voice back through deployment. */
  redeploy(id: string, url: string, deployMs = this.defaultDeployMs(), outcome: 'OK' | 'UNDEPLOYED' = 'OK'): void {
    const v = this.mustGet(id);
    const now = Date.now();
    v.url = url;
    v.status = 'DEPLOYING';
    v.settlesAt = now + deployMs;
    v.settlesTo = outcome;
    v.modifiedAt = now;
  }

  delete(id: string): boolean {
    return this.voices.delete(id);
  }

  clear(): void {
    this.voices.clear();
  }

  private mustGet(id: string): StoredVoice {
    const v = this.voices.get(id);
    if (!v) throw new Error(`no custom voice ${id}`);
    return v;
  }

  private snapshot(v: StoredVoice): CustomVoice {
    if (v.settlesAt !== undefined && Date.now() >= v.settlesAt) {
      v.status = v.settlesTo ?? 'OK';
      v.modifiedAt = v.settlesAt;
      v.settlesAt = undefined;
      v.settlesTo = undefined;
    }
    const { settlesAt: _a, settlesTo: _b, ...pub } = v;
    return { ...pub };
  }
}
