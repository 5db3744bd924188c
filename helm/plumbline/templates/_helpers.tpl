{{/* The name of every object: <release>-controller, or fullnameOverride. */}}
{{- define "plumbline.fullname" -}}
{{- default (printf "%s-controller" .Release.Name) .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "plumbline.selectorLabels" -}}
app.kubernetes.io/name: plumbline
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "plumbline.labels" -}}
{{ include "plumbline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "plumbline.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* metadata of a namespaced object of the release */}}
{{- define "plumbline.metadata" -}}
name: {{ include "plumbline.fullname" . }}
namespace: {{ .Release.Namespace }}
labels:
  {{- include "plumbline.labels" . | nindent 2 }}
{{- end -}}

{{/* The Secret holding the webhook secret (key `secret`): an existing one, or the chart's. */}}
{{- define "plumbline.webhookSecretName" -}}
{{- .Values.webhooks.existingSecret | default (printf "%s-webhook" (include "plumbline.fullname" .)) -}}
{{- end }}
