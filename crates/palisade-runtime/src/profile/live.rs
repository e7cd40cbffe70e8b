//! The agent's side of profiles: learn workloads in discover mode, judge the others, promote, save.
//!
//! [`LiveProfiles::on_event`] feeds each event to the learner when its workload is in discover mode and
//! to the [`ProfileDecider`] always (global rules apply in every mode), returning the alerts to emit.
//! About once a second ([`LiveProfiles::tick`]) it re-reads the mode state file when it changed,
//! promotes quiet workloads (discover → the promotion mode once nothing new was learned for the quiet
//! period; monitor → protect once no violation was raised for `protectAfter`), hands newly learned profiles to the decider (so a workload switched to
//! monitor is judged against everything learned so far) and writes changed profiles to the profile
//! directory. [`LiveProfiles::finish`] writes them a last time.

use crate::event::Event;
use crate::output::Alert;
use crate::profile::decider::ProfileDecider;
use crate::profile::global::GlobalRules;
use crate::profile::learn::Learner;
use crate::profile::model::PalisadeProfile;
use crate::profile::modes::ModeState;
use crate::profile::replay::alert;
use crate::profile::yaml;
use crate::verdict::Mode;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How the agent uses profiles.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Profiles are read from and learned into this directory.
    pub dir: PathBuf,
    /// The mode of workloads the state file and annotations say nothing about.
    pub mode: Mode,
    /// The mode state file (default `DIR/modes.yaml`).
    pub state: PathBuf,
    pub global: GlobalRules,
    pub hostname: String,
}

pub struct LiveProfiles {
    config: LiveConfig,
    learner: Learner,
    decider: Arc<ProfileDecider>,
    state_mtime: Option<SystemTime>,
    dirty: BTreeSet<String>,
    /// Workloads seen in monitor mode: since when they raised no violation (events' clock, ns).
    quiet_since: HashMap<String, u64>,
    last_tick: Instant,
    /// Messages for the operator (promotions, reloads, write errors).
    pub notes: Vec<String>,
}

