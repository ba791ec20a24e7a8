//! uid/gid maps: the ranges `--map-users`/`--map-groups`/`--map-auto` ask
//! for, merged with the single ID of `--map-user`/`-r`/`-c` the way
//! util-linux merges them, checked (no overlaps, at most 340 lines) before
//! anything is written, and rendered as the kernel reads them.

use std::path::Path;

use anyhow::{bail, Context};
use nix::unistd::{Gid, Uid};

use crate::checks::{group_id, user_id};
use crate::Cli;

/// One line of a uid_map or gid_map: `count` IDs from `outer` (the parent
/// namespace) seen as `inner` (inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub inner: u32,
    pub outer: u32,
    pub count: u32,
}

/// `inner` of a subid range whose inside IDs start wherever the merge puts
/// them (util-linux writes -1).
const AUTO: u32 = u32::MAX;

/// The kernel reads at most 340 lines of a map (Linux 4.15+).
pub const MAX_LINES: usize = 340;

/// What one `--map-users`/`--map-groups` argument asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// `INNER:OUTER:COUNT` (2.40) or `OUTER,INNER,COUNT` (before).
    Range(Range),
    /// `auto`: the caller's first range in /etc/subuid or /etc/subgid,
    /// from 0 inside.
    Auto,
    /// `subids` (`--map-subids`): that range, mapped to the same IDs inside.
    Subids,
    /// `all`: every ID of the parent namespace, mapped to itself.
    All,
}

impl Spec {
    pub fn parse(s: &str) -> anyhow::Result<Spec> {
        match s {
            "auto" => return Ok(Spec::Auto),
            "all" => return Ok(Spec::All),
            "subids" => return Ok(Spec::Subids),
            _ => {}
        }
        let three = |sep: char| -> Option<[u32; 3]> {
            let mut it = s.split(sep).map(|n| n.parse::<u32>().ok());
            let v = [it.next()??, it.next()??, it.next()??];
            it.next().is_none().then_some(v)
        };
        let range = match (three(':'), three(',')) {
            (Some([inner, outer, count]), _) | (None, Some([outer, inner, count])) => Range {
                inner,
                outer,
                count,
            },
            (None, None) => bail!("invalid mapping '{s}'"),
        };
        // The kernel refuses such a line; refused here, before anything is
        // made, rather than after the user namespace was.
        if range.count == 0 {
            bail!("invalid mapping '{s}': a count of 0 maps nothing");
        }
        // The kernel's rule (map_write): no range runs past the last ID,
        // 4294967294 ((uid_t) -1 is no ID).
        let end = |first: u32| u64::from(first) + u64::from(range.count);
        if end(range.inner).max(end(range.outer)) > u64::from(u32::MAX) {
            bail!("invalid mapping '{s}': the range runs past ID 4294967294");
        }
        Ok(Spec::Range(range))
    }

    /// The ranges this asks for; `subid` is /etc/subuid or /etc/subgid,
    /// `kernel` /proc/self/uid_map or gid_map, `user` finds the caller
    /// (only `auto` asks: a passwd lookup costs).
    pub fn ranges(
        &self,
        subid: &Path,
        kernel: &Path,
        user: &dyn Fn() -> anyhow::Result<User>,
    ) -> anyhow::Result<Vec<Range>> {
        match self {
            Spec::Range(r) => Ok(vec![*r]),
            Spec::Auto => Ok(vec![subid_range(subid, &user()?)?]),
            Spec::Subids => {
                let range = subid_range(subid, &user()?)?;
                Ok(vec![Range {
                    inner: range.outer,
                    ..range
                }])
            }
            Spec::All => kernel_map(kernel),
        }
    }
}

/// The caller, as /etc/subuid and /etc/subgid name it.
pub struct User {
    pub uid: u32,
    pub name: String,
}

/// The first line of `file` (`NAME|UID:START:COUNT`) that belongs to `user`.
pub fn subid_range(file: &Path, user: &User) -> anyhow::Result<Range> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not open '{}'", file.display()))?;
    text.lines()
        .filter_map(|line| {
            let mut f = line.splitn(3, ':');
            let who = f.next()?;
            if who != user.name && who.parse::<u32>().ok() != Some(user.uid) {
                return None;
            }
            Some((f.next()?.trim(), f.next()?.trim()))
        })
        .map(|(start, count)| {
            let num = |s: &str| {
                s.parse::<u32>()
                    .with_context(|| format!("failed to parse subid map: '{s}'"))
            };
            Ok(Range {
                inner: AUTO,
                outer: num(start)?,
                count: num(count)?,
            })
        })
        .next()
        .unwrap_or_else(|| {
            bail!(
                "no line matching user \"{}\" in {}",
                user.name,
                file.display()
            )
        })
}

