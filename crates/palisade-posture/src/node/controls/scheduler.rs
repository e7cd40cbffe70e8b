//! CIS 1.4: scheduler flags, read from its static Pod manifest.

use super::{Check, Comp, Control, Group, Test};

const REM: &str = "Edit /etc/kubernetes/manifests/kube-scheduler.yaml on the control plane node.";

pub static GROUP: Group = Group {
    id: "1.4",
    title: "Scheduler",
    controls: &[
        Control {
            id: "1.4.1",
            title: "--profiling is false",
            manual: false,
            check: Check::Flag {
                comp: Comp::Scheduler,
                flags: &["profiling"],
                test: Test::Eq("false"),
                default: Some("true"),
            },
            remediation: REM,
        },
        Control {
            id: "1.4.2",
            title: "--bind-address is 127.0.0.1",
            manual: false,
            check: Check::Flag {
                comp: Comp::Scheduler,
                flags: &["bind-address"],
                test: Test::Eq("127.0.0.1"),
                default: Some("0.0.0.0"),
            },
            remediation: REM,
        },
    ],
};
