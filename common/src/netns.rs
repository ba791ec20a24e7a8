//! Named network namespaces, iproute2's convention: a bind mount of an nsfs
//! file at /run/netns/NAME (ip-netns(8)).

use std::path::PathBuf;

/// Where iproute2 keeps named network namespaces.
pub const RUN_DIR: &str = "/run/netns";

/// The file of the named network namespace `name`.
pub fn named(name: &str) -> PathBuf {
    PathBuf::from(RUN_DIR).join(name)
}
