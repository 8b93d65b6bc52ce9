#!/usr/bin/env bash
# The arrows of DESIGN.md, checked over every #include in the source folders:
#
#   app -> core -> proto,  core -> affinity,  app -> sysctl,  everyone -> base
#
#   base      includes nothing of ours
#   affinity  base only            sysctl  base only
#   proto     base only (never core, affinity, sysctl or app)
#   core      base, proto, affinity (never app or sysctl)
#   app       any of them
#
# Every folder may include its own headers. An include is "ours" when it
# resolves to one of these folders (or tests/, bench/): "proto/stamp.hh" and
# <proto/stamp.hh> are rooted at the repository, "ring.hh" and "../core/x.hh"
# are resolved from the including file first, as the compiler does. System
# and third-party headers are not ours and are not checked.
#
# Usage: arrows_test.sh [repository root]   (default: this script's parent)
# Prints each forbidden include as file:line: folder -> folder: the line,
# and exits 1 if there is any; 0 and one summary line otherwise.
set -euo pipefail

root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
cd "$root"

folders=(base affinity sysctl proto core app)

# The folders each folder may include, besides itself.
allowed_for() {
  case "$1" in
    base) echo "" ;;
    affinity | sysctl | proto) echo "base" ;;
    core) echo "base proto affinity" ;;
    app) echo "base proto affinity sysctl core" ;;
  esac
}

# Sets `to` to the top-level folder an include names, or to nothing when it
# is not ours. $1: including file (relative to root), $2: the included path,
# $3: " or <. (A variable, not echo: no subshell per include.)
target_folder() {
  local file=$1 path=$2 quote=$3 resolved=$2
  to=
  if [[ $quote == '"' ]]; then
    local dir=${file%/*}
    if [[ $path == ./* || $path == ../* || -e "$dir/$path" ]]; then
      resolved=$(realpath -m --relative-to="$root" "$dir/$path")
    fi
  fi
  [[ $resolved == */* ]] || return 0
  case "${resolved%%/*}" in
    base | affinity | sysctl | proto | core | app | tests | bench) to=${resolved%%/*} ;;
  esac
}

violations=0
checked=0
include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^">]+)[">]'

for folder in "${folders[@]}"; do
  [[ -d $folder ]] || continue
  allowed=" $folder $(allowed_for "$folder") "
  while IFS= read -r -d '' file; do
    line_no=0
    while IFS= read -r line || [[ -n $line ]]; do
      line_no=$((line_no + 1))
      [[ $line =~ $include_re ]] || continue
      checked=$((checked + 1))
      target_folder "$file" "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
      [[ -n $to ]] || continue
      if [[ $allowed != *" $to "* ]]; then
        echo "$file:$line_no: $folder -> $to is not an arrow of DESIGN.md: ${line#"${line%%[![:space:]]*}"}"
        violations=$((violations + 1))
      fi
    done <"$file"
  done < <(find "$folder" -type f \( -name '*.hh' -o -name '*.h' -o -name '*.hpp' \
    -o -name '*.cc' -o -name '*.cpp' -o -name '*.inc' \) -print0 | sort -z)
done

if ((checked == 0)); then
  echo "arrows: no #include found under $root: wrong root?" >&2
  exit 1
fi
if ((violations > 0)); then
  echo "arrows: $violations forbidden include(s); allowed: app -> core -> proto, core -> affinity, app -> sysctl, all -> base (DESIGN.md, Layout)"
  exit 1
fi
echo "arrows: $checked includes in ${folders[*]} follow DESIGN.md's arrows"
