# The gateway's bench config, shared by run.sh and shutdown.sh: the simulator as the one ProviderDeployment,
# the Claude Code alias rule and the bench VirtualKey.
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
