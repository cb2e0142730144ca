#!/usr/bin/env bash
# Quick start: the upstream simulator on :9999, the testkit's MCP server on :9998 (mcp.yaml) and the
# gateway on :8080 (operations on :9090), all from this folder's resources. No cloud account needed.
# Ctrl-C (or kill) stops them all.
# Ports: SIMULATOR_PORT, FINOPS_PORT, FINOPS_ADMIN_PORT (or the gateway's --port/--admin-port flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
gateway_jar=sidecar/target/finops-gateway.jar
simulator_jar=testkit/target/finops-testkit.jar

simulator_port=${SIMULATOR_PORT:-9999}
api_port=${FINOPS_PORT:-8080}
admin_port=${FINOPS_ADMIN_PORT:-9090}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --port) api_port=${args[i + 1]:-$api_port} ;;
    --port=*) api_port=${args[i]#--port=} ;;
    --admin-port) admin_port=${args[i + 1]:-$admin_port} ;;
    --admin-port=*) admin_port=${args[i]#--admin-port=} ;;
  esac
done

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for entry in "simulator:$simulator_port:set SIMULATOR_PORT" "MCP server:9998:change the url in examples/local/mcp.yaml" \
             "gateway API:$api_port:set FINOPS_PORT" "gateway operations:$admin_port:set FINOPS_ADMIN_PORT"; do
  IFS=: read -r what port fix <<<"$entry"
  if [ "$port" != 0 ] && in_use "$port"; then
    echo "port $port (the $what) is already in use; stop what holds it or $fix" >&2
    exit 1
  fi
done

if [ ! -f "$gateway_jar" ] || [ ! -f "$simulator_jar" ] ||
   [ -n "$(find crds sidecar testkit -name '*.java' -newer "$gateway_jar" -print -quit)" ]; then
  echo "building the gateway and the simulator..." >&2
  ./mvnw -B -q -DskipTests package -pl sidecar,testkit -am
fi

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; }
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

java -jar "$simulator_jar" --port "$simulator_port" &
pids+=($!)
for _ in $(seq 100); do
  in_use "$simulator_port" && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "the simulator did not start" >&2; exit 1; }
  sleep 0.1
done

java -cp "$simulator_jar" ai.finops.testkit.McpTestServer 9998 &
pids+=($!)

java -jar "$gateway_jar" --config examples/local "$@" &
pids+=($!)
# whichever stops first stops the others
status=0
wait -n "${pids[@]}" || status=$?
exit "$status"
