//! PAL-IMG-014: Image older than the configured age.

use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub struct OldImage;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-014",
    title: "Image older than the maximum age",
    severity: Severity::Low,
    rationale: "An image that has not been rebuilt for months carries every fix published since only if \
                someone patched it by hand; old images are where known vulnerabilities collect.",
    remediation: "Rebuild the image regularly (on a schedule and when its base changes); the limit is [image] \
                  max_age_days (default 90).",
    references: &[
        "StackRox: 90-Day Image Age",
        "CIS Docker 4.4 (rebuild images to include security patches)",
    ],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for OldImage {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(created) = img.config.and_then(|c| c.created.as_deref()) else { return };
        let Ok(when) = OffsetDateTime::parse(created, &Rfc3339) else { return };
        // Reproducible builds set `created` to the epoch (SOURCE_DATE_EPOCH=0): the age is unknown.
        if when.year() <= 1970 {
            return;
        }
        let days = (img.today - when.date()).whole_days();
        let max = i64::from(cx.opts.image.max_age_days);
        if days > max {
            out.push(Hit::pos(
                0,
                0,
                format!("the image was created {created}, {days} days ago (limit {max} days)"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OldImage as C;
    use crate::image::ImageInput;
    use crate::options::CheckOptions;
    use crate::testutil::input_hits;
    use palisade_core::ImageConfig;
    use time::macros::date;

    fn hits(created: &str, max: u32) -> usize {
        let cfg = ImageConfig { created: Some(created.into()), ..Default::default() };
        let img = ImageInput { today: date!(2026 - 12 - 06), ..ImageInput::config(&cfg) };
        let mut opts = CheckOptions::default();
        opts.image.max_age_days = max;
        input_hits(&C, &img, &opts).len()
    }

    #[test]
    fn fires_on_fail_fixture() {
        assert_eq!(hits("2026-01-02T03:04:05Z", 90), 1);
        assert_eq!(hits("2026-11-01T00:00:00.123456789+02:00", 30), 1);
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert_eq!(hits("2026-11-01T00:00:00Z", 90), 0);
        assert_eq!(hits("1970-01-01T00:00:00Z", 90), 0, "reproducible build: age unknown");
        assert_eq!(hits("not a date", 90), 0);
    }
}
