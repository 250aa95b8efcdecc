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

/// The Schemathesis the tests run, pinned so a new release cannot change what passes.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Schemathesis's `st`, installed with pip into a virtual environment kept outside the clone
/// (`~/.cache/leadbridge/venv`) so later runs on the machine reuse it.
pub fn schemathesis() -> Result<std::path::PathBuf, String> {
    let _one_at_a_time = APT.lock().unwrap_or_else(|e| e.into_inner());
    let home = std::env::var("HOME").map_err(|_| "HOME is not set".to_string())?;
    let venv = Path::new(&home).join(".cache/leadbridge/venv");
    let st = venv.join("bin/st");
    let marker = venv.join(SCHEMATHESIS);
    if st.exists() && marker.exists() {
        return Ok(st);
    }
    eprintln!(
        "tests: installing {SCHEMATHESIS} with pip into {} …",
        venv.display()
    );
    let run = |program: &Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .status()
            .map_err(|e| format!("{} could not run: {e}", program.display()))
            .and_then(|status| {
                status
                    .success()
                    .then_some(())
                    .ok_or_else(|| format!("{} {args:?} failed: {status}", program.display()))
            })
    };
    let venv_arg = venv.to_string_lossy().to_string();
    run(Path::new("python3"), &["-m", "venv", &venv_arg])?;
    run(&venv.join("bin/pip"), &["install", "--quiet", SCHEMATHESIS])?;
    std::fs::write(&marker, b"").map_err(|e| format!("marking the venv: {e}"))?;
    Ok(st)
}
