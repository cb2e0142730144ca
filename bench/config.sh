# What run.sh and shutdown.sh share: the processes' work folder and clean-up, the JVM options, and the
# gateway's bench config (the simulator as the one ProviderDeployment, the Claude Code alias rule and the
# bench VirtualKey).

# KEY, WORK (removed at exit), pids (killed at exit) and JAVA_OPTS
bench_setup() {
  KEY=vk-bench-0123456789abcdef
  WORK=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT INT TERM
  JAVA_OPTS=(-Xms512m -Xmx512m -XX:+UseParallelGC -Dio.netty.leakDetection.level=disabled)
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

#   bench_config FILE SIM_PORT KEY [MORE_SETTINGS_LINES] [MORE_DEPLOYMENT_SPEC_LINES]
bench_config() {
  mkdir -p "$(dirname "$1")"
  cat > "$1" <<YAML
apiVersion: finops.ai/v1alpha1
kind: GatewaySettings
metadata: {name: gateway}
bindAddress: 127.0.0.1
${4:-}
---
apiVersion: finops.ai/v1alpha1
kind: ProviderDeployment
metadata: {name: sim}
spec:
  provider: anthropic
  endpoint: http://127.0.0.1:$2
  credentials: {secretRef: {name: sim-key}}
${5:-}
---
apiVersion: v1
kind: Secret
metadata: {name: sim-key}
stringData: {apiKey: bench-provider-key}
---
apiVersion: finops.ai/v1alpha1
kind: RoutingRule
metadata: {name: claude-code-sonnet}
spec:
  when: 'model == "sonnet-model" && headers["user-agent"].startsWith("claude-cli")'
  targets: [{model: sim/claude-sonnet-4-6}]
---
apiVersion: finops.ai/v1alpha1
kind: VirtualKey
metadata: {name: bench}
spec: {secretRef: {name: vk-bench}}
---
apiVersion: v1
kind: Secret
metadata: {name: vk-bench}
stringData: {token: $3}
YAML
}
