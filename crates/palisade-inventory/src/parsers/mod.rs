//! One module per file kind. Each has a doc comment saying what it reads and a fixture test beside it.

pub mod os_release;
pub mod dpkg_status;
pub mod dpkg_status_d;
pub mod apk_installed;
pub mod rpm_bdb;
pub mod rpm_header;
pub mod rpm_ndb;
pub mod rpm_sqlite;
pub mod lang_common;
pub mod npm_lock;
pub mod npm_package_json;
pub mod yarn_lock;
pub mod pnpm_lock;
pub mod python_dist_info;
pub mod poetry_lock;
pub mod pipfile_lock;
pub mod uv_lock;
pub mod pip_requirements;
pub mod cargo_lock;
pub mod composer_lock;
pub mod go_mod;
pub mod go_binary;
pub mod java_archive;
pub mod rust_auditable;
