//! A scan report exercising every feature the SBOM renderers map: an image with layers, an OS, OS packages
//! with source packages and a dependency graph, scoped and grouped names, licences of every kind, a package
//! found in three places, dev and optional scopes, metadata, root projects.

#![allow(dead_code)]

use palisade_core::{
    ArtifactInfo, ArtifactKind, Ecosystem, LayerInfo, Location, OsInfo, Package, ScanReport, Scope,
    SourcePackage, Warning,
};
use std::path::PathBuf;

pub fn deb(name: &str, version: &str, source: Option<(&str, &str)>, deps: &[&str]) -> Package {
    let mut p = Package::new(
        Ecosystem::Deb,
        name,
        version,
        Location::new("var/lib/dpkg/status", Some(0)),
        "dpkg-status",
    );
    p.purl = format!("pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12");
    p.arch = Some("amd64".into());
    p.source = source.map(|(n, v)| SourcePackage { name: n.into(), version: v.into() });
    p.dependencies = deps.iter().map(|d| format!("pkg:deb/debian/{d}?arch=amd64&distro=debian-12")).collect();
    p.licenses = vec!["GPL-2.0-or-later".into()];
    p
}

pub fn image_report() -> ScanReport {
    let mut a = ArtifactInfo::new(ArtifactKind::Image, "registry.example/team/app:1.2");
    a.id = Some("sha256:1111111111111111111111111111111111111111111111111111111111111111".into());
    a.repo_digests = vec![
        "registry.example/team/app@sha256:2222222222222222222222222222222222222222222222222222222222222222"
            .into(),
    ];
    a.repo_tags = vec!["registry.example/team/app:1.2".into()];
    a.platform = Some("linux/amd64".into());
    a.layers = vec![
        LayerInfo {
            index: 0,
            digest: None,
            diff_id: Some("sha256:aaaa".into()),
            created_by: None,
            size: None,
        },
        LayerInfo {
            index: 1,
            digest: None,
            diff_id: Some("sha256:bbbb".into()),
            created_by: None,
            size: None,
        },
    ];
    let mut r = ScanReport::new(a, "2026-05-06T07:08:09.123456Z");
    r.os = Some(OsInfo {
        id: "debian".into(),
        version_id: "12".into(),
        codename: Some("bookworm".into()),
        pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        id_like: vec![],
        distroless: false,
        end_of_life: None,
    });

    let libc = deb("libc6", "2.36-9+deb12u4", Some(("glibc", "2.36-9+deb12u4")), &[]);
    let ssl =
        deb("libssl3", "3.0.11-1~deb12u2", Some(("openssl", "3.0.11-1~deb12u2")), &["libc6@2.36-9+deb12u4"]);
    let mut zlib =
        deb("zlib1g", "1:1.2.13.dfsg-1", Some(("zlib", "1:1.2.13.dfsg-1")), &["libc6@2.36-9+deb12u4"]);
    zlib.purl = "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12&epoch=1".into();
    zlib.metadata.insert("epoch".into(), "1".into());
    zlib.licenses = vec!["Zlib".into()];

    let mut express = Package::new(
        Ecosystem::Npm,
        "express",
        "4.18.2",
        Location::new("app/package-lock.json", Some(1)),
        "npm-package-lock",
    );
    express.licenses = vec!["MIT".into()];
    express.direct = Some(true);
    express.dependencies = vec!["pkg:npm/cookie@0.5.0".into(), "pkg:npm/not-in-report@1.0.0".into()];
    let mut cookie = Package::new(
        Ecosystem::Npm,
        "cookie",
        "0.5.0",
        Location::new("app/package-lock.json", Some(1)),
        "npm-package-lock",
    );
    cookie.direct = Some(false);
    let mut types = Package::new(
        Ecosystem::Npm,
        "@types/node",
        "20.11.0",
        Location::new("app/package-lock.json", Some(1)),
        "npm-package-lock",
    );
    types.scope = Scope::Dev;
    types.licenses = vec!["MIT".into()];
    let mut fsevents = Package::new(
        Ecosystem::Npm,
        "fsevents",
        "2.3.3",
        Location::new("app/package-lock.json", Some(1)),
        "npm-package-lock",
    );
    fsevents.scope = Scope::Optional;

    let mut log4j = Package::new(
        Ecosystem::Maven,
        "org.apache.logging.log4j:log4j-core",
        "2.14.1",
        Location::new("app/lib/log4j-core-2.14.1.jar", Some(1)),
        "java-archive",
    );
    log4j.licenses = vec!["Apache License, Version 2.0".into()];
    log4j.metadata.insert("manifest:Implementation-Title".into(), "Apache Log4j Core".into());

    let mut serde = Package::new(
        Ecosystem::Cargo,
        "serde",
        "1.0.200",
        Location::new("app/Cargo.lock", Some(1)),
        "cargo-lock",
    );
    serde.licenses = vec!["MIT OR Apache-2.0".into()];
    let mut dual = Package::new(
        Ecosystem::Cargo,
        "ring",
        "0.17.8",
        Location::new("app/Cargo.lock", Some(1)),
        "cargo-lock",
    );
    dual.licenses = vec!["MIT AND ISC".into(), "OpenSSL".into()];

    let mut django = Package::new(
        Ecosystem::PyPI,
        "Django",
        "4.2.1",
        Location::new("app/requirements.txt", Some(1)),
        "pip-requirements",
    );
    django.licenses = vec!["BSD License".into(), "LicenseRef-django-extra".into()];

    let net = Package::new(
        Ecosystem::Golang,
        "golang.org/x/net",
        "v0.17.0",
        Location::new("usr/local/bin/app", Some(1)),
        "go-binary",
    );
    let stdlib = Package::new(
        Ecosystem::Golang,
        "stdlib",
        "1.21.3",
        Location::new("usr/local/bin/app", Some(1)),
        "go-binary",
    );
    let monolog = Package::new(
        Ecosystem::Composer,
        "monolog/monolog",
        "3.5.0",
        Location::new("app/composer.lock", Some(1)),
        "composer-lock",
    );
    let rack = Package::new(
        Ecosystem::Gem,
        "rack",
        "3.0.8",
        Location::new("app/Gemfile.lock", Some(1)),
        "gemfile-lock",
    );
    let json = Package::new(
        Ecosystem::Nuget,
        "Newtonsoft.Json",
        "13.0.3",
        Location::new("app/packages.lock.json", Some(1)),
        "nuget-lock",
    );

    // The same library installed twice and locked: one package, three locations.
    let mut lodash = Package::new(
        Ecosystem::Npm,
        "lodash",
        "4.17.21",
        Location::new("app/a/node_modules/lodash/package.json", Some(1)),
        "npm-package-json",
    );
    lodash.locations.push(Location::new("app/b/node_modules/lodash/package.json", Some(2)));
    lodash.locations.push(Location::new("app/package-lock.json", Some(1)));

    r.packages = vec![
        libc, ssl, zlib, express, cookie, types, fsevents, log4j, serde, dual, django, net, stdlib, monolog,
        rack, json, lodash,
    ];
    r.warnings.push(
        Warning::new("npm-package-lock", "lockfile version 1 is read partially")
            .at("app/package-lock.json", Some(1)),
    );
    r
}