fn mtime(p: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl LiveProfiles {
    /// Load the directory's profiles and the state file. A bad profile file is an error.
    pub fn start(config: LiveConfig) -> Result<LiveProfiles, String> {
        std::fs::create_dir_all(&config.dir).map_err(|e| format!("{}: {e}", config.dir.display()))?;
        let (loaded, errors) = yaml::load(&config.dir);
        if let Some(e) = errors.first() {
            return Err(e.clone());
        }
        let profiles: Vec<PalisadeProfile> = loaded.into_iter().map(|(_, p)| p).collect();
        let mut learner = Learner::new();
        for p in &profiles {
            learner.add_profile(p);
        }
        let state = ModeState::load(&config.state)?;
        let decider = ProfileDecider::new(&profiles, config.global.clone(), state, config.mode)?;
        Ok(LiveProfiles {
            state_mtime: mtime(&config.state),
            config,
            learner,
            decider: Arc::new(decider),
            dirty: BTreeSet::new(),
            quiet_since: HashMap::new(),
            last_tick: Instant::now(),
            notes: Vec::new(),
        })
    }

    /// The decider, for enforcement to share.
    pub fn decider(&self) -> Arc<ProfileDecider> {
        self.decider.clone()
    }

    pub fn profile_count(&self) -> usize {
        self.learner.profiles().len()
    }

    /// Learn or judge one event; the alerts to emit.
    pub fn on_event(&mut self, event: &Event) -> Vec<Alert> {
        let Some(c) = &event.container else { return Vec::new() };
        self.decider.observe(event);
        if self.decider.mode(c) == Mode::Discover && self.learner.learn(event) {
            self.dirty.insert(self.decider.workload_key(c).to_string());
        }
        let judged = self.decider.judge(event);
        if judged.iter().any(|j| j.mode == Mode::Monitor) {
            // a violation in monitor mode restarts the clock towards protect
            self.quiet_since.insert(self.decider.workload_key(c).to_string(), event.time_ns);
        } else if self.decider.mode(c) == Mode::Monitor {
            self.quiet_since.entry(self.decider.workload_key(c).to_string()).or_insert(event.time_ns);
        }
        let alerts = judged.iter().map(|j| alert(event, j, &self.config.hostname)).collect();
        if self.last_tick.elapsed() >= Duration::from_secs(1) {
            self.tick(event.time_ns);
        }
        alerts
    }

    /// Reload modes, promote, refresh the decider's profiles, save. `now_ns`: the clock of the events.
    pub fn tick(&mut self, now_ns: u64) {
        self.last_tick = Instant::now();
        let m = mtime(&self.config.state);
        if m != self.state_mtime {
            self.state_mtime = m;
            match ModeState::load(&self.config.state) {
                Ok(s) => {
                    self.decider.set_modes(s);
                    self.notes.push(format!("mode state {} reloaded", self.config.state.display()));
                }
                Err(e) => self.notes.push(format!("mode state not reloaded: {e}")),
            }
        }
        let mut modes = self.decider.modes();
        let mut promoted = modes.promote(self.learner.last_new(), now_ns, self.config.mode);
        let quiet = self.quiet_since.iter().map(|(k, t)| (k.as_str(), *t));
        promoted.extend(modes.promote_to_protect(quiet, now_ns, self.config.mode));
        if !promoted.is_empty() {
            for (k, m) in &promoted {
                self.quiet_since.remove(k);
                self.notes.push(format!("{k} promoted to {m:?} mode after its quiet period"));
                self.dirty.insert(k.clone());
            }
            if let Err(e) = modes.save(&self.config.state) {
                self.notes.push(format!("cannot save the mode state: {e}"));
            }
            self.state_mtime = mtime(&self.config.state);
            self.decider.set_modes(modes);
        }
        self.save();
    }

    /// Write the changed profiles and give them to the decider.
    pub fn save(&mut self) {
        let keys: Vec<String> = std::mem::take(&mut self.dirty).into_iter().collect();
        let profiles: Vec<PalisadeProfile> = keys.iter().filter_map(|k| self.learner.profile(k)).collect();
        for p in &profiles {
            if let Err(e) = self.decider.set_profile(p) {
                self.notes.push(format!("learned profile {} does not compile: {e}", p.metadata.name));
            }
        }
        if let Err(e) = yaml::write_dir(&self.config.dir, &profiles) {
            self.notes.push(format!("cannot write profiles to {}: {e}", self.config.dir.display()));
        }
    }

    /// Save everything learned, at shutdown.
    pub fn finish(&mut self) {
        self.save();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Container, EventKind, Process};

    fn exec(t: u64, exe: &str) -> Event {
        Event {
            time_ns: t * 1_000_000_000,
            kind: EventKind::Execve,
            result: Some(0),
            process: Process {
                pid: 5,
                vpid: Some(5),
                comm: crate::profile::facts::comm_of(exe).into(),
                exe: exe.into(),
                ..Process::default()
            },
            ancestors: vec![],
            container: Some(Container {
                id: "c1".into(),
                image: Some("demo/app:1".into()),
                ..Container::default()
            }),
        }
    }

    #[test]
    fn learns_saves_promotes_and_then_alerts() {
        let d = tempfile::tempdir().unwrap();
        let config = LiveConfig {
            dir: d.path().join("profiles"),
            mode: Mode::Discover,
            state: d.path().join("profiles/modes.yaml"),
            global: GlobalRules::default(),
            hostname: "node".into(),
        };
        std::fs::create_dir_all(&config.dir).unwrap();
        std::fs::write(
            &config.state,
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeModes\npromotion: {after: 60s, to: monitor}\n",
        )
        .unwrap();
        let mut live = LiveProfiles::start(config.clone()).unwrap();
        assert!(live.on_event(&exec(100, "/usr/bin/app")).is_empty(), "discover mode learns and allows");
        live.tick(130 * 1_000_000_000);
        let file = config.dir.join("image-demo-app.yaml");
        assert!(std::fs::read_to_string(&file).unwrap().contains("/usr/bin/app"));
        assert!(live.on_event(&exec(131, "/usr/bin/app")).is_empty());
        // quiet for 60 s: promoted to monitor, recorded in the state file, and judged from then on
        live.tick(200 * 1_000_000_000);
        assert!(live.notes.iter().any(|n| n.contains("promoted")), "{:?}", live.notes);
        let state = ModeState::load(&config.state).unwrap();
        assert_eq!(state.workloads.get("Image/demo/app"), Some(&Mode::Monitor));
        let alerts = live.on_event(&exec(201, "/usr/bin/curl"));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].rule, "Process not in profile");
        assert!(live.on_event(&exec(202, "/usr/bin/app")).is_empty());
        live.finish();
        assert!(!std::fs::read_to_string(&file).unwrap().contains("curl"), "monitor mode does not learn");

        // a restarted agent keeps the profile and the promotion
        let mut again = LiveProfiles::start(config).unwrap();
        assert_eq!(again.on_event(&exec(300, "/usr/bin/curl")).len(), 1);
    }

    #[test]
    fn monitor_promotes_to_protect_after_a_quiet_monitoring_period() {
        let d = tempfile::tempdir().unwrap();
        let config = LiveConfig {
            dir: d.path().join("profiles"),
            mode: Mode::Discover,
            state: d.path().join("profiles/modes.yaml"),
            global: GlobalRules::default(),
            hostname: "node".into(),
        };
        std::fs::create_dir_all(&config.dir).unwrap();
        std::fs::write(
            &config.state,
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeModes\n\
             promotion: {after: 60s, to: monitor, protectAfter: 100s}\n",
        )
        .unwrap();
        let mut live = LiveProfiles::start(config.clone()).unwrap();
        let s = 1_000_000_000u64;
        live.on_event(&exec(100, "/usr/bin/app"));
        live.tick(170 * s);
        let mode = |live: &LiveProfiles| live.decider.modes().workloads.get("Image/demo/app").copied();
        assert_eq!(mode(&live), Some(Mode::Monitor));
        // in monitor mode from 171; a violation at 200 restarts the clock
        assert!(live.on_event(&exec(171, "/usr/bin/app")).is_empty());
        assert_eq!(live.on_event(&exec(200, "/usr/bin/curl")).len(), 1);
        live.tick(290 * s);
        assert_eq!(
            mode(&live),
            Some(Mode::Monitor),
            "100 s after the first sight, but not after the violation"
        );
        live.tick(300 * s);
        assert_eq!(mode(&live), Some(Mode::Protect));
        assert!(live.notes.iter().any(|n| n.contains("promoted to Protect")), "{:?}", live.notes);
        let state = ModeState::load(&config.state).unwrap();
        assert_eq!(state.workloads.get("Image/demo/app"), Some(&Mode::Protect), "recorded in the file");
        let alerts = live.on_event(&exec(301, "/usr/bin/curl"));
        assert!(
            matches!(alerts[0].output_fields.get("palisade.mode"), Some(v) if v == "protect"),
            "{alerts:?}"
        );
    }
}
