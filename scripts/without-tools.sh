#!/usr/bin/env bash
# Runs a command with a PATH on which the named programs are not found, the way a newcomer's
# machine lacks them: scripts/without-tools.sh aplay espeak-ng chromium -- npm test
# Every PATH folder that holds one of them is replaced by a shadow folder of links to all its
# other entries, so everything else (node, npm, git, sh) is found exactly where it was.
set -euo pipefail
hide=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do hide+=("$1"); shift; done
[ $# -gt 0 ] || { echo "usage: $0 PROGRAM... -- COMMAND [ARG...]" >&2; exit 2; }
shift
shadow_root=$(mktemp -d "${TMPDIR:-/tmp}/without-tools.XXXXXX")
trap 'rm -rf "$shadow_root"' EXIT
new_path=""
i=0
IFS=: read -r -a dirs <<< "$PATH"
for dir in "${dirs[@]}"; do
  [ -n "$dir" ] || continue
  holds=0
  for name in "${hide[@]}"; do [ -e "$dir/$name" ] && holds=1; done
  if [ "$holds" = 1 ]; then
    i=$((i + 1))
    shadow="$shadow_root/$i"
    mkdir "$shadow"
    for entry in "$dir"/* "$dir"/.[!.]*; do
      [ -e "$entry" ] || [ -L "$entry" ] || continue
      base=${entry##*/}
      skip=0
      for name in "${hide[@]}"; do [ "$base" = "$name" ] && skip=1; done
      [ "$skip" = 1 ] || ln -s "$entry" "$shadow/$base"
    done
    dir=$shadow
  fi
  new_path=${new_path:+$new_path:}$dir
done
for name in "${hide[@]}"; do
  if PATH=$new_path command -v "$name" >/dev/null 2>&1; then echo "$0: $name is still found" >&2; exit 2; fi
done
PATH=$new_path "$@"
