/** Polls `check` every few milliseconds until it holds (true) or `ms` have passed (false): for conditions with no event to wait on. */
export async function until(check: () => boolean, ms: number, everyMs = 5): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}
