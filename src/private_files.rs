//! Files only the server's own user may read: the data directory holds keys, password
//! hashes and sealed contacts, and every file in it is created 0600 whatever the umask.

use std::fs;
use std::io;
use std::path::Path;

/// Permission bits that let other users in.
#[cfg(unix)]
const OTHERS: u32 = 0o077;

/// Makes the data directory owner-only. One that group or others may enter is tightened
/// to 0700, answering a warning that says so. A shared directory (sticky, such as
/// `/tmp`) is refused rather than changed, and so is one open to others that the server
/// may not change; one open to its group only (a volume shared through a group, as
/// Kubernetes' `fsGroup` makes) is left as it is when it cannot be changed.
pub fn make_private_dir(dir: &Path) -> io::Result<Option<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir)?.permissions().mode() & 0o7777;
        if mode & OTHERS == 0 {
            return Ok(None);
        }
        if mode & 0o1000 != 0 {
            return Err(io::Error::other(format!(
                "it is a shared directory (mode {mode:o}); give the server a directory of its own"
            )));
        }
        let shown = format!("{} (mode {:o})", dir.display(), mode & 0o777);
        match fs::set_permissions(dir, fs::Permissions::from_mode(0o700)) {
            Ok(()) => Ok(Some(format!(
                "{shown} was open to other users; it is now 0700"
            ))),
            Err(e) if mode & 0o007 == 0 => Ok(Some(format!(
                "{shown} is open to its group and cannot be made private ({e}); its files stay 0600"
            ))),
            Err(e) => Err(io::Error::other(format!(
                "it is open to other users (mode {mode:o}) and cannot be made private ({e}); run `chmod 700` on it as its owner"
            ))),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(None)
    }
}

/// Makes `path` exist as a file only its owner can read and write: created 0600 when
/// missing, its group and others' bits removed when it exists (its content and its
/// owner's bits untouched). Answers the mode it had when it was tightened, for a warning.
pub fn ensure_private_file(path: &Path) -> io::Result<Option<u32>> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten_if_present(path),
        Err(e) => Err(e),
    }
}

/// Removes group and others' bits from `path` if it is a file (SQLite's `-wal` and `-shm`
/// once it has made them, a key file), without opening it: a read-only file stays so.
pub fn tighten_if_present(path: &Path) -> io::Result<Option<u32>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & OTHERS != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & !OTHERS))?;
            return Ok(Some(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(None)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_are_made_or_tightened_to_owner_only_and_directories_judged() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let warning = make_private_dir(dir.path()).unwrap().expect("a warning");
        assert!(
            warning.contains("755") && warning.contains("now 0700"),
            "{warning}"
        );
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(make_private_dir(dir.path()).unwrap(), None);
        let fresh = dir.path().join("fresh.db");
        assert_eq!(ensure_private_file(&fresh).unwrap(), None);
        assert_eq!(mode(&fresh), 0o600);
        let open = dir.path().join("open.db");
        fs::write(&open, b"kept").unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(ensure_private_file(&open).unwrap(), Some(0o644));
        assert_eq!(mode(&open), 0o600);
        assert_eq!(fs::read(&open).unwrap(), b"kept");
        let read_only = dir.path().join("key");
        fs::write(&read_only, b"k").unwrap();
        fs::set_permissions(&read_only, fs::Permissions::from_mode(0o444)).unwrap();
        assert_eq!(tighten_if_present(&read_only).unwrap(), Some(0o444));
        assert_eq!(
            mode(&read_only),
            0o400,
            "still read-only, now the owner's alone"
        );
        assert_eq!(
            tighten_if_present(&dir.path().join("absent")).unwrap(),
            None
        );
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(make_private_dir(&shared).is_err());
        assert_eq!(mode(&shared), 0o777, "a shared directory is left alone");
    }
}
