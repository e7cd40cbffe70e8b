//! One module per file kind. Each has a doc comment saying what it reads and a fixture test beside it.

pub mod os_release;
pub mod dpkg_status;
pub mod dpkg_status_d;
pub mod apk_installed;
pub mod rpm_bdb;
pub mod rpm_header;
pub mod rpm_ndb;
pub mod rpm_sqlite;
