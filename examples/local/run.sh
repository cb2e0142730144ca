#!/usr/bin/env bash
# Quick start: the upstream simulator on :9999 and the gateway on :8080 (operations on :9090), both
# from this folder's resources. No cloud account needed. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
gateway_jar=sidecar/target/finops-gateway.jar
simulator_jar=testkit/target/finops-testkit.jar
if [ ! -f "$gateway_jar" ] || [ ! -f "$simulator_jar" ] ||
   [ -n "$(find crds sidecar testkit -name '*.java' -newer "$gateway_jar" -print -quit)" ]; then
  echo "building the gateway and the simulator..." >&2
  ./mvnw -B -q -DskipTests package -pl sidecar,testkit -am
fi
java -jar "$simulator_jar" --port "${SIMULATOR_PORT:-9999}" &
simulator=$!
trap 'kill $simulator 2>/dev/null || true' EXIT INT TERM
exec_args=(--config examples/local)
java -jar "$gateway_jar" "${exec_args[@]}" "$@"
