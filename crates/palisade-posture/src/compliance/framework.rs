//! Framework mappings: one YAML data file per framework under `frameworks/`, embedded at build time and
//! registered in [`SOURCES`]. Each control carries the framework's id and title and what judges it:
//! Palisade check ids (globs allowed: `PAL-PSS-*`) found in scan, cluster and RBAC results, CIS node control
//! ids judged by `scan node`, vulnerability severities, leaked secrets, and a manual step.

use serde::{Deserialize, Serialize};

/// Every framework: (id, YAML source).
pub static SOURCES: &[(&str, &str)] = &[
    ("cis-kubernetes", include_str!("../../frameworks/cis-kubernetes.yaml")),
    ("nsa-cisa", include_str!("../../frameworks/nsa-cisa.yaml")),
    ("nist-800-190", include_str!("../../frameworks/nist-800-190.yaml")),
    ("pci-dss-4", include_str!("../../frameworks/pci-dss-4.yaml")),
    ("hipaa", include_str!("../../frameworks/hipaa.yaml")),
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub title: String,
    pub version: String,
    pub controls: Vec<ControlMap>,
}

/// One control and what judges it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControlMap {
    pub id: String,
    pub title: String,
    /// Check ids or globs; a finding of any fails the control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// `scan node` control ids (`1.2.6`, `R.3`); a failed one fails the control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node: Vec<String>,
    /// Vulnerability severities (`critical`, `high`, …); an active finding of one fails the control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulns: Vec<String>,
    /// An active leaked secret fails the control.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secrets: bool,
    /// Every image a cluster scan found running must have been scanned (looked up in the image store, or
    /// scanned with `--scan-missing`): one that was not fails the control.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub running_images: bool,
    /// What a person must verify (alone: a manual control; with the above: what they cannot see).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
    /// Why the control does not apply to container platforms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
}

impl ControlMap {
    /// Judged by Palisade (at least in part): a check, severity or secret mapping, or a node control the
    /// benchmark does not mark Manual.
    pub fn automated(&self) -> bool {
        let automated_node = |id: &String| {
            crate::node::controls::GROUPS
                .iter()
                .flat_map(|g| g.controls.iter())
                .any(|c| c.id == id && !c.manual)
        };
        self.not_applicable.is_none()
            && (!self.checks.is_empty()
                || self.node.iter().any(automated_node)
                || !self.vulns.is_empty()
                || self.secrets
                || self.running_images)
    }

    /// Anything Palisade reads for it (Manual node controls included: their evidence is shown).
    pub fn has_sources(&self) -> bool {
        !self.checks.is_empty()
            || !self.node.is_empty()
            || !self.vulns.is_empty()
            || self.secrets
            || self.running_images
    }
}

/// How many controls are automated, manual only, not applicable.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Coverage {
    pub controls: usize,
    pub automated: usize,
    pub manual: usize,
    #[serde(rename = "notApplicable")]
    pub not_applicable: usize,
}

impl Framework {
    pub fn coverage(&self) -> Coverage {
        let mut c = Coverage { controls: self.controls.len(), ..Coverage::default() };
        for m in &self.controls {
            if m.not_applicable.is_some() {
                c.not_applicable += 1;
            } else if m.automated() {
                c.automated += 1;
            } else {
                c.manual += 1;
            }
        }
        c
    }
}

/// Parse a framework's YAML; the error names the file.
pub fn parse(id: &str, text: &str) -> Result<Framework, String> {
    serde_saphyr::from_str::<Framework>(text).map_err(|e| format!("frameworks/{id}.yaml: {e}"))
}

/// A framework by id.
pub fn load(id: &str) -> Result<Framework, String> {
    let (_, text) = SOURCES.iter().find(|(i, _)| *i == id).ok_or_else(|| {
        let ids: Vec<&str> = SOURCES.iter().map(|(i, _)| *i).collect();
        format!("unknown framework {id:?}; known: {}", ids.join(", "))
    })?;
    parse(id, text)
}

/// Every framework.
pub fn all() -> Result<Vec<Framework>, String> {
    SOURCES.iter().map(|(id, text)| parse(id, text)).collect()
}
