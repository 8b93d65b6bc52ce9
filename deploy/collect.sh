#!/usr/bin/env bash
# deploy/collect.sh: the results of a finished horde Job, merged.
#
#   deploy/collect.sh [JOB] [DIR]     each worker pod's JSON from `kubectl logs`
#                                     into DIR/worker-I.json, then
#                                     horde merge DIR/worker-*.json -o DIR/all.json
#   deploy/collect.sh --extract       stdin: one pod's log; stdout: the JSON
#                                     between the markers (exit 1 without them)
#
# horde run --json - prints its result between two lines,
# -----BEGIN HORDE RESULT----- and -----END HORDE RESULT-----, with nothing
# else between them; everything else it prints goes around them.
# Environment: KUBECTL (default kubectl, e.g. "kubectl -n load"), HORDE (the
# horde binary that merges, default horde).
set -euo pipefail

extract() {
  awk '
    $0 == "-----BEGIN HORDE RESULT-----" { inside = 1; began = 1; text = ""; next }
    $0 == "-----END HORDE RESULT-----" { if (inside) { ended = 1; inside = 0; out = text }; next }
    inside { text = text $0 "\n" }
    END {
      if (!began) { print "no -----BEGIN HORDE RESULT----- line" > "/dev/stderr"; exit 1 }
      if (!ended) { print "the result has no -----END HORDE RESULT----- line (cut short?)" > "/dev/stderr"; exit 1 }
      printf "%s", out
    }'
}

if [ "${1:-}" = "--extract" ]; then
  extract
  exit
fi

job=${1:-horde}
dir=${2:-horde-results}
kubectl=${KUBECTL:-kubectl}
horde=${HORDE:-horde}
mkdir -p "$dir"
# Each pod with its completion index (the worker's slice).
pods=$($kubectl get pods -l "job-name=$job" -o \
  jsonpath='{range .items[*]}{.metadata.name} {.metadata.annotations.batch\.kubernetes\.io/job-completion-index} {.status.phase}{"\n"}{end}')
if [ -z "$pods" ]; then
  echo "collect.sh: no pods of job $job (KUBECTL='$kubectl')" >&2
  exit 2
fi
results=()
while read -r pod index phase; do
  [ -n "$pod" ] || continue
  out="$dir/worker-$index.json"
  if $kubectl logs "$pod" -c horde | extract > "$out.part"; then
    mv "$out.part" "$out"
    results+=("$out")
  else
    rm -f "$out.part"
    echo "collect.sh: worker $index ($pod, $phase): no result; horde merge will name the slice missing" >&2
  fi
done <<< "$pods"
if [ "${#results[@]}" -lt 2 ]; then
  echo "collect.sh: ${#results[@]} result(s) in $dir: nothing to merge" >&2
  exit 1
fi
exec $horde merge "${results[@]}" -o "$dir/all.json"
