//! Namespace kinds: their clone flags, their names in /proc/PID/ns and on
//! the command line of unshare, nsenter and lsns.

use nix::sched::CloneFlags;

/// CLONE_NEWTIME is missing from nix.
pub const CLONE_NEWTIME: CloneFlags = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);

/// A kind of namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Mnt,
    Net,
    Pid,
    Uts,
    Ipc,
    User,
    Cgroup,
    Time,
}

impl Kind {
    /// All kinds, in the order lsns lists its types.
    pub const ALL: [Kind; 8] = [
        Kind::Mnt,
        Kind::Net,
        Kind::Pid,
        Kind::Uts,
        Kind::Ipc,
        Kind::User,
        Kind::Cgroup,
        Kind::Time,
    ];

    /// The name of the file in /proc/PID/ns and of the lsns TYPE.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mnt => "mnt",
            Kind::Net => "net",
            Kind::Pid => "pid",
            Kind::Uts => "uts",
            Kind::Ipc => "ipc",
            Kind::User => "user",
            Kind::Cgroup => "cgroup",
            Kind::Time => "time",
        }
    }

    /// The kind named `name`, as lsns -t and /proc/PID/ns spell it.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn clone_flag(self) -> CloneFlags {
        match self {
            Kind::Mnt => CloneFlags::CLONE_NEWNS,
            Kind::Net => CloneFlags::CLONE_NEWNET,
            Kind::Pid => CloneFlags::CLONE_NEWPID,
            Kind::Uts => CloneFlags::CLONE_NEWUTS,
            Kind::Ipc => CloneFlags::CLONE_NEWIPC,
            Kind::User => CloneFlags::CLONE_NEWUSER,
            Kind::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Kind::Time => CLONE_NEWTIME,
        }
    }

    /// `/proc/PID/ns/NAME`; `pid` None means `self`.
    pub fn proc_path(self, pid: Option<i32>) -> std::path::PathBuf {
        match pid {
            Some(pid) => format!("/proc/{pid}/ns/{}", self.name()).into(),
            None => format!("/proc/self/ns/{}", self.name()).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(Kind::from_name("mount"), None);
    }
}
