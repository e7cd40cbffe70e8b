//! The one place where parsers are registered. A new parser is a file under `parsers/` plus one line here.

use crate::Parser;
use crate::parsers;

/// Every parser, in no particular order (each file may be wanted by several).
pub fn all() -> Vec<Box<dyn Parser>> {
    vec![
        Box::new(parsers::os_release::OsRelease),
        // OS packages
        Box::new(parsers::dpkg_status::DpkgStatus),
        Box::new(parsers::dpkg_status_d::DpkgStatusD),
        Box::new(parsers::apk_installed::ApkInstalled),
        Box::new(parsers::rpm_sqlite::RpmSqlite),
        Box::new(parsers::rpm_bdb::RpmBdb),
        Box::new(parsers::rpm_ndb::RpmNdb),
        // Language packages
        Box::new(parsers::npm_lock::NpmPackageLock),
        Box::new(parsers::npm_package_json::NpmPackageJson),
        Box::new(parsers::yarn_lock::YarnLock),
        Box::new(parsers::pnpm_lock::PnpmLock),
        Box::new(parsers::python_dist_info::PythonDistInfo),
        Box::new(parsers::poetry_lock::PoetryLock),
        Box::new(parsers::pipfile_lock::PipfileLock),
        Box::new(parsers::uv_lock::UvLock),
        Box::new(parsers::pip_requirements::PipRequirements),
        Box::new(parsers::cargo_lock::CargoLock),
        Box::new(parsers::composer_lock::ComposerLock),
        Box::new(parsers::gemfile_lock::GemfileLock),
        Box::new(parsers::gemspec::Gemspec),
        Box::new(parsers::nuget_packages_lock::NugetPackagesLock),
        Box::new(parsers::dotnet_deps::DotnetDeps),
        Box::new(parsers::maven_pom::MavenPom),
        Box::new(parsers::maven_repository::MavenRepositoryPom),
        Box::new(parsers::gradle_lockfile::GradleLockfile),
        Box::new(parsers::gradle_catalog::GradleVersionCatalog),
        Box::new(parsers::nuget_packages_config::NugetPackagesConfig),
        Box::new(parsers::nuget_central_versions::NugetCentralVersions),
        Box::new(parsers::nuget_assets::NugetProjectAssets),
        Box::new(parsers::pylock::Pylock),
        Box::new(parsers::pdm_lock::PdmLock),
        Box::new(parsers::bun_lock::BunLock),
        Box::new(parsers::pubspec_lock::PubspecLock),
        Box::new(parsers::swift_resolved::SwiftPackageResolved),
        Box::new(parsers::podfile_lock::PodfileLock),
        Box::new(parsers::mix_lock::MixLock),
        Box::new(parsers::conan_lock::ConanLock),
        Box::new(parsers::renv_lock::RenvLock),
        Box::new(parsers::stack_lock::StackLock),
        Box::new(parsers::julia_manifest::JuliaManifest),
        // Project manifests: they name the root projects of the lockfiles beside them.
        Box::new(parsers::project_manifest::ProjectManifest),
        // Manifests of formats not read: listed in the report as not inventoried.
        Box::new(parsers::not_inventoried::NotInventoriedManifest),
        // Binaries and archives
        Box::new(parsers::go_mod::GoMod),
        Box::new(parsers::go_sum::GoSum),
        Box::new(parsers::go_vendor::GoVendorModules),
        Box::new(parsers::go_binary::GoBinary),
        Box::new(parsers::java_archive::JavaArchive),
        Box::new(parsers::rust_auditable::CargoAuditable),
    ]
}
