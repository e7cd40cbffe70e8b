//! PAL-IMG-001: Image runs as root.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct RootUser;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-001",
    title: "Image runs as root",
    severity: Severity::High,
    rationale: "An image whose config has no User (or root/0) starts its process as UID 0.",
    remediation: "Set USER to a non-root UID in the Dockerfile of the image.",
    references: &["CIS Docker 4.1"],
    peers: &["trivy:DS-0002"],
    ..CheckMeta::IMG
};

impl Check for RootUser {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, _cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(cfg) = img.config else { return };
        let user = cfg.user.as_deref().unwrap_or("").trim();
        let name = user.split(':').next().unwrap_or("");
        if name.is_empty() || name == "root" || name == "0" {
            out.push(Hit::pos(
                0,
                0,
                "the image config runs as root (User is empty, root or 0); set a non-root USER",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RootUser as C;
    use crate::testutil::img_hits;
    use palisade_core::ImageConfig;

    #[test]
    fn fires_and_passes() {
        assert_eq!(img_hits(&C, &ImageConfig::default()).len(), 1);
        assert_eq!(img_hits(&C, &ImageConfig { user: Some("0:0".into()), ..Default::default() }).len(), 1);
        assert_eq!(img_hits(&C, &ImageConfig { user: Some("10001".into()), ..Default::default() }).len(), 0);
    }
}
