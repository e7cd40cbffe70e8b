//! A container whose runtime state is removed before its events are attributed (a sub-second `runc run`
//! read by a lagging reader) is still attributed, by cgroup id and by container id, once the state watcher
//! has seen its state; without the watcher it is not. Runs unprivileged on a state root in a temp dir.

use palisade_runtime::attribution::Attributor;
use palisade_runtime::attribution::recent::Recent;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// A pid no process has (above the kernel's `pid_max` limit), so `/proc/PID` is never there.
const GONE_PID: u32 = 4_194_400;

fn write_state(root: &Path, id: &str, bundle: &Path, cgroup: &Path) {
    std::fs::create_dir_all(bundle).unwrap();
    std::fs::write(
        bundle.join("config.json"),
        r#"{"annotations":{"io.kubernetes.cri.image-name":"registry.example/app:1","io.kubernetes.cri.container-name":"app"}}"#,
    )
    .unwrap();
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let state = serde_json::json!({
        "config": {"labels": [format!("bundle={}", bundle.display())]},
        "cgroup_paths": {"": cgroup.display().to_string()}
    });
    // as runc does: write a temporary file, rename it into place
    std::fs::write(dir.join("state.json.tmp"), state.to_string()).unwrap();
    std::fs::rename(dir.join("state.json.tmp"), dir.join("state.json")).unwrap();
}

#[test]
fn containers_stay_attributable_after_their_state_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runc-root");
    std::fs::create_dir_all(&root).unwrap();
    let recent = Recent::shared();
    let mut attributor = Attributor::with_recent(std::slice::from_ref(&root), recent.clone());
    let watcher = attributor.watch().expect("inotify");
    // the watcher is in place once it has read what already exists
    let cgroup0 = tmp.path().join("cg-early");
    std::fs::create_dir_all(&cgroup0).unwrap();
    write_state(&root, "early", &tmp.path().join("b-early"), &cgroup0);
    let wait = |id: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while recent.lock().unwrap().by_id(id).is_none() {
            assert!(Instant::now() < deadline, "the watcher did not learn {id}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait("early");

    for i in 0..10 {
        let id = format!("short-{i}");
        let cgroup = tmp.path().join(format!("cg-{i}"));
        std::fs::create_dir_all(&cgroup).unwrap();
        let cgroup_id = std::fs::metadata(&cgroup).unwrap().ino();
        write_state(&root, &id, &tmp.path().join(format!("b-{i}")), &cgroup);
        wait(&id);
        // the container exits: runc removes its state before its records are read (the stand-in cgroup
        // directories stay, so no inode is reused while the test runs; kernel cgroup ids never are)
        std::fs::remove_dir_all(root.join(&id)).unwrap();
        let c =
            attributor.attribute(GONE_PID, cgroup_id, true).unwrap_or_else(|| panic!("{id} not attributed"));
        assert_eq!(c.id, id);
        assert_eq!(c.image.as_deref(), Some("registry.example/app:1"));
        assert_eq!(c.name.as_deref(), Some("app"));
        assert_eq!(c.cgroup_id, Some(cgroup_id));
    }

    // without the watcher, nothing remembers a container that was never read while it existed
    drop(watcher);
    let mut unwatched = Attributor::new(std::slice::from_ref(&root));
    let cgroup = tmp.path().join("cg-unwatched");
    std::fs::create_dir_all(&cgroup).unwrap();
    let cgroup_id = std::fs::metadata(&cgroup).unwrap().ino();
    write_state(&root, "unwatched", &tmp.path().join("b-u"), &cgroup);
    std::fs::remove_dir_all(root.join("unwatched")).unwrap();
    assert_eq!(unwatched.attribute(GONE_PID, cgroup_id, true), None);
}
