//! The web front end in a real browser: Debian's chromium driven by playwright-core (Node),
//! against the real server. The flows live in `flows/*.test.mjs`; this harness installs what
//! they need, starts the server and a second admin, runs them, and fails if any flow fails.
//! Screenshots of each dashboard land in `$CARGO_TARGET_TMPDIR/browser-artifacts/`.

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";
/// How long all flows together may take before they count as hung.
const NODE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Whether this runs in CI (`CI` set to anything but `false` or empty).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_flows() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if let Err(why) = ensure_chromium().and_then(|()| ensure_playwright(&here)) {
        // In CI a suite that did not run must not count as passed.
        assert!(!in_ci(), "the browser suite cannot run in CI: {why}");
        eprintln!(
            "\n{}\n!!! BROWSER SUITE SKIPPED: {why}\n{}\n",
            "!".repeat(72),
            "!".repeat(72)
        );
        return;
    }
    let google = common::fake_google::FakeGoogle::start().await;
    let app = common::spawn_app_with_google(&google, &[]).await;
    let second_admin = app.another_admin().await;
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(flow_files(&here))
        .current_dir(&here)
        .env("LEADBRIDGE_URL", &app.address)
        .env("LEADBRIDGE_ADMIN_EMAIL", common::ADMIN_EMAIL)
        .env("LEADBRIDGE_ADMIN_PASSWORD", common::ADMIN_PASSWORD)
        .env("LEADBRIDGE_SECOND_ADMIN_EMAIL", &second_admin.email)
        .env("LEADBRIDGE_SECOND_ADMIN_PASSWORD", common::PASSWORD)
        .env("LEADBRIDGE_ARTIFACTS", &artifacts)
        .env("CHROMIUM", CHROMIUM)
        .kill_on_drop(true);
    let mut child = node.spawn().expect("node runs");
    let status = match tokio::time::timeout(NODE_TIMEOUT, child.wait()).await {
        Ok(status) => status.expect("node ran"),
        Err(_) => {
            let _ = child.kill().await;
            panic!("the browser flows did not finish within {NODE_TIMEOUT:?}");
        }
    };
    eprintln!("browser screenshots: {}", artifacts.display());
    assert!(
        status.success(),
        "browser flows failed (see the output above)"
    );
}

fn flow_files(here: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(here.join("flows"))
        .expect("tests/browser/flows")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no browser flows found");
    files
}

/// Debian's chromium, installed with apt-get when missing.
fn ensure_chromium() -> Result<(), String> {
    crate::common::install::debian_package(CHROMIUM, "chromium")
}

/// playwright-core and axe-core from npm, at the versions `package-lock.json` pins.
fn ensure_playwright(here: &Path) -> Result<(), String> {
    let installed = ["playwright-core", "axe-core"].iter().all(|package| {
        here.join(format!("node_modules/{package}/package.json"))
            .exists()
    });
    if installed {
        return Ok(());
    }
    eprintln!("browser suite: installing playwright-core with npm ci …");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(here)
        .status()
        .map_err(|e| format!("npm could not run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm ci failed ({status})"))
    }
}
