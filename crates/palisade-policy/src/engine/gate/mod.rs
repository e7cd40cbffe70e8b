//! Palisade's own gates over scan results: plain YAML documents (`apiVersion: palisade.dev/v1`,
//! `kind: Gate`) that say which findings of a scan report fail it.
//!
//! ```yaml
//! apiVersion: palisade.dev/v1
//! kind: Gate
//! metadata: {name: no-fixable-critical}
//! spec:
//!   action: deny                      # deny (default) | warn | audit
//!   scope: {images: ["registry.acme.io/**"], paths: ["services/**"], namespaces: [prod-*]}
//!   vulnerabilities: {severities: [CRITICAL, HIGH], fixable: true, minAge: 30d, ecosystems: [npm]}
//!   # or exploited ones: {kev: true} (CISA KEV), {epss: {min: 0.1, minPercentile: 0.95}} (FIRST EPSS)
//!   secrets: {severities: [CRITICAL]}
//!   misconfigurations: {groups: ["pss:restricted"], ids: ["PAL-DF-*"]}
//!   image: {registries: [registry.acme.io], runAsRoot: false, maxAge: 90d}
//!   signatures: {keys: [keys/ci.pub], attestations: [{type: vuln, maxAge: 7d}]}   # see signatures.rs
//!   waivers:
//!     - {id: CVE-2024-0001, owner: team-a, reason: not reachable, expires: 2027-01-31}
//! ```
//!
//! Within a section every listed condition must hold (an empty list places no condition); each finding that
//! meets them is one decision. Findings already suppressed by an ignore file or VEX never count. A finding
//! matched by a live waiver gives an `audit` decision naming the waiver instead; an expired waiver no longer
//! waives and is itself a `warn` decision, so the expiry is seen. Gates evaluate scan reports
//! ([`SubjectKind::ScanReport`]); `palisade scan --policy` hands them the report it just made.

mod duration;
mod objects;
pub mod predicate;
mod signatures;
mod spec;
mod view;

use crate::bundle::{Bundle, BundleFile, Document};
use crate::engine::{
    Action, Decision, Language, LoadError, ObjectRef, Outcome, Policy, SourceLocation, Subject, SubjectKind,
};
use objects::ObjectChecker;
use palisade_core::json::JsonPointer;
use serde_json::Value;
use spec::{GateSpec, RawGate, Scope, Waiver};
use std::sync::Arc;
use view::{ReportView, Waivable};

/// One compiled gate.
#[derive(Debug)]
pub struct Gate {
    name: String,
    source: SourceLocation,
    spec: GateSpec,
    /// Palisade's checks for Kubernetes objects, when the gate judges objects (`misconfigurations`,
    /// `podSecurity`).
    checker: Option<ObjectChecker>,
}

/// Load every `Gate` document of the bundle, then resolve the gates that attestation entries name
/// (`signatures.attestations[].gate`): a gate naming one that is not in the bundle, or one with its own
/// `signatures` section, does not load.
pub fn load(bundle: &Bundle, policies: &mut Vec<Box<dyn Policy>>, errors: &mut Vec<LoadError>) {
    let mut gates = Vec::new();
    for (file, doc) in bundle.documents(crate::bundle::Role::Policy(Language::Gate)) {
        match compile(file, doc) {
            Ok(gate) => gates.push(Arc::new(gate)),
            Err(e) => errors.push(e),
        }
    }
    let resolved: Vec<Result<(), String>> = gates.iter().map(|g| resolve(g, &gates)).collect();
    for (gate, r) in gates.into_iter().zip(resolved) {
        match r {
            Ok(()) => policies.push(Box::new(gate)),
            Err(message) => errors.push(LoadError {
                location: gate.source.clone(),
                message: format!("Gate {:?}: {message}", gate.name),
                unsupported: false,
            }),
        }
    }
}

/// Point `gate`'s attestation entries at the gates they name.
fn resolve(gate: &Gate, all: &[Arc<Gate>]) -> Result<(), String> {
    let Some(rule) = &gate.spec.signatures else { return Ok(()) };
    for (name, slot) in rule.gate_references() {
        let Some(target) = all.iter().find(|g| g.name == name) else {
            return Err(format!(
                "spec.signatures.attestations: gate {name:?} is not in the bundle (or did not load)"
            ));
        };
        if target.spec.signatures.is_some() {
            return Err(format!(
                "spec.signatures.attestations: gate {name:?} has a signatures section itself; a gate judging a predicate cannot require signatures"
            ));
        }
        let _ = slot.set(target.clone());
    }
    Ok(())
}

