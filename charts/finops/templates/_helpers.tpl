{{- define "finops.name" -}}finops{{- end -}}
{{- define "finops.operatorName" -}}{{ .Release.Name }}-operator{{- end -}}
{{- define "finops.webhookName" -}}{{ .Release.Name }}-webhook{{- end -}}

{{- define "finops.labels" -}}
app.kubernetes.io/name: {{ include "finops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* The restricted security context every container runs with (Pod Security Standards: restricted). */}}
{{- define "finops.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "finops.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The base URL via-gateway sidecars relay to: sidecar.gatewayUrl, else this release's gateway Service. */}}
{{- define "finops.sidecarGatewayUrl" -}}
{{- if .Values.sidecar.gatewayUrl -}}
{{ .Values.sidecar.gatewayUrl }}
{{- else if .Values.gateway.enabled -}}
{{ .Values.gateway.tls.enabled | ternary "https" "http" }}://{{ .Release.Name }}-gateway.{{ .Release.Namespace }}.svc:{{ .Values.gateway.port }}
{{- end -}}
{{- end -}}

{{/* The Secret holding the shared gateway's certificate: cert-manager's, else gateway.tls.secretName. */}}
{{- define "finops.gatewayTlsSecret" -}}
{{- if .Values.gateway.tls.certManager.issuerRef.name -}}
{{ .Release.Name }}-gateway-tls
{{- else -}}
{{ .Values.gateway.tls.secretName }}
{{- end -}}
{{- end -}}

{{/*
The operator's volume source of the CA via-gateway sidecars verify an https gateway with (only its key, projected as ca.crt):
sidecar.gatewayCa's Secret or ConfigMap, else, for this release's gateway with TLS, the ca.crt of its TLS Secret (never its
tls.key); empty: none, the sidecars' JVM trust store. Optional: the operator starts before cert-manager has written the Secret,
and until it has, via-gateway pods are left uninjected with that reason.
*/}}
{{- define "finops.sidecarGatewayCaVolume" -}}
{{- $ca := .Values.sidecar.gatewayCa | default dict -}}
{{- $key := $ca.key | default "ca.crt" -}}
{{- $url := include "finops.sidecarGatewayUrl" . -}}
{{- if and $ca.secretName $ca.configMapName -}}
{{- fail "sidecar.gatewayCa: set secretName or configMapName, not both" -}}
{{- end -}}
{{- if and (or $ca.secretName $ca.configMapName) (not (hasPrefix "https://" $url)) -}}
{{- fail "sidecar.gatewayCa is the CA of an https gateway, but the gateway URL the sidecars relay to is not https (gateway.tls.enabled or an https sidecar.gatewayUrl)" -}}
{{- end -}}
{{- if $ca.secretName -}}
secret: {secretName: {{ $ca.secretName }}, optional: true, items: [{key: {{ $key }}, path: ca.crt}]}
{{- else if $ca.configMapName -}}
configMap: {name: {{ $ca.configMapName }}, optional: true, items: [{key: {{ $key }}, path: ca.crt}]}
{{- else if and .Values.gateway.enabled .Values.gateway.tls.enabled (not .Values.sidecar.gatewayUrl) -}}
secret: {secretName: {{ include "finops.gatewayTlsSecret" . }}, optional: true, items: [{key: {{ $key }}, path: ca.crt}]}
{{- end -}}
{{- end -}}

{{/* The shared counter store's URL: redis.url, else this release's Redis Service (redis.enabled), else empty (embedded mode). */}}
{{- define "finops.redisUrl" -}}
{{- if .Values.redis.url -}}
{{ .Values.redis.url }}
{{- else if .Values.redis.enabled -}}
redis://{{ .Release.Name }}-redis.{{ .Release.Namespace }}.svc:6379
{{- end -}}
{{- end -}}

{{/* FINOPS_REDIS_URL and FINOPS_REDIS_PASSWORD (from redis.passwordSecret) for the operator and the shared gateway; nothing in embedded mode. */}}
{{- define "finops.redisEnv" -}}
{{- with include "finops.redisUrl" . }}
- name: FINOPS_REDIS_URL
  value: {{ . | quote }}
{{- with $.Values.redis.passwordSecret }}
{{- if .name }}
- name: FINOPS_REDIS_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .name | quote }}, key: {{ .key | default "password" | quote }}}}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The gateway's OpenTelemetry variables: none while tracing.otlpEndpoint is empty (tracing off). */}}
{{- define "finops.tracingEnv" -}}
{{- with .Values.tracing }}
{{- if .otlpEndpoint }}
- {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ .otlpEndpoint | quote }}}
- {name: OTEL_EXPORTER_OTLP_PROTOCOL, value: {{ .protocol | quote }}}
- {name: OTEL_TRACES_SAMPLER, value: {{ .sampler | quote }}}
- {name: OTEL_TRACES_SAMPLER_ARG, value: {{ .samplerArg | quote }}}
{{- end }}
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end -}}
