//! PAL-IMG-007: Network tool in the final image.

use super::tools::{self, Kind};
use crate::check::{Check, CheckMeta, DfCx, Hit};
use crate::image::ImageInput;
use palisade_core::findings::misconfig::Severity;

pub struct NetworkTools;

static META: CheckMeta = CheckMeta {
    id: "PAL-IMG-007",
    title: "Network tool in the final image",
    severity: Severity::Medium,
    rationale: "curl, wget, nc/ncat/socat, nmap, telnet, ssh and tcpdump are what an attacker uses to download \
                payloads, open reverse shells, scan the cluster network and move laterally.",
    remediation: "Leave download tools in the build stage; use the application's own HTTP client for health \
                  checks; or allow the tool with [image] allowed_tools.",
    references: &[
        "CIS Docker 4.3",
        "StackRox: Curl in Image",
        "StackRox: Netcat Execution Detected (runtime)",
    ],
    peers: &[],
    ..CheckMeta::IMG
};

impl Check for NetworkTools {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn image(&self, img: &ImageInput<'_>, cx: &DfCx<'_>, out: &mut Vec<Hit>) {
        let Some(fs) = img.fs else { return };
        tools::report(fs, Kind::Network, cx, &|_| false, out);
    }
}

#[cfg(test)]
mod tests {
    use super::NetworkTools as C;
    use crate::image::fixture::fs;
    use crate::options::CheckOptions;
    use crate::testutil::{fs_hits, input_hits};

    fn fail() -> crate::image::ImageFs {
        fs(&[
            ("usr/bin/curl", 'f', 0o755, 0, None),
            ("usr/bin/nc", 'l', 0o777, 0, Some("/etc/alternatives/nc")),
            ("etc/alternatives/nc", 'l', 0o777, 0, Some("/usr/bin/nc.openbsd")),
            ("usr/bin/nc.openbsd", 'f', 0o755, 0, None),
            ("bin/wget", 'l', 0o777, 0, Some("/bin/busybox")),
            ("bin/busybox", 'f', 0o755, 0, None),
        ])
    }

    #[test]
    fn fires_on_fail_fixture() {
        let files: Vec<_> = fs_hits(&C, &fail()).into_iter().filter_map(|h| h.file).collect();
        assert_eq!(files, ["bin/wget", "usr/bin/curl", "usr/bin/nc.openbsd"]);
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(fs_hits(&C, &fs(&[("usr/bin/ssh-keygen", 'f', 0o755, 0, None)])).is_empty());
    }

    #[test]
    fn allow_lists_by_name_and_path() {
        let mut opts = CheckOptions::default();
        opts.image.allowed_tools = vec!["curl".into(), "nc".into()];
        opts.image.allowed_paths = vec!["bin/*".into()];
        let f = fail();
        let hits = input_hits(&C, &crate::image::ImageInput::fs(&f), &opts);
        assert!(hits.is_empty(), "{hits:?}");
    }
}
