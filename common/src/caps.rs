//! --keep-caps (nsenter, unshare): the capabilities a user namespace gave
//! us, kept across exec as ambient capabilities (util-linux
//! `cap_permitted_to_ambient`).

use anyhow::Context;
use nix::errno::Errno;

/// `struct __user_cap_header_struct` (linux/capability.h).
#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

/// `struct __user_cap_data_struct`; version 3 uses two of them (64 bits).
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const VERSION_3: u32 = 0x2008_0522;

/// Makes every permitted capability inheritable, then raises each effective
/// one as ambient, so that the command keeps them after exec.
pub fn permitted_to_ambient() -> anyhow::Result<()> {
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: for version 3, capget writes exactly two Data, which `data` holds.
    Errno::result(unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut Header,
            data.as_mut_ptr(),
        )
    })
    .context("capget failed")?;
    // Only inheritable capabilities can be ambient.
    for d in &mut data {
        d.inheritable = d.permitted;
    }
    // SAFETY: capset reads the header and two Data, all valid for the call.
    Errno::result(unsafe {
        libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr())
    })
    .context("capset failed")?;
    let effective = (u64::from(data[1].effective) << 32) | u64::from(data[0].effective);
    // The kernel sets no bit beyond its last capability.
    for cap in (0..64).filter(|cap| effective & (1 << cap) != 0) {
        // SAFETY: prctl takes only integers here.
        Errno::result(unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE,
                cap as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        })
        .context("prctl(PR_CAP_AMBIENT) failed")?;
    }
    Ok(())
}
