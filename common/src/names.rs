//! User and group names of ids, looked up once per id: NSS lookups (a
//! passwd file read, or an LDAP query) cost more than a listing's row.

use std::collections::HashMap;

/// User and group names by id, each looked up once (`None`: no such id).
#[derive(Default)]
pub struct Names {
    users: HashMap<u32, Option<String>>,
    groups: HashMap<u32, Option<String>>,
}

impl Names {
    /// The name of user `uid`, if it has one.
    pub fn user(&mut self, uid: u32) -> Option<&str> {
        self.users
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(uid.into())
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .as_deref()
    }

    /// The name of group `gid`, if it has one.
    pub fn group(&mut self, gid: u32) -> Option<&str> {
        self.groups
            .entry(gid)
            .or_insert_with(|| {
                nix::unistd::Group::from_gid(gid.into())
                    .ok()
                    .flatten()
                    .map(|g| g.name)
            })
            .as_deref()
    }

    /// The user as ipcs and lsns show it: the name, else the number.
    pub fn owner(&mut self, uid: u32) -> String {
        self.user(uid)
            .map_or_else(|| uid.to_string(), str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_has_a_name_and_unused_ids_show_as_numbers() {
        let mut names = Names::default();
        assert_eq!(names.user(0), Some("root"));
        assert_eq!(names.group(0), Some("root"));
        // The highest id is (uid_t)-1 less one: no system gives it a name.
        assert_eq!(names.user(u32::MAX - 1), None);
        assert_eq!(names.owner(u32::MAX - 1), (u32::MAX - 1).to_string());
        assert_eq!(names.owner(0), "root");
    }
}
