//! CIS node checks on kubeadm-like node trees built here: every automated control passes on the good tree and
//! fails on the bad one; Manual controls warn; an empty tree makes every control not applicable.

use palisade_posture::node::controls::GROUPS;
use palisade_posture::node::{Status, scan};
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::Path;

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

fn put(root: &Path, path: &str, mode: u32, owner: (u32, u32), text: &str) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    if text == "<dir>" {
        std::fs::create_dir_all(&p).unwrap();
    } else {
        std::fs::write(&p, text).unwrap();
    }
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    chown(&p, Some(owner.0), Some(owner.1)).unwrap();
}

fn manifest(name: &str, flags: &[&str]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: kube-system}}\nspec:\n  containers:\n  - name: {name}\n    image: registry.k8s.io/{name}:v1.33.1\n    command:\n    - {name}\n"
    );
    for f in flags {
        s.push_str(&format!("    - {f}\n"));
    }
    s
}

/// A kubeadm control plane node that also runs workloads; `good` decides every setting.
fn node(root: &Path, good: bool) {
    let (m600, m700, m644) = if good { (0o600, 0o700, 0o644) } else { (0o644, 0o755, 0o666) };
    let root_owner = if good { (0, 0) } else { (1000, 1000) };
    let etcd_owner = if good { (998, 998) } else { (0, 0) };
    put(
        root,
        "/etc/passwd",
        0o644,
        (0, 0),
        "root:x:0:0:root:/root:/bin/bash\netcd:x:998:998::/var/lib/etcd:/usr/sbin/nologin\n",
    );
    put(root, "/etc/group", 0o644, (0, 0), "root:x:0:\netcd:x:998:\n");
    let api: Vec<&str> = if good {
        vec![
            "--anonymous-auth=false",
            "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
            "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
            "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
            "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
            "--authorization-mode=Node,RBAC",
            "--profiling=false",
            "--audit-log-path=/var/log/kubernetes/audit.log",
            "--audit-log-maxage=30",
            "--audit-log-maxbackup=10",
            "--audit-log-maxsize=100",
            "--request-timeout=60s",
            "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
            "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
            "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
            "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
            "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
            "--encryption-provider-config=/etc/kubernetes/enc.yaml",
            "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ]
    } else {
        vec![
            "--token-auth-file=/etc/kubernetes/tokens.csv",
            "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
            "--authorization-mode=AlwaysAllow",
            "--enable-admission-plugins=AlwaysAdmit",
            "--disable-admission-plugins=ServiceAccount,NamespaceLifecycle",
            "--audit-log-maxage=7",
            "--audit-log-maxbackup=2",
            "--audit-log-maxsize=10",
            "--service-account-lookup=false",
            "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        ]
    };
    put(
        root,
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        m600,
        root_owner,
        &manifest("kube-apiserver", &api),
    );
    let cm: Vec<&str> = if good {
        vec![
            "--terminated-pod-gc-threshold=10",
            "--profiling=false",
            "--use-service-account-credentials=true",
            "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
            "--root-ca-file=/etc/kubernetes/pki/ca.crt",
            "--bind-address=127.0.0.1",
        ]
    } else {
        vec!["--feature-gates=RotateKubeletServerCertificate=false", "--bind-address=0.0.0.0"]
    };
    put(
        root,
        "/etc/kubernetes/manifests/kube-controller-manager.yaml",
        m600,
        root_owner,
        &manifest("kube-controller-manager", &cm),
    );
    let sched: Vec<&str> =
        if good { vec!["--profiling=false", "--bind-address=127.0.0.1"] } else { vec!["--profiling=true"] };
    put(
        root,
        "/etc/kubernetes/manifests/kube-scheduler.yaml",
        m600,
        root_owner,
        &manifest("kube-scheduler", &sched),
    );
    let etcd: Vec<&str> = if good {
        vec![
            "--data-dir=/var/lib/etcd",
            "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
            "--key-file=/etc/kubernetes/pki/etcd/server.key",
            "--client-cert-auth=true",
            "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
            "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
            "--peer-client-cert-auth=true",
            "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        ]
    } else {
        vec!["--data-dir=/var/lib/etcd", "--auto-tls=true", "--peer-auto-tls=true"]
    };
    put(root, "/etc/kubernetes/manifests/etcd.yaml", m600, root_owner, &manifest("etcd", &etcd));
    put(root, "/etc/cni/net.d/10-flannel.conflist", m600, root_owner, "{}");
    put(root, "/var/lib/etcd", m700, etcd_owner, "<dir>");
    for f in ["admin.conf", "super-admin.conf", "scheduler.conf", "controller-manager.conf", "kubelet.conf"] {
        put(root, &format!("/etc/kubernetes/{f}"), m600, root_owner, "apiVersion: v1\nkind: Config\n");
    }
    put(root, "/etc/kubernetes/pki", 0o755, root_owner, "<dir>");
    put(root, "/etc/kubernetes/pki/ca.crt", m600, root_owner, "cert");
    put(root, "/etc/kubernetes/pki/ca.key", m600, root_owner, "key");
    put(
        root,
        "/usr/lib/systemd/system/kubelet.service",
        m600,
        root_owner,
        "[Service]\nExecStart=/usr/bin/kubelet\n",
    );
    put(
        root,
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
        m600,
        root_owner,
        "[Service]\nEnvironment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n",
    );
    put(
        root,
        "/var/lib/kubelet/kubeadm-flags.env",
        0o644,
        (0, 0),
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
    );
    if !good {
        // A flag overrides the config file, as in the kubelet.
        put(
            root,
            "/etc/default/kubelet",
            0o644,
            (0, 0),
            "KUBELET_EXTRA_ARGS=\"--anonymous-auth=true --rotate-certificates=false\"\n",
        );
    }
    let kcfg = if good {
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: false}\n  webhook: {enabled: true}\n  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}\nauthorization: {mode: Webhook}\nreadOnlyPort: 0\nstreamingConnectionIdleTimeout: 4h\nmakeIPTablesUtilChains: true\neventRecordQPS: 5\ntlsCertFile: /var/lib/kubelet/pki/kubelet.crt\nrotateCertificates: true\nserverTLSBootstrap: true\ntlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\npodPidsLimit: 4096\n"
    } else {
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: false}\nauthorization: {mode: AlwaysAllow}\nreadOnlyPort: 10255\nmakeIPTablesUtilChains: false\n"
    };
    put(root, "/var/lib/kubelet/config.yaml", m600, root_owner, kcfg);
    put(
        root,
        "/var/lib/kube-proxy/config.conf",
        0o644,
        (0, 0),
        if good { "metricsBindAddress: 127.0.0.1:10249\n" } else { "metricsBindAddress: 0.0.0.0:10249\n" },
    );
    put(root, "/var/lib/kube-proxy/kubeconfig.conf", m600, root_owner, "apiVersion: v1\nkind: Config\n");
    put(
        root,
        "/etc/containerd/config.toml",
        m644,
        root_owner,
        if good {
            "version = 2\n[grpc]\naddress = \"/run/containerd/containerd.sock\"\n[plugins.\"io.containerd.grpc.v1.cri\"]\ndisable_apparmor = false\n"
        } else {
            "version = 2\n[grpc]\ntcp_address = \"0.0.0.0:2376\"\n[plugins.\"io.containerd.grpc.v1.cri\"]\ndisable_apparmor = true\n"
        },
    );
    put(
        root,
        "/etc/docker/daemon.json",
        m644,
        root_owner,
        if good {
            r#"{"hosts": ["unix:///var/run/docker.sock"], "icc": false}"#
        } else {
            r#"{"hosts": ["tcp://0.0.0.0:2375"], "insecure-registries": ["registry.local:5000"]}"#
        },
    );
    put(
        root,
        "/etc/crio/crio.conf",
        m644,
        root_owner,
        if good {
            "[crio.runtime]\ndefault_capabilities = [\"CHOWN\", \"SETUID\"]\n"
        } else {
            "[crio.runtime]\ndefault_capabilities = [\"CHOWN\", \"NET_RAW\", \"SYS_ADMIN\"]\n"
        },
    );
}

