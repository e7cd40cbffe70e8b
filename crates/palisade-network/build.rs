//! Builds the cgroup `connect4`/`connect6` firewall program (`bpf/connect.bpf.c`) with clang when the build
//! machine can. It uses only the kernel's UAPI (`struct bpf_sock_addr`) and libbpf's helper headers, so no
//! BTF or `vmlinux.h` is needed. Without clang or the headers (`libbpf-dev`) the crate still builds, without
//! the object: the cfg `palisade_cgroup_bpf` is unset and `PALISADE_CGROUP_BPF_UNAVAILABLE` carries the
//! reason the cgroup mechanism reports. `PALISADE_NO_BPF=1` forces that.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(palisade_cgroup_bpf)");
    println!("cargo::rerun-if-changed=bpf/connect.bpf.c");
    for var in ["PALISADE_BPF_CLANG", "PALISADE_NO_BPF", "PATH"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    match build() {
        Ok(()) => println!("cargo::rustc-cfg=palisade_cgroup_bpf"),
        Err(reason) => {
            println!("cargo::warning=cgroup connect firewall not built: {reason}");
            println!(
                "cargo::rustc-env=PALISADE_CGROUP_BPF_UNAVAILABLE=this build has no cgroup BPF object ({reason})"
            );
        }
    }
}

fn build() -> Result<(), String> {
    if env::var_os("PALISADE_NO_BPF").is_some_and(|v| v != "0") {
        return Err("PALISADE_NO_BPF is set".into());
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR unset")?);
    let multiarch = match env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default().as_str() {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        other => return Err(format!("no eBPF include mapping for {other}")),
    };
    let clang = env::var_os("PALISADE_BPF_CLANG")
        .map(PathBuf::from)
        .or_else(|| which("clang"))
        .ok_or("clang not found")?;
    if !Path::new("/usr/include/bpf/bpf_helpers.h").exists() {
        return Err("libbpf headers not found (package libbpf-dev)".into());
    }
    let compiled = Command::new(&clang)
        .args(["-g", "-O2", "-target", "bpf", "-Wall"])
        .arg(format!("-I/usr/include/{multiarch}"))
        .args(["-c", "bpf/connect.bpf.c", "-o"])
        .arg(out.join("connect.bpf.o"))
        .output()
        .map_err(|e| format!("running clang: {e}"))?;
    if !compiled.status.success() {
        return Err(format!("clang failed: {}", String::from_utf8_lossy(&compiled.stderr).trim()));
    }
    Ok(())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}
