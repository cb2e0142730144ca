#!/usr/bin/env bash
# Graceful shutdown under load: N streams held open through the gateway (the load generator's closed
# loop, each a slow stream of the simulator), then SIGTERM. Reports how fast /readyz turned 503, whether
# new connections were refused, how many streams the gateway drained and cut (its "shutdown complete"
# log line) and how long the process took to exit.
#   bash bench/shutdown.sh      SHUTDOWN_STREAMS (default 1000), SHUTDOWN_GRACE (default 30s),
#                               SHUTDOWN_TOKENS_PER_SECOND (default 20: the simulator's pace, so a stream's length)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/config.sh

N=${SHUTDOWN_STREAMS:-1000}; GRACE=${SHUTDOWN_GRACE:-30s}; TPS=${SHUTDOWN_TOKENS_PER_SECOND:-20}
SIM_PORT=${SIM_PORT:-19991}; GW_PORT=${GW_PORT:-19993}; GW_ADMIN=${GW_ADMIN:-19994}
GATEWAY_JAR=sidecar/target/finops-gateway.jar; SIM_JAR=testkit/target/finops-testkit.jar; BENCH_JAR=bench/target/finops-bench.jar
if [ ! -f "$GATEWAY_JAR" ] || [ ! -f "$SIM_JAR" ] || [ ! -f "$BENCH_JAR" ]; then ./mvnw -B -q -DskipTests package; fi
bench_setup
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

java "${JAVA_OPTS[@]}" -jar "$SIM_JAR" --port "$SIM_PORT" --tokens-per-second "$TPS" > "$WORK/simulator.log" 2>&1 & pids+=($!)
bench_config "$WORK/config/bench.yaml" "$SIM_PORT" "$KEY" "shutdownGracePeriod: $GRACE
limits: {maxConnections: $(( N + 100 ))}" "  timeouts: {idle: 120s}"
java "${JAVA_OPTS[@]}" -jar "$GATEWAY_JAR" --config "$WORK/config" --port "$GW_PORT" --admin-port "$GW_ADMIN" > "$WORK/gateway.log" 2>&1 &
GATEWAY=$!; pids+=($GATEWAY)
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$GW_ADMIN/readyz" > /dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$GW_ADMIN/readyz" > /dev/null || { echo "the gateway did not start:" >&2; cat "$WORK/gateway.log" >&2; exit 1; }

java "${JAVA_OPTS[@]}" -jar "$BENCH_JAR" --url "http://127.0.0.1:$GW_PORT/anthropic/v1/messages?beta=true" --name shutdown --key "$KEY" \
  --stream --connections "$N" --seconds 600 --warmup 0 > "$WORK/load.log" 2>&1 & pids+=($!)
open_streams() { ss -Htn state established "( sport = :$GW_PORT )" | wc -l; }
for _ in $(seq 1 300); do [ "$(open_streams)" -ge "$N" ] && break; sleep 0.2; done
held=$(open_streams)
sleep 1      # every connection has its stream under way

start=$(now_ms)
kill -TERM "$GATEWAY"
ready_ms=-1
for _ in $(seq 1 200); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_ADMIN/readyz" || true)
  if [ "$code" = 503 ]; then ready_ms=$(( $(now_ms) - start )); break; fi
  sleep 0.01
done
refused=false
curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$GW_PORT/" || refused=true
while kill -0 "$GATEWAY" 2>/dev/null; do sleep 0.05; done
exit_ms=$(( $(now_ms) - start ))
line=$(grep 'shutdown complete' "$WORK/gateway.log" || true)
field() { sed -n "s/.* $1=\"\\{0,1\\}\\([0-9]*\\).*/\\1/p" <<< "$line"; }
printf '{"streams_held":%s,"grace":"%s","readyz_503_ms":%s,"new_connections_refused":%s,"in_flight_at_start":%s,"drained":%s,"cut":%s,"exit_ms":%s}\n' \
  "$held" "$GRACE" "$ready_ms" "$refused" "$(field in_flight_at_start)" "$(field drained)" "$(field cut)" "$exit_ms"
[ -n "$line" ] || { echo "no 'shutdown complete' line in the gateway's log:" >&2; tail -20 "$WORK/gateway.log" >&2; exit 1; }
