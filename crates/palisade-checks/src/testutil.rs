//! Test helpers: run one check on inline fixtures.

use crate::check::{Check, DfCx, Hit, K8sCx};
use crate::dockerfile::Dockerfile;
use crate::image::{ImageFs, ImageInput};
use crate::k8s::Object;
use crate::options::{CheckOptions, K8sVersion};
use crate::relate::Index;
use crate::yaml::load_all;
use palisade_core::ImageConfig;

/// A pod that breaks most baseline and restricted rules.
pub const FAIL_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: nginx\n    securityContext:\n      privileged: true\n";

/// A minimal Pod with extra lines in `spec` (indented 2) and in its only container (indented 4).
pub fn pod_with(spec_extra: &str, container_extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: apps\nspec:\n  {spec_extra}\n  containers:\n  - name: c\n    image: registry.example.com/app:1.0\n    {container_extra}\n"
    )
}

/// Hits of one check on every object of `yaml`, at the newest Kubernetes version.
pub fn hits(check: &dyn Check, yaml: &str) -> Vec<Hit> {
    hits_opts(check, yaml, &CheckOptions::default())
}

/// Hits at Kubernetes 1.`minor`.
pub fn hits_v(check: &dyn Check, yaml: &str, minor: u32) -> Vec<Hit> {
    let opts = CheckOptions { k8s_version: Some(format!("1.{minor}")), ..Default::default() };
    hits_opts(check, yaml, &opts)
}

/// Hits with options.
pub fn hits_opts(check: &dyn Check, yaml: &str, opts: &CheckOptions) -> Vec<Hit> {
    let objects: Vec<Object> =
        load_all(yaml).into_iter().filter_map(Result::ok).flat_map(Object::expand).collect();
    let version = opts
        .k8s_version
        .as_deref()
        .map(K8sVersion::parse)
        .transpose()
        .ok()
        .flatten()
        .unwrap_or(K8sVersion::NEWEST);
    if !crate::engine::applies(check.meta(), version) {
        return Vec::new();
    }
    // The objects of the fixture are the whole scan: relational judgements run against their index.
    let cx = K8sCx::new(opts, version);
    let mut out = Vec::new();
    for o in &objects {
        check.k8s(o, &cx, &mut out);
    }
    let index = Index::of(&objects);
    for judge in cx.take_judges() {
        judge(&index, &mut out);
    }
    out
}

/// Hits of one check on an image config.
pub fn img_hits(check: &dyn Check, cfg: &ImageConfig) -> Vec<Hit> {
    input_hits(check, &ImageInput::config(cfg), &CheckOptions::default())
}

/// Hits of one check on an image filesystem.
pub fn fs_hits(check: &dyn Check, fs: &ImageFs) -> Vec<Hit> {
    input_hits(check, &ImageInput::fs(fs), &CheckOptions::default())
}

/// Hits of one image check with options.
pub fn input_hits(check: &dyn Check, img: &ImageInput<'_>, opts: &CheckOptions) -> Vec<Hit> {
    let mut out = Vec::new();
    check.image(img, &DfCx { opts }, &mut out);
    out
}

/// Hits of one check on a Dockerfile.
pub fn df_hits(check: &dyn Check, text: &str) -> Vec<Hit> {
    df_hits_opts(check, text, &CheckOptions::default())
}

pub fn df_hits_opts(check: &dyn Check, text: &str, opts: &CheckOptions) -> Vec<Hit> {
    let d = Dockerfile::parse(text).unwrap_or_else(|e| panic!("fixture does not parse: {e:?}"));
    let mut out = Vec::new();
    check.dockerfile(&d, &DfCx { opts }, &mut out);
    out
}

/// The two fixture tests every check file has: `fires_on_fail_fixture` (the check reports at least one
/// hit on `FAIL`) and `silent_on_pass_fixture` (no hit on `PASS`). The first argument picks the runner:
/// `k8s` runs [`hits`] on YAML, `dockerfile` runs [`df_hits`] on a Dockerfile.
macro_rules! fixture_tests {
    (k8s, $check:expr, pass: $pass:expr, fail: $fail:expr $(,)?) => {
        $crate::testutil::fixture_tests!(@tests $crate::testutil::hits, $check, $pass, $fail);
    };
    (dockerfile, $check:expr, pass: $pass:expr, fail: $fail:expr $(,)?) => {
        $crate::testutil::fixture_tests!(@tests $crate::testutil::df_hits, $check, $pass, $fail);
    };
    (@tests $run:path, $check:expr, $pass:expr, $fail:expr) => {
        #[test]
        fn fires_on_fail_fixture() {
            assert!(!$run(&$check, $fail).is_empty());
        }

        #[test]
        fn silent_on_pass_fixture() {
            let found = $run(&$check, $pass);
            assert!(found.is_empty(), "{found:?}");
        }
    };
}
pub(crate) use fixture_tests;
