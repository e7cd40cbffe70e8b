//! Profiles from recorded events, with no kernel: `fixtures/profile/learn.jsonl` and `monitor.jsonl` are
//! the events the agent recorded in `crates/palisade/tests/runtime_profiles.rs` (a busybox script in a
//! runc container: a listener, a config read, an `nc` call, a sleep; the second run also runs
//! `/bin/uname`). Learning the first run gives the committed `learned.yaml` byte for byte (stable order,
//! comments); replaying the first run against it finds nothing, the second exactly the `uname` exec, in
//! monitor mode an alert and in protect mode a refusal.

use palisade_runtime::Event;
use palisade_runtime::profile::global::GlobalRules;
use palisade_runtime::profile::modes::ModeState;
use palisade_runtime::profile::replay::Replay;
use palisade_runtime::profile::{Learner, ProfileDecider, yaml};
use palisade_runtime::verdict::{Mode, Verdict};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile").join(name)
}

fn learned() -> palisade_runtime::profile::PalisadeProfile {
    let text = std::fs::read_to_string(fixture("learn.jsonl")).unwrap();
    let mut learner = Learner::new();
    for line in text.lines() {
        learner.learn(&serde_json::from_str::<Event>(line).unwrap());
    }
    let mut profiles = learner.profiles();
    assert_eq!(profiles.len(), 1);
    profiles.remove(0)
}

fn replay(file: &str, mode: Mode) -> Replay {
    let p = learned();
    let d = ProfileDecider::new(&[p], GlobalRules::default(), ModeState::default(), mode).unwrap();
    let f = std::fs::File::open(fixture(file)).unwrap();
    Replay::run(&d, std::io::BufReader::new(f), file).unwrap()
}

#[test]
fn learning_the_recorded_run_gives_the_committed_profile() {
    let p = learned();
    let text = yaml::to_yaml(&p);
    let expected = std::fs::read_to_string(fixture("learned.yaml")).unwrap();
    assert_eq!(text, expected, "the exported profile changed; new text:\n{text}");
    let names: Vec<String> =
        p.spec.processes.iter().map(|r| r.name.clone().unwrap_or_else(|| r.path.clone())).collect();
    assert_eq!(names, ["/bin/sh", "cat", "nc", "sleep"]);
    assert!(p.spec.files.iter().any(|f| f.path == "/etc/app/app.conf"));
    assert_eq!(p.spec.network.egress.len(), 1);
    assert_eq!(p.spec.network.ingress.len(), 1);
    // and it parses back to itself
    assert_eq!(yaml::parse(&text, "learned.yaml").unwrap(), [p]);
}

#[test]
fn replays_find_exactly_the_unlisted_program() {
    let clean = replay("learn.jsonl", Mode::Monitor);
    assert!(clean.findings.is_empty(), "{:#?}", clean.findings);
    assert!(clean.events > 0);

    let r = replay("monitor.jsonl", Mode::Monitor);
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    let f = &r.findings[0];
    assert_eq!(f.judgement.violation.rule, "Process not in profile");
    assert_eq!(f.event.process.exe, "/bin/uname");
    assert!(matches!(f.judgement.verdict, Verdict::Alert { .. }));

    let r = replay("monitor.jsonl", Mode::Protect);
    assert_eq!(r.findings.len(), 1);
    assert!(r.findings[0].judgement.verdict.is_deny());
    let alert =
        palisade_runtime::profile::replay::alert(&r.findings[0].event, &r.findings[0].judgement, "node");
    assert_eq!(alert.priority, "Critical");
    assert_eq!(alert.output_fields["proc.exepath"], "/bin/uname");
}
