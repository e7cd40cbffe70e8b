//! `user.*`: the user the process runs as, and its login user.

use super::{FieldDef, FieldType as T, absent, def, num, s};

pub(super) const FIELDS: &[FieldDef] = &[
    def("user.uid", T::Num, |c, _| num(c.event.process.uid)),
    // The name comes from the container's passwd file when the sensor could read it; uid 0 is root everywhere.
    def("user.name", T::Str, |c, _| match (&c.event.process.user, c.event.process.uid) {
        (Some(n), _) => s(n),
        (None, 0) => s("root"),
        _ => None,
    }),
    def("user.homedir", T::Str, absent),
    def("user.shell", T::Str, absent),
    // Unset login uid is reported as -1, as Falco does.
    def("user.loginuid", T::Num, |c, _| match c.event.process.loginuid {
        Some(u) if u != u32::MAX => num(u),
        _ => num(-1),
    }),
    def("user.loginname", T::Str, |c, _| match c.event.process.loginuid {
        Some(0) => s("root"),
        _ => None,
    }),
];
