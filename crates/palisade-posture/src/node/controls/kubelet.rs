//! CIS 4.2: kubelet settings, from its flags (systemd unit, drop-ins, environment files) or its config file.

use super::{Check, Control, Group, Test};

const REM: &str = "Set it in the kubelet config file (/var/lib/kubelet/config.yaml) and restart the kubelet.";

const fn k(
    id: &'static str,
    title: &'static str,
    flag: &'static str,
    key: &'static [&'static str],
    test: Test,
    default: Option<&'static str>,
    manual: bool,
) -> Control {
    Control { id, title, manual, check: Check::Kubelet { flag, key, test, default }, remediation: REM }
}

pub static GROUP: Group = Group {
    id: "4.2",
    title: "Kubelet",
    controls: &[
        k(
            "4.2.1",
            "--anonymous-auth is false",
            "anonymous-auth",
            &["authentication", "anonymous", "enabled"],
            Test::Eq("false"),
            Some("true"),
            false,
        ),
        k(
            "4.2.2",
            "--authorization-mode is not AlwaysAllow",
            "authorization-mode",
            &["authorization", "mode"],
            Test::NotEq("AlwaysAllow"),
            Some("AlwaysAllow"),
            false,
        ),
        k(
            "4.2.3",
            "--client-ca-file is set",
            "client-ca-file",
            &["authentication", "x509", "clientCAFile"],
            Test::Set,
            None,
            false,
        ),
        k(
            "4.2.4",
            "--read-only-port is 0",
            "read-only-port",
            &["readOnlyPort"],
            Test::Eq("0"),
            Some("0"),
            true,
        ),
        k(
            "4.2.5",
            "--streaming-connection-idle-timeout is not 0",
            "streaming-connection-idle-timeout",
            &["streamingConnectionIdleTimeout"],
            Test::NotEq("0"),
            None,
            true,
        ),
        k(
            "4.2.6",
            "--make-iptables-util-chains is true",
            "make-iptables-util-chains",
            &["makeIPTablesUtilChains"],
            Test::Eq("true"),
            Some("true"),
            false,
        ),
        k("4.2.7", "--hostname-override is not set", "hostname-override", &[], Test::NotSet, None, true),
        k(
            "4.2.8",
            "eventRecordQPS is set to capture events",
            "event-qps",
            &["eventRecordQPS"],
            Test::Set,
            None,
            true,
        ),
        k(
            "4.2.9",
            "--tls-cert-file and --tls-private-key-file are set",
            "tls-cert-file",
            &["tlsCertFile"],
            Test::Set,
            None,
            true,
        ),
        k(
            "4.2.10",
            "--rotate-certificates is not false",
            "rotate-certificates",
            &["rotateCertificates"],
            Test::NotEq("false"),
            None,
            false,
        ),
        k(
            "4.2.11",
            "RotateKubeletServerCertificate is true",
            "rotate-server-certificates",
            &["serverTLSBootstrap"],
            Test::Eq("true"),
            None,
            true,
        ),
        k(
            "4.2.12",
            "Only strong cryptographic ciphers are used",
            "tls-cipher-suites",
            &["tlsCipherSuites"],
            Test::Set,
            None,
            true,
        ),
        k("4.2.13", "A limit is set on pod PIDs", "pod-max-pids", &["podPidsLimit"], Test::Set, None, true),
    ],
};
