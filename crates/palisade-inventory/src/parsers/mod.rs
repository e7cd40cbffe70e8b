//! One module per file kind. Each has a doc comment saying what it reads and a fixture test beside it.

pub mod os_release;
