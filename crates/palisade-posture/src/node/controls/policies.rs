//! CIS 3: control plane configuration that no file shows (authentication use, audit policy): manual.

use super::{Check, Control, Group};

const fn m(id: &'static str, title: &'static str, remediation: &'static str) -> Control {
    Control { id, title, manual: true, check: Check::Manual, remediation }
}

pub static AUTH: Group = Group {
    id: "3.1",
    title: "Authentication and Authorization",
    controls: &[
        m(
            "3.1.1",
            "Client certificate authentication is not used for users",
            "Use OIDC or another identity provider for users.",
        ),
        m(
            "3.1.2",
            "Service account token authentication is not used for users",
            "Use OIDC or another identity provider for users.",
        ),
        m(
            "3.1.3",
            "Bootstrap token authentication is not used for users",
            "Use OIDC or another identity provider for users.",
        ),
    ],
};

pub static LOGGING: Group = Group {
    id: "3.2",
    title: "Logging",
    controls: &[
        m("3.2.1", "A minimal audit policy is created", "Give the API server an --audit-policy-file."),
        m(
            "3.2.2",
            "The audit policy covers key security concerns",
            "Log Secrets, ConfigMaps and TokenReviews at Metadata level, pods/exec and attach at Request level.",
        ),
    ],
};
