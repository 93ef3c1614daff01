//! The `.wasm` modules import nothing but wasm-bindgen's glue, and the
//! check itself refuses an `env` import.

use std::path::PathBuf;
use std::process::Command;

use framex_tests::wasm::{node, require_package, Package};
use framex_tests::workspace_root;

fn check_imports(files: &[PathBuf]) -> std::process::Output {
    Command::new(node())
        .arg(workspace_root().join("scripts/check-wasm-imports.mjs"))
        .args(files)
        .output()
        .expect("node runs")
}

#[test]
fn wasm_modules_import_only_wasm_bindgen_glue() {
    let (Some(node_pkg), Some(web_pkg)) = (
        require_package(Package::Node, "wasm_imports"),
        require_package(Package::Web, "wasm_imports"),
    ) else {
        return;
    };
    let modules = [
        node_pkg.join("framex_wasm_bg.wasm"),
        web_pkg.join("framex_wasm_bg.wasm"),
    ];
    let output = check_imports(&modules);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_import_check_refuses_an_env_import() {
    if require_package(Package::Node, "wasm_imports").is_none() {
        return;
    }
    // The smallest module that imports a function `env.now`: what a
    // dependency reaching for the host would add.
    #[rustfmt::skip]
    let module: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
        0x02, 0x0b, 0x01, 0x03, b'e', b'n', b'v', 0x03, b'n', b'o', b'w', 0x00, 0x00, // import env.now
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env_import.wasm");
    std::fs::write(&path, module).unwrap();
    let output = check_imports(&[path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("env :: now (function)"), "{stderr}");
}
