//! The cgroup mechanism on real connects: processes of one cgroup v2 directory, in a lab pod, call the
//! node; the connect4 program lets the listed port through and refuses the other with EPERM (protect), or
//! only records it (monitor); processes outside the cgroup are not judged. Needs root, a cgroup v2 mount,
//! bpffs, the built BPF object, `ip` and busybox: skips with a message without them.

mod support;

use palisade_network::firewall::{FirewallMode, cgroup_bpf, probe};
use palisade_network::rules::{Direction, NetRule, Peer, PortRange, Protocol};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::lab::{Lab, echo_server};

/// A cgroup directory of the test, its firewall removed and the directory deleted on drop.
struct Cgroup(PathBuf);

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = cgroup_bpf::remove(&self.0);
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// `nc` to the node from a shell that first joins `cgroup` (when given), then the pod's namespace (`ip
/// netns exec` mounts a sysfs of its own, so the cgroup is joined before): its output and error text.
fn nc(pod: &str, cgroup: Option<&Path>, addr: &str, port: u16) -> Result<String, String> {
    let join = cgroup.map(|c| format!("echo $$ > {}/cgroup.procs && ", c.display())).unwrap_or_default();
    let inner = format!("echo palisade | busybox nc -w 2 {addr} {port}");
    let script = format!("{join}exec ip netns exec {pod} sh -c '{inner}'");
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() && stdout.contains("palisade") {
        Ok(stdout)
    } else {
        Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

#[test]
fn connect_hooks_judge_only_the_cgroups_processes() {
    let Some(mount) =
        std::fs::read_to_string("/proc/self/mountinfo").ok().and_then(|t| probe::cgroup2_mount(&t))
    else {
        eprintln!("SKIP: no cgroup v2 hierarchy mounted");
        return;
    };
    if !Path::new("/sys/fs/bpf").exists() || Command::new("busybox").arg("true").output().is_err() {
        eprintln!("SKIP: no bpffs at /sys/fs/bpf or no busybox");
        return;
    }
    let Some(lab) = Lab::new("cgb", 1) else { return };
    for port in [8080, 9090] {
        echo_server(&lab.node_ns(), port);
    }
    let cgroup = Cgroup(mount.join(format!("palisade-test-{}", std::process::id())));
    std::fs::create_dir_all(&cgroup.0).unwrap();
    let rules = vec![NetRule {
        direction: Direction::Egress,
        peer: Peer::Cidr("10.77.0.1/32".parse().unwrap()),
        protocol: Protocol::Tcp,
        ports: vec![PortRange::single(8080)],
    }];
    let applied = match cgroup_bpf::apply(&cgroup.0, &rules, FirewallMode::Protect) {
        Err(cgroup_bpf::CgroupBpfError::Unavailable(why)) => {
            eprintln!("SKIP: {why}");
            return;
        }
        other => other.unwrap(),
    };
    assert_eq!((applied.installed, applied.skipped.len()), (1, 0));
    let pod = &lab.pods[0];
    let node = "10.77.0.1";
    nc(pod, Some(&cgroup.0), node, 8080).expect("the listed connect");
    let refused = nc(pod, Some(&cgroup.0), node, 9090).expect_err("9090 must be refused");
    assert!(refused.contains("not permitted"), "{refused}");
    nc(pod, None, node, 9090).expect("a process outside the cgroup is not judged");
    // Loopback is never judged: nothing listens on port 1, so the stack refuses it (not the hook's EPERM).
    let lo = nc(pod, Some(&cgroup.0), "127.0.0.1", 1).expect_err("nothing listens on port 1");
    assert!(lo.contains("refused"), "{lo}");

    let status = cgroup_bpf::status(&cgroup.0).unwrap().unwrap();
    assert_eq!(status.mode, FirewallMode::Protect);
    assert_eq!((status.rules[0].packets, status.outside[0].packets), (1, 1), "{status:?}");
    let v: Vec<(String, u16)> = status.violations.iter().map(|v| (v.peer.to_string(), v.port)).collect();
    assert_eq!(v, vec![(node.to_string(), 9090)]);

    // Monitor: the same rules rewritten in place, the connect goes through and is still recorded.
    cgroup_bpf::apply(&cgroup.0, &rules, FirewallMode::Monitor).unwrap();
    nc(pod, Some(&cgroup.0), node, 9090).expect("monitor mode lets 9090 through");
    assert_eq!(cgroup_bpf::status(&cgroup.0).unwrap().unwrap().outside[0].packets, 2);

    assert!(cgroup_bpf::remove(&cgroup.0).unwrap());
    assert!(cgroup_bpf::status(&cgroup.0).unwrap().is_none());
    cgroup_bpf::apply(&cgroup.0, &rules, FirewallMode::Protect).unwrap();
    cgroup_bpf::remove(&cgroup.0).unwrap();
    nc(pod, Some(&cgroup.0), node, 9090).expect("after removal nothing is judged");
}
