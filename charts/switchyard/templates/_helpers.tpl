{{/* Name used in app.kubernetes.io/name. */}}
{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Base name of every object: the release name, so the proxy Service is http://<release>.<ns>.svc:8080. */}}
{{- define "switchyard.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names. */}}
{{- define "switchyard.proxy.name" -}}{{ include "switchyard.fullname" . }}{{- end -}}
{{- define "switchyard.proxy.discoveryName" -}}{{ include "switchyard.fullname" . }}-proxy-pods{{- end -}}
{{- define "switchyard.proxy.serviceAccountName" -}}{{ include "switchyard.fullname" . }}-proxy{{- end -}}
{{- define "switchyard.operator.name" -}}{{ include "switchyard.fullname" . }}-operator{{- end -}}
{{- define "switchyard.pushToken.secretName" -}}
{{- default (printf "%s-push-token" (include "switchyard.fullname" .)) .Values.pushToken.existingSecret -}}
{{- end -}}
{{- define "switchyard.pushToken.secretKey" -}}
{{- if .Values.pushToken.existingSecret }}{{ .Values.pushToken.existingSecretKey }}{{ else }}token{{ end -}}
{{- end -}}

{{/* Labels common to every object. */}}
{{- define "switchyard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: switchyard
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "proxy"). */}}
{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's objects; call with (dict "ctx" $ "component" "proxy"). */}}
{{- define "switchyard.componentLabels" -}}
{{ include "switchyard.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image reference; call with the component's image values and the root context. */}}
{{- define "switchyard.image" -}}
{{- $tag := default .ctx.Chart.AppVersion .image.tag -}}
{{- if .image.digest -}}
{{ .image.repository }}@{{ .image.digest }}
{{- else -}}
{{ .image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{/* Volume with the push token, mounted read-only at /var/run/switchyard/push-token. */}}
{{- define "switchyard.pushToken.volume" -}}
- name: push-token
  secret:
    secretName: {{ include "switchyard.pushToken.secretName" . }}
    defaultMode: 0440
    items:
      - key: {{ include "switchyard.pushToken.secretKey" . }}
        path: token
{{- end -}}

{{/* OTEL_* environment of one component; call with (dict "ctx" $ "service" "switchyard-proxy"). */}}
{{- define "switchyard.otelEnv" -}}
{{- $o := .ctx.Values.otel -}}
{{- if not $o.enabled }}
- name: OTEL_SDK_DISABLED
  value: "true"
{{- else }}
- name: OTEL_SERVICE_NAME
  value: {{ .service | quote }}
{{- with $o.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $o.protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $o.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $o.samplerArg | quote }}
{{- $attrs := list (printf "service.namespace=%s" .ctx.Release.Namespace) }}
{{- range $k, $v := $o.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $k $v) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
- name: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
  value: {{ $o.captureMessageContent | quote }}
{{- with $o.headersSecret }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $o.headersSecretKey }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Milliseconds of a duration such as 1m30s (the schema has checked its form), as a float. */}}
{{- define "switchyard.durationMs" -}}
{{- $total := 0.0 -}}
{{- $unit := dict "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 -}}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ms|s|m|h)" . -1 -}}
{{- $total = addf $total (mulf (regexFind "^[0-9]+(\\.[0-9]+)?" . | float64) (get $unit (regexFind "(ms|s|m|h)$" .))) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/* Checks of value combinations the schema cannot express (JSON Schema cannot compare two values). */}}
{{- define "switchyard.validate" -}}
{{- $o := .Values.operator -}}
{{- range $key, $value := dict "operator.pushTimeout" $o.pushTimeout "operator.resyncInterval" $o.resyncInterval "operator.leaderElection.leaseDuration" $o.leaderElection.leaseDuration "operator.leaderElection.renewDeadline" $o.leaderElection.renewDeadline "operator.leaderElection.retryPeriod" $o.leaderElection.retryPeriod -}}
{{- $ms := include "switchyard.durationMs" $value | float64 -}}
{{- if or (le $ms 0.0) (gt $ms 2145600000.0) -}}
{{- fail (printf "%s (%s) must be longer than 0 and at most 596h" $key $value) -}}
{{- end -}}
{{- end -}}
{{- $le := $o.leaderElection -}}
{{- if $le.enabled -}}
{{- $lease := include "switchyard.durationMs" $le.leaseDuration | float64 -}}
{{- $renew := include "switchyard.durationMs" $le.renewDeadline | float64 -}}
{{- $retry := include "switchyard.durationMs" $le.retryPeriod | float64 -}}
{{- if le $lease $renew -}}
{{- fail (printf "operator.leaderElection.leaseDuration (%s) must be longer than renewDeadline (%s): a standby would take over while the leader still pushes" $le.leaseDuration $le.renewDeadline) -}}
{{- end -}}
{{- if le $renew $retry -}}
{{- fail (printf "operator.leaderElection.renewDeadline (%s) must be longer than retryPeriod (%s): the leader would give up before its first retry" $le.renewDeadline $le.retryPeriod) -}}
{{- end -}}
{{- end -}}
{{- if and (gt (int .Values.operator.replicas) 1) (not .Values.operator.leaderElection.enabled) -}}
{{- fail "operator.replicas > 1 needs operator.leaderElection.enabled: two operators without a leader would both push" -}}
{{- end -}}
{{- if and .Values.proxy.autoscaling.enabled (lt (int .Values.proxy.autoscaling.maxReplicas) (int .Values.proxy.autoscaling.minReplicas)) -}}
{{- fail "proxy.autoscaling.maxReplicas must be >= proxy.autoscaling.minReplicas" -}}
{{- end -}}
{{- if and .Values.monitoring.serviceMonitor.enabled .Values.monitoring.podMonitor.enabled -}}
{{- fail "enable only one of monitoring.serviceMonitor and monitoring.podMonitor (both would scrape every pod twice)" -}}
{{- end -}}
{{- end -}}

{{/*
Mebibytes in a Kubernetes memory quantity (plain bytes or a Ki/Mi/Gi/Ti/k/M/G/T suffix), rounded down; 0 when it does
not parse.
*/}}
{{- define "switchyard.quantityMiB" -}}
{{- $q := toString . -}}
{{- $factor := 1.0 -}}
{{- range $suffix, $f := dict "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 -}}
{{- if hasSuffix $suffix $q -}}
{{- $q = trimSuffix $suffix $q -}}
{{- $factor = $f -}}
{{- end -}}
{{- end -}}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?$" $q -}}
{{- divf (mulf (float64 $q) $factor) 1048576.0 | floor | int -}}
{{- else -}}
0
{{- end -}}
{{- end -}}

{{/*
The NODE_OPTIONS entry sizing a container's V8 heap (`--max-old-space-size`, MiB): `nodeHeap.maxOldSpaceSizeMb`, or
`nodeHeap.percentOfMemoryLimit` of the container's memory limit when it is 0. Nothing when the container's extraEnv
sets NODE_OPTIONS itself, or when there is neither a size nor a memory limit. Argument: the component's values.
*/}}
{{- define "switchyard.nodeHeapEnv" -}}
{{- $own := false -}}
{{- range .extraEnv -}}
{{- if eq .name "NODE_OPTIONS" -}}
{{- $own = true -}}
{{- end -}}
{{- end -}}
{{- $mb := int .nodeHeap.maxOldSpaceSizeMb -}}
{{- if eq $mb 0 -}}
{{- $limit := include "switchyard.quantityMiB" (dig "limits" "memory" "" (.resources | default dict)) | float64 -}}
{{- $mb = divf (mulf $limit (float64 .nodeHeap.percentOfMemoryLimit)) 100.0 | floor | int -}}
{{- end -}}
{{- if and (not $own) (gt $mb 0) -}}
- name: NODE_OPTIONS
  value: "--max-old-space-size={{ $mb }}"
{{- end -}}
{{- end -}}
