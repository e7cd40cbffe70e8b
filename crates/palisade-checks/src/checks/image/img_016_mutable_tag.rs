//! PAL-IMG-016: Image named by a mutable tag only.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct MutableTag;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-016",
    title: "Image named by a mutable tag only",
    severity: Severity::Low,
    rationale: "A tag can be moved to another image at any time, so what was scanned is not necessarily what \
                gets deployed; a digest names exactly one image.",
    remediation: "Deploy and scan the image by digest (`name@sha256:...`).",
    references: &["CIS Docker 4.5 (content trust)"],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for MutableTag {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, _cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(a) = img.artifact else { return };
        // Only a reference the user named (an engine or a registry); archives are named by a path.
        if a.source.as_deref().is_none_or(|s| s == "archive") || a.name.contains('@') {
            return;
        }
        let pin = match a.repo_digests.first() {
            Some(d) => format!(" ({d})"),
            None => String::new(),
        };
        out.push(Hit::pos(
            0,
            0,
            format!("the image was named {} without a digest; pin it by digest{pin}", a.name),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::MutableTag as C;
    use crate::image::ImageInput;
    use crate::options::CheckOptions;
    use crate::testutil::input_hits;
    use palisade_core::{ArtifactInfo, ArtifactKind};

    fn hits(name: &str, source: &str) -> usize {
        let mut a = ArtifactInfo::new(ArtifactKind::Image, name);
        a.source = Some(source.into());
        a.repo_digests = vec!["alpine@sha256:abc".into()];
        let empty = crate::image::ImageFs::default();
        let img = ImageInput { artifact: Some(&a), ..ImageInput::fs(&empty) };
        input_hits(&C, &img, &CheckOptions::default()).len()
    }

    #[test]
    fn fires_on_fail_fixture() {
        assert_eq!(hits("alpine:3.20", "registry"), 1);
        assert_eq!(hits("alpine", "docker"), 1);
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert_eq!(hits("alpine@sha256:abc", "registry"), 0);
        assert_eq!(hits("/tmp/image.tar", "archive"), 0);
    }
}