#[test]
fn every_control_passes_on_the_good_node_and_fails_on_the_bad_one() {
    if !is_root() {
        eprintln!("SKIP: building node trees with root-owned files needs root (chown)");
        return;
    }
    let good_dir = tempfile::tempdir().unwrap();
    let bad_dir = tempfile::tempdir().unwrap();
    node(good_dir.path(), true);
    node(bad_dir.path(), false);
    let good = scan(good_dir.path());
    let bad = scan(bad_dir.path());
    assert!(good.errors.is_empty(), "{:?}", good.errors);
    assert_eq!(good.components.len(), 5, "{:?}", good.components);
    let (mut automated, mut manual) = (0, 0);
    for g in GROUPS {
        for c in g.controls {
            let gr = good.results.iter().find(|r| r.id == c.id).unwrap();
            let br = bad.results.iter().find(|r| r.id == c.id).unwrap();
            if c.manual {
                manual += 1;
                assert_eq!(gr.status, Status::Warn, "{} good: {:?}", c.id, gr.evidence);
                // The bad kubelet names no client CA file, so 4.1.7/4.1.8 have nothing to look at.
                assert!(
                    matches!(br.status, Status::Warn | Status::NotApplicable),
                    "{} bad: {:?}",
                    c.id,
                    br.evidence
                );
            } else {
                automated += 1;
                assert_eq!(gr.status, Status::Pass, "{} good: {:?}", c.id, gr.evidence);
                assert_eq!(br.status, Status::Fail, "{} bad: {:?}", c.id, br.evidence);
                assert!(!gr.evidence.is_empty() && !br.evidence.is_empty(), "{}", c.id);
            }
        }
    }
    println!("{automated} automated controls pass once and fail once; {manual} manual controls warn");
    assert_eq!(good.summary.fail, 0);
    assert_eq!(bad.summary.pass, 0);
    // Evidence names the file and the value.
    let r = bad.results.iter().find(|r| r.id == "4.2.1").unwrap();
    assert_eq!(r.evidence, ["flag --anonymous-auth=true"]);
    let r = good.results.iter().find(|r| r.id == "4.2.1").unwrap();
    assert_eq!(r.evidence, ["/var/lib/kubelet/config.yaml: authentication.anonymous.enabled: false"]);
    let r = bad.results.iter().find(|r| r.id == "1.2.6").unwrap();
    assert_eq!(
        r.evidence,
        ["/etc/kubernetes/manifests/kube-apiserver.yaml: --authorization-mode=AlwaysAllow"]
    );
}

