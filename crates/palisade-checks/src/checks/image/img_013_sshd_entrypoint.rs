//! PAL-IMG-013: The entrypoint starts an SSH server.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct SshdEntrypoint;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-013",
    title: "Entrypoint starts an SSH server",
    severity: Severity::High,
    rationale: "An SSH server in a container is an unmanaged, unaudited way in that bypasses the orchestrator's \
                access control (`kubectl exec` is logged and authorised; sshd is not).",
    remediation: "Remove sshd from the image and its entrypoint; use `kubectl exec` or `docker exec` for \
                  debugging.",
    references: &[
        "CIS Docker 4.x (ssh in containers, 5.6)",
        "StackRox: Secure Shell Server (sshd) Execution",
    ],
    peers: &[],
    ..CheckMeta::IMG
};

/// Programs that are SSH servers.
const SERVERS: &[&str] = &["sshd", "dropbear"];

impl Check for SshdEntrypoint {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, _cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(cfg) = img.config else { return };
        let words: Vec<&str> = cfg
            .entrypoint
            .iter()
            .chain(&cfg.cmd)
            .flat_map(|a| a.split([' ', ';', '&', '|', '\t', '\n']))
            .collect();
        let runs = words.iter().enumerate().any(|(i, w)| {
            let base = w.rsplit('/').next().unwrap_or(w);
            SERVERS.contains(&base)
                // `service ssh start`, `/etc/init.d/ssh start`
                || (matches!(base, "ssh" | "sshd") && words.get(i + 1) == Some(&"start"))
        });
        if runs {
            let line = cfg.entrypoint.iter().chain(&cfg.cmd).cloned().collect::<Vec<_>>().join(" ");
            out.push(Hit::pos(0, 0, format!("the entrypoint/command starts an SSH server: {line}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SshdEntrypoint as C;
    use crate::testutil::img_hits;
    use palisade_core::ImageConfig;

    fn cmd(c: &[&str]) -> ImageConfig {
        ImageConfig { cmd: c.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn fires_on_fail_fixture() {
        assert_eq!(img_hits(&C, &cmd(&["/usr/sbin/sshd", "-D"])).len(), 1);
        assert_eq!(
            img_hits(&C, &cmd(&["/bin/sh", "-c", "service ssh start && nginx -g 'daemon off;'"])).len(),
            1
        );
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(img_hits(&C, &cmd(&["nginx", "-g", "daemon off;"])).is_empty());
        assert!(img_hits(&C, &cmd(&["ssh-agent"])).is_empty());
    }
}
