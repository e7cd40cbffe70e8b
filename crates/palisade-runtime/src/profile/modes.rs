//! Modes per workload: discover (learn and allow), monitor (alert outside the profile), protect (refuse
//! it). The mode of a workload is, first found:
//!
//! 1. its pod's `palisade.io/mode` annotation;
//! 2. its entry in the mode state file (set by `palisade profile mode`, or by promotion);
//! 3. the state file's default;
//! 4. the agent's `--mode`.
//!
//! **Promotion**: a workload in discover mode that has learned nothing new for the configured quiet
//! period is moved to the promotion mode (monitor by default) and the state file records it, so it
//! stays promoted across restarts. With `protectAfter`, a workload in monitor mode (by the state file)
//! that raised no violation for that long is moved on to protect: discover → monitor → protect with no
//! one at the keyboard. The monitor clock starts when the agent first sees the workload in monitor mode
//! and restarts at each violation (and at an agent restart: it is not kept in the file). The state file
//! is YAML; the agent re-reads it when it changes.
//!
//! ```yaml
//! apiVersion: palisade.io/v1alpha1
//! kind: PalisadeModes
//! default: monitor
//! workloads:
//!   shop/Deployment/web: protect
//! promotion: {after: 1h, to: monitor, protectAfter: 1d}
//! ```

use crate::event::Container;
use crate::profile::model::API_VERSION;
use crate::verdict::Mode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub const KIND: &str = "PalisadeModes";
pub const ANNOTATION: &str = "palisade.io/mode";

/// Automatic promotion out of discover mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// Quiet period (`30m`, `1h`, `2d`, or seconds).
    pub after: String,
    #[serde(default = "monitor")]
    pub to: Mode,
    /// Quiet period in monitor mode (no violation) after which a workload is promoted to protect.
    #[serde(default, rename = "protectAfter", skip_serializing_if = "Option::is_none")]
    pub protect_after: Option<String>,
}

fn monitor() -> Mode {
    Mode::Monitor
}

/// The mode state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModeState {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Mode>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub workloads: BTreeMap<String, Mode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Promotion>,
}

impl Default for ModeState {
    fn default() -> Self {
        ModeState {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            default: None,
            workloads: BTreeMap::new(),
            promotion: None,
        }
    }
}

/// A duration as written in the state file: `90`, `90s`, `30m`, `1h`, `2d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {text:?} (expected 30s, 10m, 1h, 2d)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("invalid duration {text:?} (expected 30s, 10m, 1h, 2d)")),
    };
    Ok(Duration::from_secs(secs))
}

fn mode_of(text: &str) -> Option<Mode> {
    match text.trim().to_ascii_lowercase().as_str() {
        "discover" => Some(Mode::Discover),
        "monitor" => Some(Mode::Monitor),
        "protect" => Some(Mode::Protect),
        _ => None,
    }
}

