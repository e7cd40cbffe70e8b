//! `group.*`: the group the process runs as.

use super::{FieldDef, FieldType as T, def, num, s};

pub(super) const FIELDS: &[FieldDef] = &[
    def("group.gid", T::Num, |c, _| num(c.event.process.gid)),
    def("group.name", T::Str, |c, _| if c.event.process.gid == 0 { s("root") } else { None }),
];
