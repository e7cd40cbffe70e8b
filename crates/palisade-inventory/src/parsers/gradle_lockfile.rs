//! Gradle `gradle.lockfile` (dependency locking, one file per project, or `*.lockfile` per configuration in
//! `gradle/dependency-locks/`): `group:artifact:version=conf1,conf2` per locked module.
//!
//! A module locked only for test, annotation-processor or build-tool configurations (`testCompileClasspath`,
//! `testRuntimeClasspath`, `annotationProcessor`, ...) is [`Scope::Dev`]; any other configuration
//! (`compileClasspath`, `runtimeClasspath`, `releaseRuntimeClasspath`, ...) makes it `Required`. The lockfile
//! does not say which modules are direct nor record the graph. The `empty=...` line lists configurations
//! without dependencies. A line that is not `coordinates=configurations` is a warning naming the line.

use super::lang_common::{MAX_FILE_SIZE, PackageSet, file_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};

/// Parser for `gradle.lockfile` (id `gradle-lockfile`).
pub struct GradleLockfile;

/// True for configurations that do not reach the shipped artifact.
fn is_dev_configuration(conf: &str) -> bool {
    let c = conf.to_ascii_lowercase();
    c.starts_with("test")
        || c.contains("test")
        || c.starts_with("annotationprocessor")
        || c.starts_with("kapt")
        || c.starts_with("lint")
        || c.starts_with("detekt")
        || c.starts_with("ktlint")
}

impl Parser for GradleLockfile {
    fn id(&self) -> &'static str {
        "gradle-lockfile"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        let name = file_name(meta.path);
        meta.size <= MAX_FILE_SIZE
            && (name == "gradle.lockfile"
                || (name.ends_with(".lockfile") && meta.path.contains("gradle/dependency-locks/")))
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = input.text()?;
        let mut set = PackageSet::new();
        let mut lines_read = 0;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (coords, confs) = line.split_once('=').unwrap_or((line, ""));
            if coords == "empty" {
                lines_read += 1;
                continue;
            }
            let parts: Vec<&str> = coords.split(':').collect();
            let [group, artifact, version] = parts.as_slice() else {
                out.warnings
                    .push(format!("line {}: not `group:artifact:version=configurations`; skipped", n + 1));
                continue;
            };
            if group.is_empty() || artifact.is_empty() || version.is_empty() {
                out.warnings.push(format!("line {}: empty coordinate; skipped", n + 1));
                continue;
            }
            lines_read += 1;
            let name = format!("{group}:{artifact}");
            let mut pkg = Package::new(Ecosystem::Maven, &name, *version, input.location(), self.id());
            let confs: Vec<&str> = confs.split(',').map(str::trim).filter(|c| !c.is_empty()).collect();
            pkg.scope = if !confs.is_empty() && confs.iter().all(|c| is_dev_configuration(c)) {
                Scope::Dev
            } else {
                Scope::Required
            };
            set.add(pkg);
        }
        if lines_read == 0 && !out.warnings.is_empty() {
            return Err(ParseError::new(
                "no `group:artifact:version=configurations` line: not a Gradle lockfile",
            ));
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/gradle/gradle.lockfile");

    #[test]
    fn locked_modules_and_scopes() {
        let out = run(&GradleLockfile, "app/gradle.lockfile", LOCK).unwrap();
        assert_eq!(out.packages.len(), 5, "{:?}", out.packages);
        let guava = get(&out, "com.google.guava:guava", "32.1.2-jre");
        assert_eq!(guava.purl, "pkg:maven/com.google.guava/guava@32.1.2-jre");
        assert_eq!(guava.scope, Scope::Required);
        assert_eq!(get(&out, "junit:junit", "4.13.2").scope, Scope::Dev);
        assert_eq!(get(&out, "org.hamcrest:hamcrest-core", "1.3").scope, Scope::Dev);
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn malformed() {
        assert!(run(&GradleLockfile, "gradle.lockfile", b"hello world\n").is_err());
        let out = run(&GradleLockfile, "gradle.lockfile", b"a:b:1=x\nbroken-line\n").unwrap();
        assert_eq!((out.packages.len(), out.warnings.len()), (1, 1));
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&GradleLockfile, "gradle.lockfile", LOCK);
    }
}
