//! lsns's output columns: names, help, JSON types and width hints, and
//! the `-H` list of them.

use crate::table::{Column, Table};

/// An output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Ns,
    Type,
    Path,
    Nprocs,
    Pid,
    Ppid,
    Command,
    Uid,
    User,
    Netnsid,
    Nsfs,
    Pns,
    Ons,
}

/// Every column: name, help, JSON number, lsns's width hint.
pub(crate) const COLUMNS: [(Col, &str, &str, bool, usize); 13] = [
    (
        Col::Ns,
        "NS",
        "namespace identifier (inode number)",
        true,
        10,
    ),
    (Col::Type, "TYPE", "kind of namespace", false, 5),
    (Col::Path, "PATH", "path to the namespace", false, 0),
    (
        Col::Nprocs,
        "NPROCS",
        "number of processes in the namespace",
        true,
        5,
    ),
    (Col::Pid, "PID", "lowest PID in the namespace", true, 5),
    (Col::Ppid, "PPID", "PPID of the PID", true, 5),
    (Col::Command, "COMMAND", "command line of the PID", false, 0),
    (Col::Uid, "UID", "UID of the PID", true, 0),
    (Col::User, "USER", "username of the PID", false, 0),
    (
        Col::Netnsid,
        "NETNSID",
        "namespace ID as used by network subsystem",
        false,
        0,
    ),
    (
        Col::Nsfs,
        "NSFS",
        "nsfs mountpoint (usually used network subsystem)",
        false,
        0,
    ),
    (
        Col::Pns,
        "PNS",
        "parent namespace identifier (inode number)",
        true,
        10,
    ),
    (
        Col::Ons,
        "ONS",
        "owner namespace identifier (inode number)",
        true,
        10,
    ),
];

impl Col {
    pub(crate) fn info(self) -> (&'static str, bool, usize) {
        let (_, name, _, number, hint) = COLUMNS[self as usize];
        (name, number, hint)
    }

    pub(crate) fn by_name(name: &str) -> Option<Col> {
        COLUMNS
            .iter()
            .find(|c| c.1.eq_ignore_ascii_case(name))
            .map(|c| c.0)
    }

    /// A number in JSON (and in filters).
    pub(crate) fn is_number(self) -> bool {
        self.info().1
    }

    /// Right-aligned in tables: the numbers, and NETNSID (lsns's flags).
    pub(crate) fn right(self) -> bool {
        self.info().1 || self == Col::Netnsid
    }
}

/// `-H`: the columns with their JSON types.
pub(crate) fn column_list() -> Table {
    let mut t = Table::new(
        "lsns-columns",
        vec![
            Column {
                name: "HOLDER",
                right: true,
                ..Column::default()
            },
            Column {
                name: "TYPE",
                ..Column::default()
            },
            Column {
                name: "DESCRIPTION",
                ..Column::default()
            },
        ],
    );
    for (_, name, help, number, _) in COLUMNS {
        let kind = if number { "<integer>" } else { "<string>" };
        t.add(
            vec![Some(name.into()), Some(kind.into()), Some(help.into())],
            None,
        );
    }
    t
}
