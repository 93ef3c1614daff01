//! What the machine running the tests allows, and what a test does when it
//! does not: small real filesystems (an ext4 image, loop-mounted as root or
//! through `fuse2fs` otherwise), running `framex` unprivileged, and the skip
//! rule.
//!
//! **The skip rule.** A test that cannot run here says why on stderr and
//! passes, except under `CI=true`, where it fails unless
//! `FRAMEX_ALLOW_SKIP` (a comma-separated list of names) names it: CI never
//! skips silently.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::framex_command;

/// Handles a test that cannot run here (see the module docs): returns when
/// skipping is allowed, panics under `CI=true` unless `FRAMEX_ALLOW_SKIP`
/// names `name`.
pub fn skip(name: &str, why: &str) {
    let ci = std::env::var("CI").ok();
    let allow = std::env::var("FRAMEX_ALLOW_SKIP").ok();
    assert!(
        skip_allowed(ci.as_deref(), allow.as_deref(), name),
        "{name} cannot run here ({why}); under CI=true a skip fails unless \
         FRAMEX_ALLOW_SKIP names it"
    );
    eprintln!("SKIPPED {name}: {why}");
}

/// The skip rule: with `CI` (its value) `true`, only the names listed in
/// `allow` (`FRAMEX_ALLOW_SKIP`, comma-separated) may skip.
fn skip_allowed(ci: Option<&str>, allow: Option<&str>, name: &str) -> bool {
    ci != Some("true") || allow.is_some_and(|list| list.split(',').any(|n| n.trim() == name))
}

/// The user id of the test process.
pub fn uid() -> u32 {
    let out = Command::new("id").arg("-u").output().expect("`id -u` runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a numeric uid")
}

/// The group id of the test process.
pub fn gid() -> u32 {
    let out = Command::new("id").arg("-g").output().expect("`id -g` runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a numeric gid")
}

/// Whether a program is on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The uid and gid of `nobody`.
pub fn nobody() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "nobody"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// A `framex` command that runs without root's privileges: as `nobody`
/// through `setpriv` when the tests run as root, else plain. `Err` says why
/// it cannot. The files it must reach have to be reachable by `nobody`
/// ([`give_to_nobody`]).
pub fn framex_unprivileged() -> Result<Command, String> {
    let plain = framex_command();
    if uid() != 0 {
        return Ok(plain);
    }
    if !on_path("setpriv") {
        return Err("running as root, and setpriv (util-linux) is not installed".into());
    }
    let (uid, gid) = nobody().ok_or("running as root, and there is no user nobody")?;
    let mut command = Command::new("setpriv");
    command
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(plain.get_program());
    for var in crate::FRAMEX_ENV {
        command.env_remove(var);
    }
    Ok(command)
}

/// Gives `dir` and everything under it to `nobody` (when running as root):
/// what [`framex_unprivileged`] must read and write.
pub fn give_to_nobody(dir: &Path) {
    if uid() != 0 {
        return;
    }
    let (uid, gid) = nobody().expect("user nobody");
    fn walk(path: &Path, uid: u32, gid: u32) {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid)).expect("chown");
        if path.is_dir() && !path.is_symlink() {
            for entry in std::fs::read_dir(path).expect("read dir") {
                walk(&entry.expect("entry").path(), uid, gid);
            }
        }
    }
    walk(dir, uid, gid);
}

/// A small ext4 filesystem made from an image file and mounted at a
/// directory: loop-mounted when running as root, else through `fuse2fs`.
/// `FRAMEX_TEST_MOUNT=loop|fuse2fs` picks one. Unmounted on drop, also when
/// the test fails.
pub struct SmallDisk {
    /// Where it is mounted.
    pub dir: PathBuf,
    fuse: bool,
}

impl SmallDisk {
    /// Makes an ext4 image of `bytes` beside `dir` (`mkfs_args` are extra
    /// `mkfs.ext4` options) and mounts it at `dir`; `Err` says why not.
    pub fn mount(dir: &Path, bytes: u64, mkfs_args: &[&str]) -> Result<Self, String> {
        Self::mount_with(dir, bytes, mkfs_args, true)
    }

    /// [`SmallDisk::mount`], only as a loop mount: for directories of tens
    /// of thousands of entries, which `fuse2fs` makes far too slow.
    pub fn mount_loop(dir: &Path, bytes: u64, mkfs_args: &[&str]) -> Result<Self, String> {
        Self::mount_with(dir, bytes, mkfs_args, false)
    }

    fn mount_with(
        dir: &Path,
        bytes: u64,
        mkfs_args: &[&str],
        fuse_allowed: bool,
    ) -> Result<Self, String> {
        let root = uid() == 0;
        let fuse = fuse_allowed
            && match std::env::var("FRAMEX_TEST_MOUNT").as_deref() {
                Ok("fuse2fs") => true,
                Ok("loop") => false,
                _ => !root,
            };
        if !fuse && !root {
            return Err("a loop mount needs root".into());
        }
        if !on_path("mkfs.ext4") && !Path::new("/usr/sbin/mkfs.ext4").exists() {
            return Err("mkfs.ext4 (e2fsprogs) is not installed".into());
        }
        if fuse && !on_path("fuse2fs") {
            return Err("not root, and fuse2fs is not installed (apt-get install fuse2fs)".into());
        }
        let image = dir.with_extension("img");
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let file = std::fs::File::create(&image).map_err(|e| e.to_string())?;
        file.set_len(bytes).map_err(|e| e.to_string())?;
        drop(file);
        let owner = format!("root_owner={}:{}", uid(), gid());
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-m", "0", "-E", &owner])
            .args(mkfs_args)
            .arg(&image))?;
        if fuse {
            // hard_remove: a file unlinked while its release is in flight
            // goes at once, not to a `.fuse_hidden*` file.
            run(Command::new("fuse2fs")
                .arg(&image)
                .arg(dir)
                .args(["-o", "hard_remove"]))?;
        } else {
            run(Command::new("mount")
                .args(["-o", "loop"])
                .arg(&image)
                .arg(dir))?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            fuse,
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.fuse {
            for program in ["fusermount", "fusermount3"] {
                let done = Command::new(program).arg("-u").arg(&self.dir).status();
                if done.is_ok_and(|s| s.success()) {
                    return;
                }
            }
        }
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::skip_allowed;

    #[test]
    fn under_ci_only_the_named_tests_may_skip() {
        assert!(skip_allowed(None, None, "full_disk"));
        assert!(skip_allowed(Some("false"), None, "full_disk"));
        assert!(!skip_allowed(Some("true"), None, "full_disk"));
        assert!(!skip_allowed(Some("true"), Some("link_limit"), "full_disk"));
        assert!(skip_allowed(
            Some("true"),
            Some("link_limit, full_disk"),
            "full_disk"
        ));
    }
}