/// Compile one `Gate` document; errors name the file, the document's line and the field.
pub fn compile(file: &BundleFile, doc: &Document) -> Result<Gate, LoadError> {
    let err = |message: String| LoadError { location: file.at(doc.line, 0), message, unsupported: false };
    let raw: RawGate = serde_path_to_error::deserialize(&doc.value).map_err(|e| {
        let segments: Vec<String> = e.path().to_string().split('.').map(str::to_owned).collect();
        let (line, column) = doc.locate(&segments);
        LoadError {
            location: file.at(line, column),
            message: format!("Gate {:?}: {}: {}", doc.name(), e.path(), e.inner()),
            unsupported: false,
        }
    })?;
    if raw.api_version != "palisade.dev/v1" {
        return Err(err(format!(
            "Gate {:?}: apiVersion {} is not palisade.dev/v1",
            raw.metadata.name, raw.api_version
        )));
    }
    debug_assert_eq!(raw.kind, "Gate");
    let base = file.path.parent().unwrap_or(std::path::Path::new("."));
    let spec = GateSpec::compile(raw.spec, base).map_err(|m| {
        // Messages start with the field they are about (`spec.waivers[0].reason: ...`): point at it.
        let field = m.split(':').next().unwrap_or("");
        let segments: Vec<&str> = field.split(['.', '[', ']']).filter(|s| !s.is_empty()).collect();
        let (line, column) = doc.locate(&segments);
        LoadError {
            location: file.at(line, column),
            message: format!("Gate {:?}: {m}", raw.metadata.name),
            unsupported: false,
        }
    })?;
    let checker = if spec.misconfigs.is_some() || spec.pod_security.is_some() {
        // Only the checks the gate can use: its groups and Pod Security; every check when it names ids
        // (filtered afterwards) or nothing.
        let mut select: Vec<String> = Vec::new();
        if let Some(m) = spec.misconfigs.as_ref().filter(|m| m.ids.is_none() && !m.groups.is_empty()) {
            select.extend(m.groups.iter().cloned());
        }
        let all = spec.misconfigs.as_ref().is_some_and(|m| m.ids.is_some() || m.groups.is_empty());
        if all {
            select.clear();
        } else if spec.pod_security.is_some() {
            select.push("pss:restricted".into());
        }
        Some(
            ObjectChecker::new(select)
                .map_err(|m| err(format!("Gate {:?}: checks: {m}", raw.metadata.name)))?,
        )
    } else {
        None
    };
    Ok(Gate { name: raw.metadata.name, source: file.at(doc.line, 0), spec, checker })
}

impl Policy for Gate {
    fn language(&self) -> Language {
        Language::Gate
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn selects(&self, subject: &Subject) -> bool {
        if subject.kind == SubjectKind::KubernetesObject {
            // Image scopes are about scanned images: such a gate does not judge objects.
            return self.checker.is_some()
                && self.spec.scope.images.is_none()
                && scope_selects_namespace(&self.spec.scope, namespace_of(subject));
        }
        if subject.kind != SubjectKind::ScanReport {
            return false;
        }
        if self.spec.scope.images.is_none() {
            // Only an image scope needs the report itself; `evaluate` reads it anyway.
            return scope_selects_namespace(&self.spec.scope, namespace_of(subject));
        }
        match ReportView::read(&subject.value) {
            Ok(report) => scope_selects(&self.spec.scope, &report, namespace_of(subject)),
            // A report that does not read is an error decision, not a silent pass.
            Err(_) => true,
        }
    }

    fn evaluate(&self, subject: &Subject, budget: &crate::engine::Budget) -> Vec<Decision> {
        match (&self.checker, subject.kind) {
            (Some(checker), SubjectKind::KubernetesObject) => self.judge_object(checker, subject),
            _ => self.judge(subject, &subject.value, false, budget.deadline),
        }
    }
}

/// A gate other gates may name is shared between them and the bundle's policy list.
impl Policy for Arc<Gate> {
    fn language(&self) -> Language {
        Language::Gate
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn selects(&self, subject: &Subject) -> bool {
        self.as_ref().selects(subject)
    }

    fn evaluate(&self, subject: &Subject, budget: &crate::engine::Budget) -> Vec<Decision> {
        self.as_ref().evaluate(subject, budget)
    }
}

impl Gate {
    /// A Kubernetes object: Palisade's checks on it, judged by `misconfigurations` as findings of a report
    /// would be, and by `podSecurity` as Pod Security Admission would.
    fn judge_object(&self, checker: &ObjectChecker, subject: &Subject) -> Vec<Decision> {
        let findings = checker.check(&subject.value);
        let mut out = Vec::new();
        if self.spec.misconfigs.is_some() {
            out = self.judge(subject, &objects::object_report(subject, &findings), true, None);
        }
        if let Some(rule) = &self.spec.pod_security {
            let object = subject.reference();
            for (group, action, mode) in objects::pod_security_modes(rule, self.spec.action, subject) {
                let level = group.trim_start_matches("pss:");
                for f in findings.iter().filter(|f| in_group(&f.check_id, group)) {
                    let container =
                        f.container.as_ref().map(|c| format!(" (container {c})")).unwrap_or_default();
                    let how =
                        if mode == "gate" { String::new() } else { format!(", namespace label {mode}") };
                    let pods = if mode == "enforce" && action == Action::Warn {
                        ": the Pods it creates will be refused"
                    } else {
                        ""
                    };
                    out.push(self.decision(
                        object.clone(),
                        &format!("pod-security-{level}"),
                        format!(
                            "Pod Security {level}{how}{pods}: {} {}{container}: {}",
                            f.check_id, f.title, f.message
                        ),
                        action,
                        Outcome::Violation,
                    ));
                }
            }
            if let Some(prefix) = &self.spec.message {
                for d in out.iter_mut().filter(|d| d.rule.starts_with("pod-security-")) {
                    d.message = format!("{prefix}: {}", d.message);
                }
            }
        }
        out
    }

