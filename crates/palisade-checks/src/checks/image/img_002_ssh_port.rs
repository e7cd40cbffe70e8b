//! PAL-IMG-002: Image exposes port 22.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct SshPort;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-002",
    title: "Image exposes port 22",
    severity: Severity::Medium,
    rationale: "An image that exposes SSH ships an unmanaged remote-access path.",
    remediation: "Remove EXPOSE 22 and the SSH server from the image.",
    references: &["CIS Docker 4.x"],
    peers: &["checkov:CKV_DOCKER_1"],
    ..CheckMeta::IMG
};

impl Check for SshPort {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, _cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(cfg) = img.config else { return };
        if cfg.exposed_ports.iter().any(|p| p.split('/').next() == Some("22")) {
            out.push(Hit::pos(0, 0, "the image exposes port 22 (SSH); remove it"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SshPort as C;
    use crate::testutil::img_hits;
    use palisade_core::ImageConfig;

    #[test]
    fn fires_and_passes() {
        assert_eq!(
            img_hits(&C, &ImageConfig { exposed_ports: vec!["22/tcp".into()], ..Default::default() }).len(),
            1
        );
        assert_eq!(
            img_hits(&C, &ImageConfig { exposed_ports: vec!["8080/tcp".into()], ..Default::default() }).len(),
            0
        );
    }
}