#[test]
fn an_empty_tree_is_not_a_kubernetes_node() {
    let dir = tempfile::tempdir().unwrap();
    let r = scan(dir.path());
    assert!(r.components.is_empty());
    for c in &r.results {
        assert!(
            matches!(c.status, Status::NotApplicable | Status::Warn),
            "{} {:?} {:?}",
            c.id,
            c.status,
            c.evidence
        );
    }
    assert_eq!(r.summary.pass + r.summary.fail, 0);
}

#[test]
fn links_out_of_the_root_are_not_followed_and_bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("etc/kubernetes/manifests")).unwrap();
    // An absolute link is taken inside the root: /etc/passwd of the host is never read.
    std::os::unix::fs::symlink(
        "/etc/kubernetes/real.yaml",
        root.join("etc/kubernetes/manifests/kube-apiserver.yaml"),
    )
    .unwrap();
    std::fs::write(root.join("etc/kubernetes/real.yaml"), manifest("kube-apiserver", &["--profiling=false"]))
        .unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../../../etc/hostname",
        root.join("etc/kubernetes/manifests/etcd.yaml"),
    )
    .unwrap();
    std::fs::write(root.join("etc/kubernetes/manifests/kube-scheduler.yaml"), "spec: [unclosed\n").unwrap();
    let r = scan(root);
    let p = r.results.iter().find(|c| c.id == "1.2.15").unwrap();
    assert_eq!(p.status, Status::Pass, "{:?}", p.evidence);
    // The etcd link resolves to <root>/etc/hostname, which does not exist: no etcd here.
    assert!(!r.components.contains(&"etcd".to_string()));
    assert!(
        r.errors.iter().any(|e| e.starts_with("/etc/kubernetes/manifests/kube-scheduler.yaml:")),
        "{:?}",
        r.errors
    );
}
