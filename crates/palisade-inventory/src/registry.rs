//! The one place where parsers are registered. A new parser is a file under `parsers/` plus one line here.

use crate::Parser;
use crate::parsers;

/// Every parser, in no particular order (each file may be wanted by several).
pub fn all() -> Vec<Box<dyn Parser>> {
    vec![
        Box::new(parsers::os_release::OsRelease),
        // OS packages
        // Language packages
        // Binaries and archives
    ]
}