impl ModeState {
    /// Read a state file; a missing file is the empty state.
    pub fn load(path: &Path) -> Result<ModeState, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ModeState::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, name: &str) -> Result<ModeState, String> {
        let s: ModeState = serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
            format!("{name}{line}: {}", e.to_string().lines().next().unwrap_or(""))
        })?;
        if s.api_version != API_VERSION || s.kind != KIND {
            return Err(format!(
                "{name}: expected apiVersion {API_VERSION} and kind {KIND}, found {} {}",
                s.api_version, s.kind
            ));
        }
        if let Some(p) = &s.promotion {
            parse_duration(&p.after).map_err(|e| format!("{name}: promotion.after: {e}"))?;
            if let Some(a) = &p.protect_after {
                parse_duration(a).map_err(|e| format!("{name}: promotion.protectAfter: {e}"))?;
            }
        }
        Ok(s)
    }

    /// Write the state file (atomically: a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let mut text = format!("apiVersion: {API_VERSION}\nkind: {KIND}\n");
        let name = |m: Mode| match m {
            Mode::Discover => "discover",
            Mode::Monitor => "monitor",
            Mode::Protect => "protect",
        };
        if let Some(d) = self.default {
            text.push_str(&format!("default: {}\n", name(d)));
        }
        if !self.workloads.is_empty() {
            text.push_str("workloads:\n");
            for (k, m) in &self.workloads {
                text.push_str(&format!("  {}: {}\n", serde_json::to_string(k).unwrap_or_default(), name(*m)));
            }
        }
        if let Some(p) = &self.promotion {
            let then = p
                .protect_after
                .as_ref()
                .map(|a| format!(", protectAfter: {}", serde_json::to_string(a).unwrap_or_default()))
                .unwrap_or_default();
            text.push_str(&format!(
                "promotion: {{after: {}, to: {}{then}}}\n",
                serde_json::to_string(&p.after).unwrap_or_default(),
                name(p.to)
            ));
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The mode of a workload (see the module's order); `fallback` is the agent's `--mode`.
    pub fn mode(&self, workload_key: &str, container: Option<&Container>, fallback: Mode) -> Mode {
        if let Some(m) = container
            .and_then(|c| c.pod.as_ref())
            .and_then(|p| p.annotations.get(ANNOTATION))
            .and_then(|a| mode_of(a))
        {
            return m;
        }
        self.workloads.get(workload_key).copied().or(self.default).unwrap_or(fallback)
    }

    /// The quiet period and target of promotion, when configured.
    pub fn promotion(&self) -> Option<(Duration, Mode)> {
        let p = self.promotion.as_ref()?;
        Some((parse_duration(&p.after).ok()?, p.to))
    }

    /// Promote the discover-mode workloads whose last new item is older than the quiet period; the keys
    /// promoted. `last_new` gives each workload's last learning time; `now_ns` is the clock.
    pub fn promote<'a>(
        &mut self,
        last_new: impl Iterator<Item = (&'a str, u64)>,
        now_ns: u64,
        fallback: Mode,
    ) -> Vec<(String, Mode)> {
        let Some((quiet, to)) = self.promotion() else { return Vec::new() };
        let quiet_ns = u64::try_from(quiet.as_nanos()).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for (key, last) in last_new {
            if last == 0 || self.mode(key, None, fallback) != Mode::Discover {
                continue;
            }
            if now_ns.saturating_sub(last) >= quiet_ns {
                self.workloads.insert(key.to_string(), to);
                out.push((key.to_string(), to));
            }
        }
        out
    }

    /// The quiet period in monitor mode before protect, when configured.
    pub fn protect_after(&self) -> Option<Duration> {
        parse_duration(self.promotion.as_ref()?.protect_after.as_ref()?).ok()
    }

    /// Promote to protect the workloads in monitor mode (not by a pod annotation) whose last violation, or first
    /// sight in monitor mode, is older than `protectAfter`; the keys promoted. `quiet_since` gives those
    /// times by workload key; `now_ns` is the clock.
    pub fn promote_to_protect<'a>(
        &mut self,
        quiet_since: impl Iterator<Item = (&'a str, u64)>,
        now_ns: u64,
        fallback: Mode,
    ) -> Vec<(String, Mode)> {
        let Some(quiet) = self.protect_after() else { return Vec::new() };
        let quiet_ns = u64::try_from(quiet.as_nanos()).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for (key, since) in quiet_since {
            if self.mode(key, None, fallback) == Mode::Monitor && now_ns.saturating_sub(since) >= quiet_ns {
                self.workloads.insert(key.to_string(), Mode::Protect);
                out.push((key.to_string(), Mode::Protect));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Pod;

    #[test]
    fn order_state_file_and_promotion() {
        let mut s = ModeState { default: Some(Mode::Monitor), ..ModeState::default() };
        s.workloads.insert("shop/Deployment/web".into(), Mode::Protect);
        assert_eq!(s.mode("shop/Deployment/web", None, Mode::Discover), Mode::Protect);
        assert_eq!(s.mode("shop/Deployment/db", None, Mode::Discover), Mode::Monitor);
        let mut pod = Pod::default();
        pod.annotations.insert(ANNOTATION.into(), "discover".into());
        let c = Container { pod: Some(pod), ..Container::default() };
        assert_eq!(s.mode("shop/Deployment/web", Some(&c), Mode::Monitor), Mode::Discover);
        assert_eq!(ModeState::default().mode("x", None, Mode::Monitor), Mode::Monitor);

        let mut s = ModeState {
            promotion: Some(Promotion { after: "10m".into(), to: Mode::Protect, protect_after: None }),
            ..ModeState::default()
        };
        let min = 60_000_000_000u64;
        let last = [("a", min), ("b", 8 * min)];
        assert_eq!(
            s.promote(last.iter().copied(), 12 * min, Mode::Discover),
            [("a".to_string(), Mode::Protect)]
        );
        assert_eq!(s.mode("a", None, Mode::Discover), Mode::Protect);
        assert!(s.promote(last.iter().copied(), 12 * min, Mode::Discover).is_empty(), "a already promoted");

        // monitor → protect after a quiet monitoring period
        let mut m = ModeState::parse(
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeModes\nworkloads: {w: monitor, d: discover}\n\
             promotion: {after: 10m, protectAfter: 1h}\n",
            "m.yaml",
        )
        .unwrap();
        assert_eq!(m.protect_after(), Some(Duration::from_secs(3600)));
        let quiet = [("w", 10 * min), ("d", 0)];
        assert!(m.promote_to_protect(quiet.iter().copied(), 69 * min, Mode::Discover).is_empty());
        assert_eq!(
            m.promote_to_protect(quiet.iter().copied(), 70 * min, Mode::Discover),
            [("w".to_string(), Mode::Protect)],
            "only monitor-mode workloads"
        );
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("modes.yaml");
        m.save(&path).unwrap();
        assert_eq!(ModeState::load(&path).unwrap(), m);
        let bad = "apiVersion: palisade.io/v1alpha1\nkind: PalisadeModes\npromotion: {after: 1h, protectAfter: soon}\n";
        assert!(ModeState::parse(bad, "m.yaml").unwrap_err().contains("protectAfter"));

        s.save(&path).unwrap();
        assert_eq!(ModeState::load(&path).unwrap(), s);
        assert_eq!(ModeState::load(&d.path().join("none")).unwrap(), ModeState::default());
        assert!(
            ModeState::parse(
                "apiVersion: palisade.io/v1alpha1\nkind: PalisadeModes\ndefault: block\n",
                "m.yaml"
            )
            .unwrap_err()
            .starts_with("m.yaml")
        );
        assert!(parse_duration("2h").unwrap() == Duration::from_secs(7200) && parse_duration("1w").is_err());
    }
}
