//! PAL-IMG-015: Base OS past its end of life.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct EolBase;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-015",
    title: "Base OS past its end of life",
    severity: Severity::High,
    rationale: "A release past its end of life gets no more security fixes: new vulnerabilities in its \
                packages stay open for good, and scanners may not even know about them.",
    remediation: "Rebuild on a supported release of the distribution.",
    references: &["CIS Docker 4.4", "NIST SP 800-190 3.1.1", "palisade-vulndb::eol"],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for EolBase {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, _cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(os) = img.os else { return };
        let Some(eol) = os.end_of_life.as_ref().filter(|e| e.ended) else { return };
        let name = os.pretty_name.clone().unwrap_or_else(|| format!("{} {}", os.id, os.version_id));
        out.push(Hit::pos(
            0,
            0,
            format!(
                "{name} reached its end of life on {} ({}): it gets no more security fixes",
                eol.date, eol.source
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::EolBase as C;
    use crate::image::ImageInput;
    use crate::options::CheckOptions;
    use crate::testutil::input_hits;
    use palisade_core::package::{EndOfLife, OsInfo};

    fn hits(ended: bool) -> usize {
        let os = OsInfo {
            id: "debian".into(),
            version_id: "10".into(),
            end_of_life: Some(EndOfLife { date: "2024-06-30".into(), ended, source: "test".into() }),
            ..Default::default()
        };
        let empty = crate::image::ImageFs::default();
        let img = ImageInput { os: Some(&os), ..ImageInput::fs(&empty) };
        input_hits(&C, &img, &CheckOptions::default()).len()
    }

    #[test]
    fn fires_on_fail_fixture() {
        assert_eq!(hits(true), 1);
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert_eq!(hits(false), 0);
    }
}
