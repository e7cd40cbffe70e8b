//! Kyverno `validate.podSecurity`: the Pod Security Standards at a level (`baseline`, `restricted`,
//! `privileged`) and version (`v1.30`, `latest`), run with Palisade's own PSS checks (palisade-checks,
//! the checks whose metadata carries a PSS level), with `exclude` entries by control name and image.
//! Exclusions by `restrictedField`/`values` are read at control granularity (the whole control is
//! exempted for the images listed).

use super::jmespath_fns::wildcard;
use palisade_checks::check::K8sCx;
use palisade_checks::k8s::Object;
use palisade_checks::{CheckOptions, K8sVersion, PssLevel};
use serde_json::Value;

/// One `exclude` entry.
#[derive(Debug, Clone)]
pub struct Exclude {
    pub control: String,
    pub images: Vec<String>,
}

/// A compiled podSecurity subrule.
#[derive(Debug, Clone)]
pub struct PodSecurity {
    /// `None` = privileged (nothing is checked).
    pub level: Option<PssLevel>,
    pub version: K8sVersion,
    pub exclude: Vec<Exclude>,
}

/// Kyverno's control name for a pod-security-admission check id.
fn control_name(psa_id: &str) -> &'static str {
    match psa_id {
        "hostNamespaces" => "Host Namespaces",
        "privileged" => "Privileged Containers",
        "capabilities_baseline" | "capabilities_restricted" => "Capabilities",
        "hostPathVolumes" => "HostPath Volumes",
        "hostPorts" => "Host Ports",
        "appArmorProfile" => "AppArmor",
        "seLinuxOptions" => "SELinux",
        "procMount" | "procMount_restricted" => "/proc Mount Type",
        "seccompProfile_baseline" | "seccompProfile_restricted" => "Seccomp",
        "sysctls" => "Sysctls",
        "windowsHostProcess" => "HostProcess",
        "hostProbesAndHostLifecycle" => "Host Probes / Lifecycle Hooks",
        "restrictedVolumes" => "Volume Types",
        "allowPrivilegeEscalation" => "Privilege Escalation",
        "runAsNonRoot" => "Running as Non-root",
        "runAsUser" => "Running as Non-root user",
        _ => "",
    }
}

impl PodSecurity {
    pub fn parse(v: &Value) -> Result<PodSecurity, String> {
        let level = match v.get("level").and_then(Value::as_str).unwrap_or("baseline") {
            "baseline" => Some(PssLevel::Baseline),
            "restricted" => Some(PssLevel::Restricted),
            "privileged" => None,
            other => {
                return Err(format!("podSecurity.level {other:?} is not baseline, restricted or privileged"));
            }
        };
        let version = K8sVersion::parse(v.get("version").and_then(Value::as_str).unwrap_or("latest"))
            .map_err(|e| format!("podSecurity.version: {e}"))?;
        let exclude = v
            .get("exclude")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| Exclude {
                        control: e.get("controlName").and_then(Value::as_str).unwrap_or("").to_string(),
                        images: e
                            .get("images")
                            .and_then(Value::as_array)
                            .map(|i| i.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(PodSecurity { level, version, exclude })
    }

    /// The violated controls of `object` (a Pod or a Pod controller), as messages; empty = compliant.
    pub fn violations(&self, object: &Value) -> Result<Vec<String>, String> {
        let Some(level) = self.level else { return Ok(Vec::new()) };
        let text = serde_json::to_string(object).map_err(|e| e.to_string())?;
        let node = palisade_checks::yaml::load_all(&text)
            .into_iter()
            .next()
            .ok_or("empty object")?
            .map_err(|e| format!("cannot read the object: {}", e.message))?;
        let Some(obj) = Object::from_node(node) else { return Ok(Vec::new()) };
        let minor = self.version.minor;
        let checks: Vec<_> = palisade_checks::registry()
            .iter()
            .filter(|c| c.meta().pss.is_some_and(|p| p.level <= level && p.since_minor <= minor))
            .collect();
        // A restricted check replaces the baseline check it overrides.
        let overridden: Vec<&str> = checks
            .iter()
            .filter_map(|c| c.meta().pss.and_then(|p| p.overrides.filter(|_| level == PssLevel::Restricted)))
            .collect();
        let opts = CheckOptions::default();
        let cx = K8sCx::new(&opts, self.version);
        let images: std::collections::HashMap<String, String> = obj
            .pod()
            .map(|p| {
                p.containers()
                    .iter()
                    .map(|c| (c.name.to_string(), c.image().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let mut out = Vec::new();
        for c in checks {
            let Some(pss) = c.meta().pss else { continue };
            if overridden.contains(&pss.psa_id) {
                continue;
            }
            let control = control_name(pss.psa_id);
            let mut hits = Vec::new();
            c.k8s(&obj, &cx, &mut hits);
            for h in hits {
                let image = h.container.as_ref().and_then(|n| images.get(n)).map(String::as_str);
                let excluded = self.exclude.iter().any(|e| {
                    e.control == control
                        && (e.images.is_empty()
                            || image.is_some_and(|i| e.images.iter().any(|p| wildcard(p, i))))
                });
                if !excluded {
                    out.push(format!("{control}: {}", h.message));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn baseline_and_restricted() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "nginx"}]}});
        let baseline = PodSecurity::parse(&json!({"level": "baseline", "version": "latest"})).unwrap();
        let v = baseline.violations(&pod).unwrap();
        assert!(v.iter().any(|m| m.starts_with("Host Namespaces")), "{v:?}");
        let exempt = PodSecurity::parse(
            &json!({"level": "baseline", "exclude": [{"controlName": "Host Namespaces"}]}),
        )
        .unwrap();
        assert!(exempt.violations(&pod).unwrap().is_empty());
        let clean = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        assert!(baseline.violations(&clean).unwrap().is_empty());
        let restricted = PodSecurity::parse(&json!({"level": "restricted"})).unwrap();
        assert!(!restricted.violations(&clean).unwrap().is_empty());
        assert!(PodSecurity::parse(&json!({"level": "bogus"})).is_err());
    }
}