/// A directory scan without OS, layers or licences.
pub fn fs_report() -> ScanReport {
    let mut r =
        ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "./my project"), "2026-05-06T07:08:09+02:00");
    r.packages = vec![
        Package::new(Ecosystem::Cargo, "anyhow", "1.0.80", Location::new("Cargo.lock", None), "cargo-lock"),
        Package::new(Ecosystem::Cargo, "thiserror", "2.0.0", Location::new("Cargo.lock", None), "cargo-lock"),
    ];
    r
}

/// A project tree with one root project (the subject of its SBOMs).
pub fn fs_project_report() -> ScanReport {
    let mut r = fs_report();
    let mut app =
        Package::new(Ecosystem::Cargo, "my-app", "0.3.0", Location::new("Cargo.lock", None), "cargo-lock");
    app.dependencies = vec!["pkg:cargo/anyhow@1.0.80".into()];
    r.projects = vec![app];
    r
}

/// The image with two root projects: the lockfile's and a Go binary's own module.
pub fn image_projects_report() -> ScanReport {
    let mut r = image_report();
    let mut web = Package::new(
        Ecosystem::Npm,
        "@acme/web",
        "1.0.0",
        Location::new("app/package-lock.json", Some(1)),
        "npm-package-lock",
    );
    web.locations.push(Location::new("app/package.json", Some(1)));
    web.dependencies = vec!["pkg:npm/express@4.18.2".into()];
    let mut tool = Package::new(
        Ecosystem::Golang,
        "example.com/tool",
        "v1.2.0",
        Location::new("usr/local/bin/app", Some(1)),
        "go-binary",
    );
    tool.metadata.insert("main".into(), "true".into());
    tool.dependencies = vec!["pkg:golang/golang.org/x/net@v0.17.0".into(), "pkg:golang/stdlib@1.21.3".into()];
    r.projects = vec![web, tool];
    r
}

pub fn render(r: &ScanReport, f: palisade_report::Format) -> Vec<u8> {
    let mut buf = Vec::new();
    palisade_report::render(r, f, &mut buf).expect("render");
    buf
}

pub fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

pub fn inventory_fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-inventory/tests/fixtures/sbom")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
