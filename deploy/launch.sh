#!/usr/bin/env bash
# deploy/launch.sh IMAGE [START_IN_SECONDS]: one distributed horde run.
# Applies deploy/k8s with the image and a start time every worker waits for
# (now + START_IN_SECONDS, default 120: time for the pods to be scheduled,
# pull the image and tune), waits for the Job, then collects and merges
# (deploy/collect.sh). Environment: KUBECTL, HORDE as for collect.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: deploy/launch.sh IMAGE [START_IN_SECONDS]}
lead=${2:-120}
kubectl=${KUBECTL:-kubectl}
start=$(( $(date +%s) + lead ))
$kubectl delete job horde --ignore-not-found --wait=true
$kubectl kustomize "$here/k8s" \
  | sed -e "s|start_at: '@0'|start_at: '@$start'|" -e "s|image: horde:dev|image: $image|" \
  | $kubectl apply -f -
echo "launch.sh: workers start at $(date -u -d "@$start" +%FT%TZ)"
# The run's duration is in the scenario; wait generously past it.
$kubectl wait --for=condition=complete --timeout=3600s job/horde \
  || echo "launch.sh: the Job did not complete (a worker failed?): collecting what there is" >&2
exec "$here/collect.sh" horde "${RESULTS:-horde-results}"
