#!/usr/bin/env bash
# Many concurrent streams: the same paced Claude Code streams sent directly to a stamped upstream,
# through nginx (proxy_buffering off) and through the gateway, one target after another in one run.
# Each text delta carries the upstream's send time; the client reports each event's delay, the
# streams completed and cut, and for the gateway its longest GC pause and its resident memory.
#   bash bench/streams.sh
# Environment: STREAMS (default 1000) concurrent streams; STREAM_EVENTS (20) deltas per stream at
# STREAM_RATE (2) per second; STREAM_BODY small (~2 KB) | claude-code (~88 KB, the default);
# STREAM_SECONDS (30) measured after STREAM_WARMUP (10), the streams started over STREAM_RAMP seconds (0: at once); GATEWAY_HEAP (256m); GATEWAY_JAVA_OPTS
# (extra JVM options for the gateway); GATEWAY_JFR=FILE records a JFR profile of the gateway (written when
# it exits); STREAM_GATEWAY_LOG=FILE keeps its log; STREAM_TARGETS ("direct nginx gateway"); STREAM_CLIENT_THREADS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/config.sh

N=${STREAMS:-1000}; EVENTS=${STREAM_EVENTS:-20}; RATE=${STREAM_RATE:-2}; BODY=${STREAM_BODY:-claude-code}
SECONDS_=${STREAM_SECONDS:-30}; WARMUP=${STREAM_WARMUP:-10}; HEAP=${GATEWAY_HEAP:-256m}
TARGETS=(${STREAM_TARGETS:-direct nginx gateway}); CLIENT_THREADS=${STREAM_CLIENT_THREADS:-1}
UP_PORT=${UP_PORT:-20011}; NGINX_PORT=${NGINX_PORT:-20012}; GW_PORT=${GW_PORT:-20013}; GW_ADMIN=${GW_ADMIN:-20014}
GATEWAY_JAR=sidecar/target/finops-gateway.jar; BENCH_JAR=bench/target/finops-bench.jar
if [ ! -f "$GATEWAY_JAR" ] || [ ! -f "$BENCH_JAR" ]; then ./mvnw -B -q -DskipTests package; fi
command -v nginx >/dev/null || { echo "nginx is needed: apt-get install -y nginx-light" >&2; exit 1; }
[ "$(ulimit -n)" -ge $(( 2 * N + 1000 )) ] || ulimit -n $(( 2 * N + 1000 )) 2>/dev/null \
  || { echo "$N streams need $(( 2 * N + 1000 )) file descriptors a process; ulimit -n is $(ulimit -n)" >&2; exit 1; }
bench_setup

java "${JAVA_OPTS[@]}" -cp "$BENCH_JAR" ai.finops.bench.StampedUpstream --port "$UP_PORT" --events "$EVENTS" --rate "$RATE" \
  > "$WORK/upstream.log" 2>&1 & pids+=($!)

cat > "$WORK/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
worker_rlimit_nofile $(( 2 * N + 1000 ));
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections $(( 2 * N + 1000 )); }
http {
  access_log off;
  client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy;
  fastcgi_temp_path $WORK/fcgi; uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
  upstream stamped { server 127.0.0.1:$UP_PORT; keepalive 1024; keepalive_requests 1000000; }
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=8192;
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    location / {
      proxy_pass http://stamped;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering on;
      proxy_read_timeout 600s;
    }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK" > "$WORK/nginx.log" 2>&1 & pids+=($!)
NGINX_PID=$!

bench_config "$WORK/config/bench.yaml" "$UP_PORT" "$KEY" "limits: {maxConnections: $(( N + 1000 ))}" "  timeouts: {idle: 600s}"
java -Xmx"$HEAP" -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled -Xlog:gc:file="$WORK/gc.log" ${GATEWAY_JAVA_OPTS:-} \
  ${GATEWAY_JFR:+-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=$GATEWAY_JFR} \
  -jar "$GATEWAY_JAR" --config "$WORK/config" --port "$GW_PORT" --admin-port "$GW_ADMIN" > "$WORK/gateway.log" 2>&1 & pids+=($!)
GATEWAY_PID=$!

for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$GW_ADMIN/readyz" > /dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$GW_ADMIN/readyz" > /dev/null || { echo "the gateway did not start:" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
for _ in $(seq 1 50); do grep -q "stamped upstream on" "$WORK/upstream.log" && break; sleep 0.2; done

url() {
  case "$1" in
    direct) echo "http://127.0.0.1:$UP_PORT/v1/messages?beta=true" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT/v1/messages?beta=true" ;;
    gateway) echo "http://127.0.0.1:$GW_PORT/anthropic/v1/messages?beta=true" ;;
  esac
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
nginx_rss_kb() { local t=0; for p in $(pgrep -f "nginx: worker process" || true); do t=$(( t + $(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0) )); done; echo $t; }

echo "# $N streams, $EVENTS events each at $RATE/s, body $BODY, $SECONDS_ s after $WARMUP s; gateway -Xmx$HEAP ${GATEWAY_JAVA_OPTS:-}" >&2
for t in "${TARGETS[@]}"; do
  gc_lines_before=$(wc -l < "$WORK/gc.log")
  line=$(java -Xmx1g -XX:+UseParallelGC -Dio.netty.leakDetection.level=disabled -cp "$BENCH_JAR" ai.finops.bench.StreamsMain \
    --url "$(url "$t")" --name "$t" --key "$KEY" --streams "$N" --threads "$CLIENT_THREADS" --seconds "$SECONDS_" --warmup "$WARMUP" --ramp "${STREAM_RAMP:-0}" --body "$BODY")
  if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
    echo "the gateway exited during the run; its log ends:" >&2; tail -20 "$WORK/gateway.log" >&2
    cp "$WORK/gateway.log" "${STREAM_GATEWAY_LOG:-/dev/null}"; exit 1
  fi
  case "$t" in
    gateway)
      pauses=$(tail -n +"$(( gc_lines_before + 1 ))" "$WORK/gc.log" | grep -o 'Pause[^)]*).* \([0-9.]*\)ms$' | sed 's/.* \([0-9.]*\)ms$/\1/' || true)
      max_pause=$(printf '%s\n' $pauses 0 | sort -g | tail -1)
      over20=$(printf '%s\n' $pauses | awk '$1 > 20' | wc -l)
      count=$(printf '%s\n' $pauses | grep -c . || true)
      line="${line%\}},\"gc_pauses\":$count,\"gc_max_pause_ms\":$max_pause,\"gc_pauses_over_20ms\":$over20,\"rss_mb\":$(( $(rss_kb "$GATEWAY_PID") / 1024 )),\"rss_peak_mb\":$(( $(hwm_kb "$GATEWAY_PID") / 1024 ))}" ;;
    nginx) line="${line%\}},\"rss_mb\":$(( $(nginx_rss_kb) / 1024 ))}" ;;
  esac
  echo "$line"
done
grep -i "error\|exception" "$WORK/gateway.log" | head -5 >&2 || true
cp "$WORK/gateway.log" "${STREAM_GATEWAY_LOG:-/dev/null}"
