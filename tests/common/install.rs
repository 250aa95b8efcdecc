//! What the tests need from the machine, installed with apt-get when missing (as root, as on
//! CI machines), so a fresh clone needs nothing installed by hand.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// One apt-get at a time within a test process (apt holds a lock of its own).
static APT: Mutex<()> = Mutex::new(());

/// Makes `binary` exist by installing Debian's `package` if needed.
pub fn debian_package(binary: &str, package: &str) -> Result<(), String> {
    let _one_at_a_time = APT.lock().unwrap_or_else(|e| e.into_inner());
    if Path::new(binary).exists() {
        return Ok(());
    }
    eprintln!("tests: installing Debian's {package} with apt-get …");
    let quiet = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("apt-get could not run: {e}"))
    };
    quiet(&["update", "-qq"])?;
    let status = quiet(&["install", "-y", "-qq", package])?;
    if status.success() && Path::new(binary).exists() {
        Ok(())
    } else {
        Err(format!(
            "{package} could not be installed (apt-get: {status})"
        ))
    }
}
