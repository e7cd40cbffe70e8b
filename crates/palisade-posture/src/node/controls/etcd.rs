//! CIS 2: etcd flags, read from its static Pod manifest.

use super::{Check, Comp, Control, Group, Test};

const REM: &str = "Edit /etc/kubernetes/manifests/etcd.yaml on the etcd node.";

const fn f(
    id: &'static str,
    title: &'static str,
    flags: &'static [&'static str],
    test: Test,
    default: Option<&'static str>,
) -> Control {
    Control {
        id,
        title,
        manual: false,
        check: Check::Flag { comp: Comp::Etcd, flags, test, default },
        remediation: REM,
    }
}

pub static GROUP: Group = Group {
    id: "2",
    title: "Etcd Node Configuration",
    controls: &[
        f("2.1", "--cert-file and --key-file are set", &["cert-file", "key-file"], Test::Set, None),
        f("2.2", "--client-cert-auth is true", &["client-cert-auth"], Test::Eq("true"), Some("false")),
        f("2.3", "--auto-tls is not true", &["auto-tls"], Test::NotEq("true"), None),
        f(
            "2.4",
            "--peer-cert-file and --peer-key-file are set",
            &["peer-cert-file", "peer-key-file"],
            Test::Set,
            None,
        ),
        f(
            "2.5",
            "--peer-client-cert-auth is true",
            &["peer-client-cert-auth"],
            Test::Eq("true"),
            Some("false"),
        ),
        f("2.6", "--peer-auto-tls is not true", &["peer-auto-tls"], Test::NotEq("true"), None),
        Control {
            manual: true,
            ..f(
                "2.7",
                "A unique Certificate Authority is used for etcd",
                &["trusted-ca-file"],
                Test::Set,
                None,
            )
        },
    ],
};
