/** `YYYY-MM-DD HH:MM:SS` as the customization APIs print it (presumably Beijing time, UTC+8). */
export function gmt(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
