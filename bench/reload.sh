#!/usr/bin/env bash
# Hot reload under load: non-streaming requests at a fixed rate plus many open streams through one
# gateway while its config folder changes again and again (the Claude Code rule's target, and a
# rule file written and removed). Prints one JSON line: requests and failures, streams completed and
# cut, and the reloads the gateway accepted and rejected (its own counter).
#   bash bench/reload.sh
# Environment: RELOAD_RATE (2000 requests/s), RELOAD_STREAMS (1000), RELOAD_CHANGES (10), one change
# every RELOAD_EVERY seconds (2); streams are 20 events at 2/s; RELOAD_BODY claude-code | small.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/config.sh

RATE=${RELOAD_RATE:-2000}; N=${RELOAD_STREAMS:-1000}; CHANGES=${RELOAD_CHANGES:-10}; EVERY=${RELOAD_EVERY:-2}
BODY=${RELOAD_BODY:-claude-code}
UP_PORT=${UP_PORT:-20021}; GW_PORT=${GW_PORT:-20023}; GW_ADMIN=${GW_ADMIN:-20024}
GATEWAY_JAR=sidecar/target/finops-gateway.jar; BENCH_JAR=bench/target/finops-bench.jar
if [ ! -f "$GATEWAY_JAR" ] || [ ! -f "$BENCH_JAR" ]; then ./mvnw -B -q -DskipTests package; fi
bench_setup

java "${JAVA_OPTS[@]}" -cp "$BENCH_JAR" ai.finops.bench.StampedUpstream --port "$UP_PORT" --events 20 --rate 2 > "$WORK/upstream.log" 2>&1 & pids+=($!)
bench_config "$WORK/config/bench.yaml" "$UP_PORT" "$KEY" "limits: {maxConnections: $(( N + 1000 ))}" "  timeouts: {idle: 600s}"
java "${JAVA_OPTS[@]}" -jar "$GATEWAY_JAR" --config "$WORK/config" --port "$GW_PORT" --admin-port "$GW_ADMIN" > "$WORK/gateway.log" 2>&1 & pids+=($!)
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$GW_ADMIN/readyz" > /dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$GW_ADMIN/readyz" > /dev/null || { echo "the gateway did not start:" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
reloads() { curl -sf "http://127.0.0.1:$GW_ADMIN/metrics" | awk -v o="$1" '$1 ~ "^finops_gateway_config_reloads_total" && $1 ~ "outcome=\""o"\"" {print int($2)}'; }
accepted_before=$(reloads accepted); rejected_before=$(reloads rejected)

RUN=$(( 10 + CHANGES * EVERY + 10 ))   # load before the first change and after the last
URL="http://127.0.0.1:$GW_PORT/anthropic/v1/messages?beta=true"
java -Xmx1g -XX:+UseParallelGC -Dio.netty.leakDetection.level=disabled -cp "$BENCH_JAR" ai.finops.bench.StreamsMain \
  --url "$URL" --name reload-streams --key "$KEY" --streams "$N" --seconds "$RUN" --warmup 0 --body "$BODY" > "$WORK/streams.json" &
STREAMS_PID=$!
java -Xmx512m -XX:+UseParallelGC -Dio.netty.leakDetection.level=disabled -jar "$BENCH_JAR" \
  --url "$URL" --name reload-requests --key "$KEY" --rate "$RATE" --seconds "$RUN" --warmup 0 > "$WORK/requests.json" &
REQUESTS_PID=$!

sleep 10
for i in $(seq 1 "$CHANGES"); do
  # the rule's target flips between two models; a second rule file comes and goes
  if (( i % 2 )); then model=claude-sonnet-4-5; else model=claude-sonnet-4-6; fi
  sed "s#targets: \[{model: sim/claude-sonnet-4-[56]}\]#targets: [{model: sim/$model}]#" "$WORK/config/bench.yaml" > "$WORK/bench.yaml.next"
  mv "$WORK/bench.yaml.next" "$WORK/config/bench.yaml"
  if (( i % 2 )); then
    printf 'apiVersion: finops.ai/v1alpha1\nkind: RoutingRule\nmetadata: {name: reload-%s}\nspec:\n  when: %s\n  targets: [{model: sim/claude-haiku-4-5}]\n' \
      "$i" "'model == \"haiku-$i\"'" > "$WORK/extra.yaml.next"
    mv "$WORK/extra.yaml.next" "$WORK/config/extra.yaml"
  else
    rm -f "$WORK/config/extra.yaml"
  fi
  sleep "$EVERY"
done
wait "$REQUESTS_PID" "$STREAMS_PID"
accepted=$(( $(reloads accepted) - accepted_before )); rejected=$(( $(reloads rejected) - rejected_before ))
requests=$(cat "$WORK/requests.json"); streams=$(cat "$WORK/streams.json")
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<< "$1"; }
printf '{"changes":%s,"reloads_accepted":%s,"reloads_rejected":%s,"requests":%s,"requests_failed":%s,"request_p99_ms":%s,"streams_started":%s,"streams_completed":%s,"streams_cut":%s,"stream_errors":%s}\n' \
  "$CHANGES" "$accepted" "$rejected" "$(field "$requests" requests)" "$(field "$requests" errors)" "$(field "$requests" p99_ms)" \
  "$(field "$streams" started)" "$(field "$streams" completed)" "$(field "$streams" cut)" "$(field "$streams" errors)"