/// Every range of the parent namespace's map, mapped to itself (`all`).
pub fn kernel_map(file: &Path) -> anyhow::Result<Vec<Range>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not open '{}'", file.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let f: Vec<u32> = line
                .split_whitespace()
                .map_while(|n| n.parse().ok())
                .collect();
            match f[..] {
                [start, _, count] => Some(Range {
                    inner: start,
                    outer: start,
                    count,
                }),
                _ => None,
            }
        })
        .collect())
}

/// The map written from `ranges` (in the order given) and the single ID
/// `outer` seen as `inner`, merged as util-linux's `add_single_map_range`
/// merges them, so that the same command line gives the same map: the
/// single ID goes first, and each range gives up the ID it would share
/// with it; a subid range (`auto`) starts inside at 0.
pub fn merge(ranges: &[Range], outer: u32, inner: Option<u32>) -> Vec<Range> {
    // util-linux keeps a list it prepends to: the ranges arrive in reverse
    // order of the options and the merge reverses them again.
    let inner_id = inner.unwrap_or(AUTO);
    let outer = if inner.is_none() { AUTO } else { outer };
    let mut out = Vec::new();
    for map in ranges.iter().rev() {
        let mut map = *map;
        if map.inner == AUTO {
            map.inner = 0;
        } else if inner.is_some()
            && ((outer >= map.outer && outer <= map.outer.wrapping_add(map.count))
                || (inner_id >= map.inner && inner_id <= map.inner.wrapping_add(map.count)))
        {
            map.count = map.count.wrapping_sub(1);
        }
        let outer_offset = outer.saturating_sub(map.outer).min(map.count);
        let inner_offset = inner_id.saturating_sub(map.inner).min(map.count);
        // Wrapping, as util-linux's C does: a range may end at the last ID.
        let step = |start: u32, skip: u32| start.wrapping_add(u32::from(start == skip));
        let lo = Range {
            outer: map.outer,
            inner: map.inner,
            count: inner_offset.min(outer_offset),
        };
        let mid = Range {
            outer: step(lo.outer.wrapping_add(lo.count), outer),
            inner: step(lo.inner.wrapping_add(lo.count), inner_id),
            count: outer_offset.abs_diff(inner_offset),
        };
        let hi = Range {
            outer: step(mid.outer.wrapping_add(mid.count), outer),
            inner: step(mid.inner.wrapping_add(mid.count), inner_id),
            count: map.count - lo.count - mid.count,
        };
        for r in [hi, mid, lo] {
            if r.count != 0 {
                out.insert(0, r);
            }
        }
    }
    if let Some(inner) = inner {
        out.insert(
            0,
            Range {
                inner,
                outer,
                count: 1,
            },
        );
    }
    out
}

/// Refuses a map the kernel would refuse, before anything is written:
/// more than 340 lines, or two ranges sharing an ID inside or outside.
pub fn check(map: &[Range], what: &str) -> anyhow::Result<()> {
    if map.len() > MAX_LINES {
        bail!(
            "{what} map has {} ranges, the kernel takes at most {MAX_LINES}",
            map.len()
        );
    }
    let span = |start: u32, count: u32| (u64::from(start), u64::from(start) + u64::from(count));
    let meet = |(a0, a1): (u64, u64), (b0, b1): (u64, u64)| a0 < b1 && b0 < a1;
    for (i, a) in map.iter().enumerate() {
        for b in &map[i + 1..] {
            let side = if meet(span(a.inner, a.count), span(b.inner, b.count)) {
                "inside"
            } else if meet(span(a.outer, a.count), span(b.outer, b.count)) {
                "outside"
            } else {
                continue;
            };
            bail!(
                "{what} ranges {}:{}:{} and {}:{}:{} overlap {side} the namespace",
                a.inner,
                a.outer,
                a.count,
                b.inner,
                b.outer,
                b.count
            );
        }
    }
    Ok(())
}

