//! Builds the kernel side of the eBPF sensor (`bpf/sensor.bpf.c`) and of enforcement (`bpf/enforce.bpf.c`)
//! with clang when the build machine can.
//!
//! Needs `clang`, the libbpf headers (`libbpf-dev`), `bpftool` and a kernel with BTF
//! (`/sys/kernel/btf/vmlinux`, or `PALISADE_BPF_BTF=FILE`): `vmlinux.h` is generated from that BTF into
//! `OUT_DIR` (never committed) and the object is CO-RE, so it loads on other kernels with BTF. When anything is
//! missing the crate still builds, without the object: the cfg `palisade_bpf` is unset and
//! `PALISADE_BPF_UNAVAILABLE` carries the reason the sensor reports at start. `PALISADE_NO_BPF=1` forces that.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(palisade_bpf)");
    println!("cargo::rerun-if-changed=bpf/sensor.bpf.c");
    println!("cargo::rerun-if-changed=bpf/enforce.bpf.c");
    for var in ["PALISADE_BPF_CLANG", "PALISADE_BPF_BTF", "PALISADE_NO_BPF", "PATH"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    match build() {
        Ok(()) => println!("cargo::rustc-cfg=palisade_bpf"),
        Err(reason) => {
            println!("cargo::warning=eBPF sensor not built: {reason}");
            println!("cargo::rustc-env=PALISADE_BPF_UNAVAILABLE=this build has no eBPF object ({reason})");
        }
    }
}

fn build() -> Result<(), String> {
    if env::var_os("PALISADE_NO_BPF").is_some_and(|v| v != "0") {
        return Err("PALISADE_NO_BPF is set".into());
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR unset")?);
    let arch = match env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default().as_str() {
        "x86_64" => "x86",
        "aarch64" => "arm64",
        other => return Err(format!("no eBPF target arch mapping for {other}")),
    };
    let clang = env::var_os("PALISADE_BPF_CLANG")
        .map(PathBuf::from)
        .or_else(|| which("clang"))
        .ok_or("clang not found")?;
    let bpftool = which("bpftool").ok_or("bpftool not found (package bpftool)")?;
    if !Path::new("/usr/include/bpf/bpf_helpers.h").exists() {
        return Err("libbpf headers not found (package libbpf-dev)".into());
    }
    let btf = env::var_os("PALISADE_BPF_BTF")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    if !btf.exists() {
        return Err(format!("no kernel BTF at {}", btf.display()));
    }

    let dump = Command::new(&bpftool)
        .args(["btf", "dump", "file"])
        .arg(&btf)
        .args(["format", "c"])
        .output()
        .map_err(|e| format!("running bpftool: {e}"))?;
    if !dump.status.success() {
        return Err(format!("bpftool btf dump failed: {}", String::from_utf8_lossy(&dump.stderr).trim()));
    }
    std::fs::write(out.join("vmlinux.h"), &dump.stdout).map_err(|e| format!("writing vmlinux.h: {e}"))?;

    for name in ["sensor", "enforce"] {
        let object = out.join(format!("{name}.bpf.o"));
        let compiled = Command::new(&clang)
            .args([
                "-g",
                "-O2",
                "-target",
                "bpf",
                &format!("-D__TARGET_ARCH_{arch}"),
                "-Wall",
                "-Wno-unused-function",
            ])
            .arg("-I")
            .arg(&out)
            .arg("-c")
            .arg(format!("bpf/{name}.bpf.c"))
            .arg("-o")
            .arg(&object)
            .output()
            .map_err(|e| format!("running clang: {e}"))?;
        if !compiled.status.success() {
            return Err(format!(
                "clang failed on {name}.bpf.c: {}",
                String::from_utf8_lossy(&compiled.stderr).trim()
            ));
        }
    }
    Ok(())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
