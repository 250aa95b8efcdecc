//! Compiles the browser front end (`web/`) into the binary: generates the list of files that
//! `src/http/web.rs` embeds, so a file added to `web/` is served without touching Rust code.
//! Also turns on the ScyllaDB conformance tests when `LEADBRIDGE_TEST_SCYLLA_URI` is set, so
//! without it they show as ignored rather than passing without having run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(scylla_tests)");
    println!("cargo:rerun-if-env-changed=LEADBRIDGE_TEST_SCYLLA_URI");
    if std::env::var("LEADBRIDGE_TEST_SCYLLA_URI").is_ok_and(|uri| !uri.is_empty()) {
        println!("cargo:rustc-cfg=scylla_tests");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut code = String::from("/// Every file under `web/`: (URL path, contents).\n");
    code.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for file in &files {
        let url = file
            .strip_prefix(&root)
            .expect("collected under web/")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        writeln!(
            code,
            "    ({:?}, include_bytes!({:?})),",
            format!("/{url}"),
            file.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("web_files.rs"), code).expect("OUT_DIR is writable");
}

/// Regular files under `dir`, skipping hidden ones (editor swap files, `.DS_Store`).
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
