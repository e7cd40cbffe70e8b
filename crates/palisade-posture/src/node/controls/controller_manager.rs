//! CIS 1.3: controller manager flags, read from its static Pod manifest.

use super::{Check, Comp, Control, Group, Test};

const fn f(
    id: &'static str,
    title: &'static str,
    flag: &'static [&'static str],
    test: Test,
    default: Option<&'static str>,
) -> Control {
    Control {
        id,
        title,
        manual: false,
        check: Check::Flag { comp: Comp::ControllerManager, flags: flag, test, default },
        remediation: "Edit /etc/kubernetes/manifests/kube-controller-manager.yaml on the control plane node.",
    }
}

pub static GROUP: Group = Group {
    id: "1.3",
    title: "Controller Manager",
    controls: &[
        Control {
            manual: true,
            ..f(
                "1.3.1",
                "--terminated-pod-gc-threshold is set as appropriate",
                &["terminated-pod-gc-threshold"],
                Test::Set,
                None,
            )
        },
        f("1.3.2", "--profiling is false", &["profiling"], Test::Eq("false"), Some("true")),
        f(
            "1.3.3",
            "--use-service-account-credentials is true",
            &["use-service-account-credentials"],
            Test::Eq("true"),
            Some("false"),
        ),
        f(
            "1.3.4",
            "--service-account-private-key-file is set",
            &["service-account-private-key-file"],
            Test::Set,
            None,
        ),
        f("1.3.5", "--root-ca-file is set", &["root-ca-file"], Test::Set, None),
        f(
            "1.3.6",
            "RotateKubeletServerCertificate is true",
            &["feature-gates"],
            Test::Lacks("RotateKubeletServerCertificate=false"),
            None,
        ),
        f("1.3.7", "--bind-address is 127.0.0.1", &["bind-address"], Test::Eq("127.0.0.1"), Some("0.0.0.0")),
    ],
};
