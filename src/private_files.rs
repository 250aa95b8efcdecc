//! Files only the server's own user may read: the data directory holds keys, password
//! hashes and sealed contacts, and every file in it is created 0600 whatever the umask.

use std::fs;
use std::io;
use std::path::Path;

/// Permission bits that let other users in.
#[cfg(unix)]
const OTHERS: u32 = 0o077;

/// Makes the data directory owner-only. One that group or others may enter is tightened
/// to 0700, answering the mode it had (for a warning); a shared directory (sticky, such as
/// `/tmp`) is refused rather than changed, as is one the server may not change.
pub fn make_private_dir(dir: &Path) -> io::Result<Option<u32>> {
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
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| {
            io::Error::other(format!(
                "it is open to other users (mode {mode:o}) and cannot be made private ({e}); run `chmod 700` on it as its owner"
            ))
        })?;
        Ok(Some(mode & 0o777))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(None)
    }
}

/// Makes `path` exist as a file only its owner can read and write: created 0600 when
/// missing (content untouched otherwise), tightened to 0600 when others could read it.
/// Answers the mode it had when it was tightened, so the caller can warn.
pub fn ensure_private_file(path: &Path) -> io::Result<Option<u32>> {
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode & OTHERS != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
            return Ok(Some(mode));
        }
    }
    drop(file);
    Ok(None)
}

/// Tightens `path` to 0600 if it exists (a file another program may create, such as
/// SQLite's `-wal` and `-shm`, once it has).
pub fn tighten_if_present(path: &Path) -> io::Result<Option<u32>> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => ensure_private_file(path),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
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
        assert_eq!(make_private_dir(dir.path()).unwrap(), Some(0o755));
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(make_private_dir(dir.path()).unwrap(), None);
        let fresh = dir.path().join("fresh.db");
        assert_eq!(ensure_private_file(&fresh).unwrap(), None);
        assert_eq!(mode(&fresh), 0o600);
        let open = dir.path().join("open.db");
        fs::write(&open, b"kept").unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(tighten_if_present(&open).unwrap(), Some(0o644));
        assert_eq!(mode(&open), 0o600);
        assert_eq!(fs::read(&open).unwrap(), b"kept");
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
