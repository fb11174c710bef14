/**
 * What alsa-utils' `aplay` prints about this machine's sound, as data: `aplay -l` (the sound cards
 * and their playback devices, as the kernel names them) and `aplay -L` (the pcm names the ALSA
 * configuration offers, with their descriptions). Both are read in the C locale (alsa-devices.ts
 * runs aplay with LC_ALL=C), since `aplay -l` translates its "card"/"device" words.
 */

export interface AlsaPlaybackDevice {
  /** The device number on its card: the DEV of `plughw:CARD=…,DEV=…`. */
  index: number;
  id: string;
  /** What the driver calls the device ("HDMI 0", "USB Audio"); may be empty. */
  name: string;
}

export interface AlsaCard {
  index: number;
  /** The stable name of the card (`CARD=` in a pcm name); the index can change between boots. */
  id: string;
  /** What the driver calls the card: "bcm2835 Headphones", "USB Audio Device". */
  name: string;
  devices: AlsaPlaybackDevice[];
}

export interface AlsaPcm {
  /** What goes into the node's Device field (and `aplay -D`, speaker's `device`). */
  name: string;
  /** The description lines joined with " — "; empty where the configuration gives none. */
  description: string;
}

// card 1: vc4hdmi0 [vc4-hdmi-0], device 0: MAI PCM i2s-hifi-0 [MAI PCM i2s-hifi-0]
const CARD_LINE = /^card (\d+): (\S+) \[(.*)\], device (\d+): (.*?) \[(.*)\]\s*$/;

/** Parses `aplay -l`: one line per playback device, grouped by card in the order aplay lists them. */
export function parseAplayCards(text: string): AlsaCard[] {
  const cards: AlsaCard[] = [];
  for (const line of text.split('\n')) {
    const m = CARD_LINE.exec(line);
    if (!m) continue; // the heading, "Subdevices: …" lines
    const [, cardIndex, id, name, deviceIndex, deviceId, deviceName] = m;
    let card = cards.find((c) => c.id === id);
    if (!card) {
      card = { index: Number(cardIndex), id, name: name.trim(), devices: [] };
      cards.push(card);
    }
    card.devices.push({ index: Number(deviceIndex), id: deviceId.trim(), name: deviceName.trim() });
  }
  return cards;
}

/** Parses `aplay -L`: a pcm name at the start of a line, its description indented below it. */
export function parseAplayList(text: string): AlsaPcm[] {
  const pcms: AlsaPcm[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      const last = pcms[pcms.length - 1];
      if (last) last.description = last.description ? `${last.description} — ${line.trim()}` : line.trim();
    } else {
      pcms.push({ name: line.trim(), description: '' });
    }
  }
  return pcms;
}

