//! PAL-IMG-003: Image has no healthcheck.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct NoHealthcheck;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-003",
    title: "Image has no healthcheck",
    severity: Severity::Low,
    rationale: "Without a healthcheck the container engine cannot detect a hung container.",
    remediation: "Add a HEALTHCHECK to the image (Kubernetes users: define probes instead).",
    references: &["CIS Docker 4.6"],
    peers: &["checkov:CKV_DOCKER_2"],
    ..CheckMeta::IMG
};

impl Check for NoHealthcheck {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, _cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(cfg) = img.config else { return };
        if cfg.healthcheck.as_ref().is_none_or(|h| h.is_empty()) {
            out.push(Hit::pos(0, 0, "the image config has no healthcheck; add HEALTHCHECK"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoHealthcheck as C;
    use crate::testutil::img_hits;
    use palisade_core::ImageConfig;

    #[test]
    fn fires_and_passes() {
        assert_eq!(img_hits(&C, &ImageConfig::default()).len(), 1);
        assert_eq!(
            img_hits(
                &C,
                &ImageConfig {
                    healthcheck: Some(vec!["CMD-SHELL".into(), "true".into()]),
                    ..Default::default()
                }
            )
            .len(),
            0
        );
    }
}