/// The map as the kernel reads it: `INNER OUTER COUNT` lines.
pub fn render(map: &[Range]) -> String {
    map.iter()
        .map(|r| format!("{} {} {}\n", r.inner, r.outer, r.count))
        .collect()
}

/// The maps the command line asks for: the inside IDs of one's own uid and gid (written by
/// the process itself), and the whole maps (written by a helper), merged
/// and checked as util-linux merges them.
#[allow(clippy::type_complexity)]
pub fn from_cli(
    cli: &Cli,
    euid: Uid,
    egid: Gid,
) -> anyhow::Result<(Option<u32>, Option<u32>, Vec<Range>, Vec<Range>)> {
    let mut own_uid = None;
    let mut own_gid = None;
    if cli.map_root_user {
        (own_uid, own_gid) = (Some(0), Some(0));
    }
    if cli.map_current_user {
        (own_uid, own_gid) = (Some(euid.as_raw()), Some(egid.as_raw()));
    }
    if let Some(user) = &cli.map_user {
        // -1 is unshare's "no map": the user namespace only.
        own_uid = Some(user_id(user)?).filter(|&id| id != u32::MAX);
    }
    if let Some(group) = &cli.map_group {
        own_gid = Some(group_id(group)?).filter(|&id| id != u32::MAX);
    }
    let specs = |args: &[String]| -> anyhow::Result<Vec<Spec>> {
        args.iter().map(|s| Spec::parse(s)).collect()
    };
    let mut user_specs = specs(&cli.map_users)?;
    let mut group_specs = specs(&cli.map_groups)?;
    if cli.map_auto {
        user_specs.push(Spec::Auto);
        group_specs.push(Spec::Auto);
    }
    if cli.map_subids {
        user_specs.push(Spec::Subids);
        group_specs.push(Spec::Subids);
    }
    let caller = || {
        Ok(User {
            uid: euid.as_raw(),
            name: nix::unistd::User::from_uid(euid)
                .ok()
                .flatten()
                .map(|u| u.name)
                .with_context(|| format!("you (user {euid}) don't exist."))?,
        })
    };
    let ranges = |specs: &[Spec], subid: &str, kernel: &str| -> anyhow::Result<Vec<Range>> {
        let mut all = Vec::new();
        for spec in specs {
            all.extend(spec.ranges(Path::new(subid), Path::new(kernel), &caller)?);
        }
        Ok(all)
    };
    let user_ranges = ranges(&user_specs, "/etc/subuid", "/proc/self/uid_map")?;
    let group_ranges = ranges(&group_specs, "/etc/subgid", "/proc/self/gid_map")?;
    let mut uid_map = Vec::new();
    let mut gid_map = Vec::new();
    if !user_ranges.is_empty() {
        uid_map = merge(&user_ranges, euid.as_raw(), own_uid.take());
        check(&uid_map, "uid")?;
    }
    if !group_ranges.is_empty() {
        gid_map = merge(&group_ranges, egid.as_raw(), own_gid.take());
        check(&gid_map, "gid")?;
    }
    Ok((own_uid, own_gid, uid_map, gid_map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(inner: u32, outer: u32, count: u32) -> Range {
        Range {
            inner,
            outer,
            count,
        }
    }

    #[test]
    fn both_forms_parse() {
        assert_eq!(
            Spec::parse("0:100000:10").unwrap(),
            Spec::Range(r(0, 100000, 10))
        );
        assert_eq!(
            Spec::parse("100000,0,10").unwrap(),
            Spec::Range(r(0, 100000, 10))
        );
        assert_eq!(Spec::parse("auto").unwrap(), Spec::Auto);
        assert_eq!(Spec::parse("all").unwrap(), Spec::All);
        assert_eq!(Spec::parse("subids").unwrap(), Spec::Subids);
        assert_eq!(
            Spec::parse("0,65534,0").unwrap_err().to_string(),
            "invalid mapping '0,65534,0': a count of 0 maps nothing"
        );
        for bad in ["1:2", "1:2:3:4", "1,2:3", "a:b:c", ""] {
            assert_eq!(
                Spec::parse(bad).unwrap_err().to_string(),
                format!("invalid mapping '{bad}'")
            );
        }
    }

    #[test]
    fn subid_lines_match_by_name_or_uid() {
        let dir = tempfile_dir();
        let file = dir.join("subuid");
        std::fs::write(&file, "alice:100000:65536\n1000:200000:10\n").unwrap();
        let alice = User {
            uid: 5,
            name: "alice".into(),
        };
        let bob = User {
            uid: 1000,
            name: "bob".into(),
        };
        let carol = User {
            uid: 7,
            name: "carol".into(),
        };
        assert_eq!(subid_range(&file, &alice).unwrap(), r(AUTO, 100000, 65536));
        assert_eq!(subid_range(&file, &bob).unwrap(), r(AUTO, 200000, 10));
        assert_eq!(
            subid_range(&file, &carol).unwrap_err().to_string(),
            format!("no line matching user \"carol\" in {}", file.display())
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn subids_map_a_subid_range_to_itself() {
        // Not below tempfile_dir(), which another test removes.
        let dir = std::env::temp_dir().join(format!("runshare-subids-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("subuid");
        std::fs::write(&file, "alice:100000:65536\n").unwrap();
        let alice = || {
            Ok(User {
                uid: 5,
                name: "alice".into(),
            })
        };
        let kernel = dir.join("uid_map");
        assert_eq!(
            Spec::Subids.ranges(&file, &kernel, &alice).unwrap(),
            vec![r(100000, 100000, 65536)]
        );
        // merged with a single ID, it keeps its inside IDs (auto's start at 0)
        assert_eq!(
            merge(&[r(100000, 100000, 65536)], 5, Some(0)),
            vec![r(0, 5, 1), r(100000, 100000, 65536)]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("runshare-idmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn kernel_map_maps_each_range_to_itself() {
        let dir = tempfile_dir().join("k");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("uid_map");
        std::fs::write(&file, "         0          0 4294967295\n").unwrap();
        assert_eq!(kernel_map(&file).unwrap(), vec![r(0, 0, u32::MAX)]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn root_over_a_subid_range_shifts_inside_ids() {
        // unshare --map-auto -r as uid 1000 with 1000:100000:65536:
        // 0 1000 1, then 1 100000 65536 (util-linux gives the same).
        let map = merge(&[r(AUTO, 100000, 65536)], 1000, Some(0));
        assert_eq!(map, vec![r(0, 1000, 1), r(1, 100000, 65536)]);
    }

    #[test]
    fn single_id_inside_a_range_splits_it() {
        // --map-users=0:100000:10 --map-user=5 as uid 0.
        let map = merge(&[r(0, 100000, 10)], 0, Some(5));
        check(&map, "uid").unwrap();
        assert_eq!(map, vec![r(5, 0, 1), r(0, 100000, 5), r(6, 100005, 4)]);
    }

    #[test]
    fn without_a_single_id_ranges_pass_in_order() {
        let map = merge(&[r(0, 100000, 10), r(10, 200000, 5)], 0, None);
        assert_eq!(map, vec![r(0, 100000, 10), r(10, 200000, 5)]);
        assert_eq!(render(&map), "0 100000 10\n10 200000 5\n");
    }

    #[test]
    fn overlaps_are_refused() {
        let inside = check(&[r(0, 100000, 10), r(5, 200000, 10)], "uid").unwrap_err();
        assert_eq!(
            inside.to_string(),
            "uid ranges 0:100000:10 and 5:200000:10 overlap inside the namespace"
        );
        let outside = check(&[r(0, 100000, 10), r(50, 100009, 1)], "gid").unwrap_err();
        assert!(outside
            .to_string()
            .ends_with("overlap outside the namespace"));
        check(&[r(0, 100000, 10), r(10, 100010, 10)], "uid").unwrap();
    }

    #[test]
    fn more_than_340_lines_are_refused() {
        let map: Vec<Range> = (0..341).map(|i| r(i * 2, i * 2, 1)).collect();
        assert!(check(&map[..340], "uid").is_ok());
        assert_eq!(
            check(&map, "uid").unwrap_err().to_string(),
            "uid map has 341 ranges, the kernel takes at most 340"
        );
    }
}

/// Property tests (docs/SECURITY.md, "Parsers"): map arguments and map files of
/// any shape are read or refused with a message, never a panic; a map that
/// passes [`check`] is one the kernel takes (no shared ID, ≤ 340 lines).
#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    fn a_range() -> impl Strategy<Value = Range> {
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(inner, outer, count)| Range {
            inner,
            outer,
            count,
        })
    }

    fn small_range() -> impl Strategy<Value = Range> {
        (0u32..2000, 0u32..2000, 1u32..500).prop_map(|(inner, outer, count)| Range {
            inner,
            outer,
            count,
        })
    }

    proptest! {
        #[test]
        fn any_argument_is_a_spec_or_named(text in "\\PC{0,24}|[0-9:,-]{0,24}") {
            match Spec::parse(&text) {
                Ok(Spec::Range(_)) => prop_assert!(text.contains(':') || text.contains(',')),
                Ok(_) => prop_assert!(text == "auto" || text == "all"),
                Err(e) => {
                    let want = format!("invalid mapping '{text}'");
                    prop_assert!(e.to_string().starts_with(&want), "{}", e);
                }
            }
        }

        #[test]
        fn both_forms_read_back_or_are_refused_past_the_last_id(r in prop_oneof![a_range(), small_range()]) {
            let new = format!("{}:{}:{}", r.inner, r.outer, r.count);
            let old = format!("{},{},{}", r.outer, r.inner, r.count);
            let fits = |first: u32| u64::from(first) + u64::from(r.count) <= u64::from(u32::MAX);
            for text in [new, old] {
                match Spec::parse(&text) {
                    Ok(spec) => prop_assert!(spec == Spec::Range(r) && fits(r.inner) && fits(r.outer)),
                    Err(e) => {
                        prop_assert!(!(fits(r.inner) && fits(r.outer)));
                        prop_assert_eq!(e.to_string(), format!("invalid mapping '{text}': the range runs past ID 4294967294"));
                    }
                }
            }
        }

        #[test]
        fn merge_never_panics_and_check_refuses_what_the_kernel_would(
            ranges in proptest::collection::vec(prop_oneof![a_range(), small_range()], 0..5),
            outer in any::<u32>(),
            inner in proptest::option::of(any::<u32>()),
        ) {
            // Only ranges Spec::parse takes reach merge.
            let fits = |r: &Range| [r.inner, r.outer].iter().all(|&f| u64::from(f) + u64::from(r.count) <= u64::from(u32::MAX));
            let ranges: Vec<Range> = ranges.into_iter().filter(fits).collect();
            let map = merge(&ranges, outer, inner);
            if check(&map, "uid").is_ok() {
                let span = |s: u32, c: u32| (u64::from(s), u64::from(s) + u64::from(c));
                for (i, a) in map.iter().enumerate() {
                    for b in &map[i + 1..] {
                        for (x, y) in [(span(a.inner, a.count), span(b.inner, b.count)), (span(a.outer, a.count), span(b.outer, b.count))] {
                            prop_assert!(x.1 <= y.0 || y.1 <= x.0, "{map:?}");
                        }
                    }
                }
                prop_assert!(map.len() <= MAX_LINES);
            }
        }

        #[test]
        fn rendered_maps_read_back_through_all(map in proptest::collection::vec(small_range(), 0..20)) {
            let dir = std::env::temp_dir().join(format!("boxutils-idmap-prop-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("{:x}", map.iter().map(|r| u64::from(r.inner) * 7 + u64::from(r.count)).sum::<u64>()));
            std::fs::write(&file, render(&map)).unwrap();
            let back = kernel_map(&file);
            let _ = std::fs::remove_file(&file);
            let _ = std::fs::remove_dir(&dir);
            let want: Vec<Range> = map.iter().map(|r| Range { inner: r.inner, outer: r.inner, count: r.count }).collect();
            prop_assert_eq!(back.unwrap(), want);
        }

        #[test]
        fn subid_files_of_any_shape_are_read_or_refused(text in "([a-z0-9]{0,6}:[0-9a-z -]{0,8}:[0-9 x-]{0,8}\n){0,4}|\\PC{0,40}") {
            let dir = std::env::temp_dir().join(format!("boxutils-subid-prop-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("{}", text.len()));
            std::fs::write(&file, &text).unwrap();
            let got = subid_range(&file, &User { uid: 0, name: "root".into() });
            let _ = std::fs::remove_file(&file);
            let _ = std::fs::remove_dir(&dir);
            if let Err(e) = got {
                let msg = e.to_string();
                prop_assert!(
                    msg.starts_with("failed to parse subid map: '") || msg.starts_with("no line matching user \"root\""),
                    "{}", msg
                );
            }
        }
    }
}
