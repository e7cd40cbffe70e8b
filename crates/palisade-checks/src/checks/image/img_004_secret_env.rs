//! PAL-IMG-004: Secret in the image environment or labels.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct SecretEnv;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-004",
    title: "Secret in the image environment or labels",
    severity: Severity::High,
    rationale: "Environment variables and labels in the image config are readable by anyone who can pull the \
                image.",
    remediation: "Remove the variable or label from the image; inject secrets at run time.",
    references: &["CIS Docker 4.10"],
    peers: &["trivy:DS-0031"],
    ..CheckMeta::IMG
};

impl Check for SecretEnv {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, _cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(cfg) = img.config else { return };
        for e in &cfg.env {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            if crate::checks::k8s::helpers::secret_like(k) && !v.is_empty() {
                out.push(Hit::pos(
                    0,
                    0,
                    format!("the image environment sets {k}; remove secrets from the image"),
                ));
            }
        }
        for (k, v) in &cfg.labels {
            // `org.example.db-password`: judge the last dotted component.
            let last = k.rsplit(['.', '/']).next().unwrap_or(k);
            if crate::checks::k8s::helpers::secret_like(last) && !v.is_empty() {
                out.push(Hit::pos(
                    0,
                    0,
                    format!("the image label {k} holds a value; remove secrets from labels"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SecretEnv as C;
    use crate::testutil::img_hits;
    use palisade_core::ImageConfig;

    #[test]
    fn fires_and_passes() {
        assert_eq!(
            img_hits(&C, &ImageConfig { env: vec!["DB_PASSWORD=x".into()], ..Default::default() }).len(),
            1
        );
        assert_eq!(
            img_hits(&C, &ImageConfig { env: vec!["PATH=/usr/bin".into()], ..Default::default() }).len(),
            0
        );
        let labelled =
            |k: &str| ImageConfig { labels: [(k.to_string(), "x".to_string())].into(), ..Default::default() };
        assert_eq!(img_hits(&C, &labelled("com.example.db-password")).len(), 1);
        assert_eq!(img_hits(&C, &labelled("org.opencontainers.image.source")).len(), 0);
    }
}
