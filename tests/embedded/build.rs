//! Puts the target's linker script in OUT_DIR as `link.x` and links with it
//! (with `WSLITE_RAM_KIB` KiB of RAM instead of 16 if set), and turns the optional buffer-size variables into constants for the size
//! binary (so `run.sh` can measure what each buffer size costs).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target = env::var("TARGET").unwrap();
    let script = if target.starts_with("riscv32") {
        "link/riscv.x"
    } else if target.starts_with("thumb") {
        "link/cortex-m.x"
    } else {
        // A host build (e.g. `cargo check` without --target): nothing to link.
        return;
    };
    // The boards have more RAM than the 16 KiB the scripts give (the
    // microbit's): WSLITE_RAM_KIB lends the others more, for the
    // compression binaries whose 15-bit state does not fit in 16 KiB.
    println!("cargo:rerun-if-env-changed=WSLITE_RAM_KIB");
    let text = fs::read_to_string(script).unwrap();
    let text = match env::var("WSLITE_RAM_KIB") {
        Ok(kib) => {
            let kib: u32 = kib.parse().expect("WSLITE_RAM_KIB");
            let (ram, rest) = text.split_once("RAM   (rwx)").unwrap();
            let (line, rest) = rest.split_once('\n').unwrap();
            let line = line.replace("LENGTH = 16K", &format!("LENGTH = {kib}K"));
            format!("{ram}RAM   (rwx){line}\n{rest}")
        }
        Err(_) => text,
    };
    fs::write(out.join("link.x"), text).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-changed=build.rs");

    // Buffer sizes of the size binary: WSLITE_BUF bytes of I/O buffer (the
    // handshake is read into it, the 101 written into it, then frames are
    // read through it) and WSLITE_HEADERS header slots. The defaults are
    // the smallest an embedded endpoint would choose for this exchange: the
    // RFC 6455 §1.3 request is 230 bytes with 7 header fields, the 101 is
    // 129 bytes, and frames stream through any size.
    let num = |name: &str, default: usize| -> usize {
        println!("cargo:rerun-if-env-changed={name}");
        env::var(name)
            .ok()
            .map_or(default, |v| v.parse().expect(name))
    };
    let config = format!(
        "pub const BUF: usize = {};\npub const HEADERS: usize = {};\n",
        num("WSLITE_BUF", 256),
        num("WSLITE_HEADERS", 8)
    );
    fs::write(out.join("config.rs"), config).unwrap();
}
