{{/* Names and labels shared by every object of the chart. */}}
{{- define "palisade.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "palisade.admission.name" -}}
{{- printf "%s-admission" (include "palisade.fullname" .) -}}
{{- end -}}

{{- define "palisade.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "palisade.admission.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: admission
{{- end -}}

{{- define "palisade.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "palisade.admission.tlsSecret" -}}
{{- if eq .Values.admission.tls.mode "secret" -}}
{{- required "admission.tls.existingSecret is required with admission.tls.mode=secret" .Values.admission.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "palisade.admission.name" .) -}}
{{- end -}}
{{- end -}}

{{- define "palisade.admission.bundleConfigMap" -}}
{{- default (printf "%s-bundle" (include "palisade.admission.name" .)) .Values.admission.bundle.existingConfigMap -}}
{{- end -}}

{{- define "palisade.watch.name" -}}
{{- printf "%s-watch" (include "palisade.fullname" .) -}}
{{- end -}}

{{- define "palisade.watch.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: watch
{{- end -}}
