import type { AlsaCard, AlsaPcm, AlsaPlaybackDevice } from './alsa-lists';

/** One entry of the editor's device picker (GET pcm-speaker/devices). */
export interface DeviceChoice {
  /** What goes into the node's Device field. */
  name: string;
  /**
   * What a user recognises: "Default output", the sound card's name, or (under "more") the pcm's
   * name with its description shortened to fit the picker ("null — Discard all samples…").
   */
  label: string;
  /** Offered only under the picker's "more" choice: ALSA plugins and raw or per-card variants. */
  more: boolean;
  /** Under "more": the pcm's whole description, where the configuration gives one (the picker's tooltip). */
  description?: string;
}

/**
 * The longest label of a pcm under "more", in characters: what the device picker shows in full at
 * the editor's default tray width (test/browser/dialogs-first-use.test.ts measures it).
 */
export const MORE_LABEL_MAX = 32;
/** Less room than this for a description after the name: the name alone. */
const DESCRIPTION_MIN = 8;

/** `text` cut after a whole word to at most `max` characters, "…" marking the cut ('' when not even a word fits). */
function shortened(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const whole = /[\s,;:(/-]/.test(text.charAt(max - 1)) ? cut : cut.replace(/\S*$/, '');
  const kept = whole.replace(/[\s,;:(/-]+$/, '');
  return kept ? `${kept}…` : '';
}

/**
 * A pcm's entry under "more": its name, which is what a user of ALSA knows it by, and what its
 * description says it does, shortened. A per-card pcm's description starts with the card
 * ("USB Audio Device, USB Audio — 7.1 Surround output to …"), which its name already says
 * (CARD=…): its last part, what kind of pcm it is, is shown.
 */
function moreChoice(pcm: AlsaPcm): DeviceChoice {
  if (!pcm.description) return { name: pcm.name, label: pcm.name, more: true };
  const kind = pcm.description.split(' — ').pop() ?? pcm.description;
  const room = MORE_LABEL_MAX - pcm.name.length - ' — '.length;
  const short = room >= DESCRIPTION_MIN ? shortened(kind, room) : '';
  const label = short ? `${pcm.name} — ${short}` : pcm.name;
  return { name: pcm.name, label, more: true, description: pcm.description };
}

export const DEFAULT_CHOICE: Readonly<DeviceChoice> = { name: 'default', label: 'Default output', more: false };

/**
 * The pcm name to play on one playback device of a card.
 *
 * The card's own default (`sysdefault:CARD=<id>`) for device 0, where the configuration offers it:
 * it is what the card's ALSA configuration says playing on that card means. It converts rate,
 * format and channels (the players send 16-bit mono at the voice's rate, which a raw `hw` device
 * usually refuses), mixes where the card's configuration does (HDA: several speaker nodes on one
 * card), and for a Raspberry Pi's HDMI (vc4-hdmi) it adds the IEC958 framing without which the
 * hardware accepts no PCM at all, so `plughw` would fail there. The card's other devices (HDMI 0,
 * HDMI 1 of a PC's HDA card) have no default of their own: `plughw:CARD=<id>,DEV=<n>` converts
 * too. Both name the card by its id, which stays put when cards are numbered in another order.
 */
export function cardDevicePcm(card: AlsaCard, device: AlsaPlaybackDevice, listed: ReadonlySet<string>): string {
  const sysdefault = `sysdefault:CARD=${card.id}`;
  if (device.index === 0 && listed.has(sysdefault)) return sysdefault;
  return `plughw:CARD=${card.id},DEV=${device.index}`;
}

/** The card's name; with the device's where the card has several ("HDA Intel PCH, HDMI 0"), as `aplay -L` says it. */
function deviceLabel(card: AlsaCard, device: AlsaPlaybackDevice): string {
  const cardName = card.name || card.id;
  const deviceName = device.name || device.id;
  return card.devices.length > 1 && deviceName !== cardName ? `${cardName}, ${deviceName}` : cardName;
}

/**
 * The device picker's entries: "default" first, then each playback device of each sound card by
 * the card's name (and the device's, where a card has several), then every other pcm of the ALSA
 * configuration by its name and description, under "more".
 *
 * `pulse` and `pipewire` go under "more" although users know the names: where a sound server runs,
 * the distribution's configuration already makes "default" go through it, and where none runs
 * they fail, so offering them beside the cards would give a second name for "default" or a name
 * that does not play.
 */
export function deviceChoices(cards: readonly AlsaCard[], pcms: readonly AlsaPcm[]): DeviceChoice[] {
  const listed = new Set(pcms.map((p) => p.name));
  const perCard = cards.flatMap((card) =>
    card.devices.map((device) => ({
      card,
      name: cardDevicePcm(card, device, listed),
      label: deviceLabel(card, device),
    })),
  );
  // Two of the same USB speaker have the same name; their ids (Device, Device_1) tell them apart.
  const seen = new Map<string, number>();
  for (const c of perCard) seen.set(c.label, (seen.get(c.label) ?? 0) + 1);
  const cardChoices: DeviceChoice[] = perCard.map((c) => ({
    name: c.name,
    label: (seen.get(c.label) ?? 0) > 1 ? `${c.label} (${c.card.id})` : c.label,
    more: false,
  }));

  const taken = new Set([DEFAULT_CHOICE.name, ...cardChoices.map((c) => c.name)]);
  const more: DeviceChoice[] = pcms
    .filter((p) => !taken.has(p.name))
    .map(moreChoice);
  return [{ ...DEFAULT_CHOICE }, ...cardChoices, ...more];
}

