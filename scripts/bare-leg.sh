#!/usr/bin/env bash
# The suite the way a newcomer with Node alone meets it: a clean copy of this working tree,
# `npm ci --omit=optional` (no speaker addon), and a PATH without aplay, espeak-ng, chromium and
# the PulseAudio server and clients (pulseaudio, pacat, parec, pactl).
# `npm test` must pass (tests needing those are reported pending, never failed) and `npm start`
# must come up in offline demo mode. Run by .ci/run; developers run it before they stop:
#   bash scripts/bare-leg.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
copy=$(mktemp -d "${TMPDIR:-/tmp}/dashscope-bare.XXXXXX")
trap 'rm -rf "$copy"' EXIT
hide=(aplay espeak-ng chromium pulseaudio pacat parec pactl)

echo "== bare leg: a clean copy in $copy, npm ci --omit=optional, no ${hide[*]} on PATH"
# The files git tracks, and new ones it does not ignore, as they are in the working tree.
(cd "$root" && git ls-files -z --cached --others --exclude-standard) | (cd "$root" && tar --null -T - -cf -) | tar -C "$copy" -xf -
cd "$copy"
npm ci --omit=optional --no-audit --no-fund
if [ -e node_modules/speaker ]; then echo "bare leg: the speaker addon was installed after all" >&2; exit 1; fi
# A newcomer has no STRICT_SYSTEM_DEPS: what is missing is pending, not failed.
"$root/scripts/without-tools.sh" "${hide[@]}" -- env -u STRICT_SYSTEM_DEPS npm test
"$root/scripts/without-tools.sh" "${hide[@]}" -- node scripts/smoke-start.mjs