    /// A scan report (or the report of an object's checks, `object_only`: its misconfigurations only).
    /// `deadline`: where registry calls of `signatures` must stop (the evaluation budget's).
    fn judge(
        &self,
        subject: &Subject,
        value: &Value,
        object_only: bool,
        deadline: Option<std::time::Instant>,
    ) -> Vec<Decision> {
        let object = subject.reference();
        let report = match ReportView::read(value) {
            Ok(r) => r,
            Err(e) => {
                return vec![self.decision(
                    object,
                    "report",
                    format!("not a Palisade scan report: {e}"),
                    Action::Deny,
                    Outcome::Error,
                )];
            }
        };
        let object = report.object_ref(object);
        let namespace = namespace_of(subject);
        let now = jiff::Timestamp::now();
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let mut out = Vec::new();
        let mut used_expired = vec![false; self.spec.waivers.len()];
        let mut emit = |out: &mut Vec<Decision>, finding: &dyn Waivable, rule: &str, message: String| {
            if !finding.path().is_none_or(|p| self.spec.scope.paths.as_ref().is_none_or(|g| g.is_match(p))) {
                return;
            }
            match self.waiver_for(finding, &report, namespace, today) {
                Some((w, false)) => out.push(self.decision(
                    object.clone(),
                    "waived",
                    format!(
                        "{message}: waived by waiver {} ({}{}{})",
                        w.index,
                        owner(w),
                        w.reason,
                        expiry(w)
                    ),
                    Action::Audit,
                    Outcome::Violation,
                )),
                Some((w, true)) => {
                    used_expired[w.index] = true;
                    out.push(self.decision(
                        object.clone(),
                        rule,
                        message,
                        self.spec.action,
                        Outcome::Violation,
                    ));
                }
                None => out.push(self.decision(
                    object.clone(),
                    rule,
                    message,
                    self.spec.action,
                    Outcome::Violation,
                )),
            }
        };
        // A digest-only report (an image at admission that has no scan report) is judged on its signatures
        // alone: it carries no findings, and its absence of findings proves nothing.
        let digest_only = report.digest_only;
        if let Some(rule) = self.spec.vulns.as_ref().filter(|_| !digest_only) {
            for v in report.vulnerabilities.iter().filter(|v| v.suppressed.is_none()) {
                if let Some(message) = view::vuln_violation(rule, v, now) {
                    emit(&mut out, v, "vulnerabilities", message);
                }
            }
        }
        if let Some(rule) = self.spec.secrets.as_ref().filter(|_| !digest_only) {
            for s in report.secrets.iter().filter(|s| s.suppressed.is_none()) {
                if let Some(message) = view::secret_violation(rule, s) {
                    emit(&mut out, s, "secrets", message);
                }
            }
        }
        if let Some(rule) = self.spec.misconfigs.as_ref().filter(|_| !digest_only) {
            for m in report.misconfigurations.iter().filter(|m| m.suppressed.is_none()) {
                if let Some(message) = view::misconfig_violation(rule, m) {
                    emit(&mut out, m, "misconfigurations", message);
                }
            }
        }
        if let Some(rule) = self.spec.image.as_ref().filter(|_| !object_only && !digest_only) {
            for (name, message) in view::image_violations(rule, &report, now) {
                emit(&mut out, &view::ImageFact(name), name, message);
            }
        }
        if let Some(rule) = self.spec.signatures.as_ref().filter(|_| !object_only) {
            for (name, message) in rule.violations(&report, deadline) {
                emit(&mut out, &view::ImageFact(name), name, message);
            }
        }
        if let Some(policy) = self.spec.licenses.as_ref().filter(|_| !object_only && !digest_only) {
            if !report.scanners.contains(&"license") && report.licenses.is_empty() {
                // Fail closed in words: the gate cannot judge licences nobody looked for.
                out.push(
                    self.decision(
                        object.clone(),
                        "licenses-not-scanned",
                        "the licence scanner did not run (add --scanners license): licences were not checked"
                            .into(),
                        Action::Warn,
                        Outcome::Violation,
                    ),
                );
            }
            for l in report.licenses.iter().filter(|l| l.suppressed.is_none()) {
                if let Some(message) = view::license_violation(policy, l) {
                    emit(&mut out, l, "licenses", message);
                }
            }
        }
        for (w, used) in self.spec.waivers.iter().zip(used_expired) {
            if used {
                out.push(self.decision(
                    object.clone(),
                    "waiver-expired",
                    format!(
                        "waiver {} for {} ({}{}) expired on {}: the finding it waived counts again",
                        w.index,
                        w.id_text,
                        owner(w),
                        w.reason,
                        w.expires.map(|d| d.to_string()).unwrap_or_default()
                    ),
                    Action::Warn,
                    Outcome::Violation,
                ));
            }
        }
        if let Some(prefix) = &self.spec.message {
            for d in out.iter_mut().filter(|d| d.rule != "waived" && d.rule != "waiver-expired") {
                d.message = format!("{prefix}: {}", d.message);
            }
        }
        out
    }
}

/// The namespace of an admission subject, when known.
/// The namespace of an admission request: the namespace object's name, else the request's namespace.
fn namespace_of(subject: &Subject) -> Option<&str> {
    let from_object = subject.admission.namespace_object.as_ref().and_then(|n| n.at("/metadata/name"));
    let from_request = subject.admission.request.as_ref().and_then(|r| r.get("namespace"));
    from_object.or(from_request)?.as_str().filter(|n| !n.is_empty())
}

/// Whether a check is in a group.
fn in_group(check_id: &str, group: &str) -> bool {
    palisade_checks::find_check(check_id).is_some_and(|c| c.meta().groups.contains(&group))
}

fn owner(w: &Waiver) -> String {
    if w.owner.is_empty() { String::new() } else { format!("{}: ", w.owner) }
}

fn expiry(w: &Waiver) -> String {
    w.expires.map(|d| format!(", until {d}")).unwrap_or_default()
}

/// Whether a scope selects a report: image globs on the artifact name and tags, namespace globs on the
/// admission namespace (a scope with namespaces never selects a report scanned outside admission).
fn scope_selects(scope: &Scope, report: &ReportView, namespace: Option<&str>) -> bool {
    let images = scope.images.as_ref().is_none_or(|g| report.image_names().any(|n| g.is_match(n)));
    images && scope_selects_namespace(scope, namespace)
}

fn scope_selects_namespace(scope: &Scope, namespace: Option<&str>) -> bool {
    scope.namespaces.as_ref().is_none_or(|g| namespace.is_some_and(|n| g.is_match(n)))
}

impl Gate {
    fn decision(
        &self,
        object: ObjectRef,
        rule: &str,
        message: String,
        action: Action,
        outcome: Outcome,
    ) -> Decision {
        Decision {
            language: Language::Gate,
            policy: self.name.clone(),
            rule: rule.to_string(),
            object,
            message,
            action,
            outcome,
            source: Some(self.source.clone()),
            annotations: None,
        }
    }

    /// The first waiver matching `finding`, and whether it has expired (it expires at the start of its
    /// `expires` day).
    fn waiver_for(
        &self,
        finding: &dyn Waivable,
        report: &ReportView,
        namespace: Option<&str>,
        today: jiff::civil::Date,
    ) -> Option<(&Waiver, bool)> {
        self.spec.waivers.iter().find_map(|w| {
            let id = w.id.as_ref().is_none_or(|g| finding.ids().iter().any(|i| g.is_match(i)));
            let package = w.package.as_ref().is_none_or(|g| finding.packages().iter().any(|p| g.is_match(p)));
            let path = w.path.as_ref().is_none_or(|g| finding.path().is_some_and(|p| g.is_match(p)));
            let scope = scope_selects(&w.scope, report, namespace);
            (id && package && path && scope).then(|| (w, w.expires.is_some_and(|d| d <= today)))
        })
    }
}

#[cfg(test)]
mod tests;
