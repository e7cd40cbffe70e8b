//! podman without its API socket: `podman image inspect NAME`, then `podman save --format docker-archive`
//! into a private temp file (at most `max_layer_bytes`; podman is stopped past it), read like `--input`.
//!
//! podman runs with the scanner's environment, so `CONTAINERS_STORAGE_CONF`, `CONTAINERS_CONF` and the
//! user's own configuration choose the storage it reads. The image itself is never run.

use super::{Found, Miss, PodmanCli};
use crate::{Options, image};
use palisade_core::Warnings;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Inspect {
    #[serde(default)]
    id: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    repo_digests: Option<Vec<String>>,
}

/// `name` on `$PATH`, if it is there.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn binary(cli: &PodmanCli) -> Result<PathBuf, Miss> {
    match cli {
        PodmanCli::Disabled => {
            Err(Miss::Absent("no podman API socket (the podman binary is not used)".into()))
        }
        PodmanCli::Binary(p) if p.is_file() => Ok(p.clone()),
        PodmanCli::Binary(p) => {
            Err(Miss::Absent(format!("no podman API socket and no podman at {}", p.display())))
        }
        PodmanCli::FromPath => on_path("podman")
            .ok_or_else(|| Miss::Absent("no podman API socket and no podman on $PATH".into())),
    }
}

/// Wait for `child`, at most `limit`; `check` is called every 100 ms and may stop it with a reason.
fn wait(
    mut child: Child,
    limit: Option<Duration>,
    check: impl Fn() -> Option<String>,
) -> Result<bool, String> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status.success()),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot wait for podman: {e}")),
        }
        let why = match limit {
            Some(l) if start.elapsed() > l => Some(format!("podman did not finish within {} s", l.as_secs())),
            _ => check(),
        };
        if let Some(why) = why {
            let _ = child.kill();
            let _ = child.wait();
            return Err(why);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Run podman with `args`, stdout and stderr to files in `dir`; returns (success, stdout, stderr).
fn run(
    bin: &Path,
    args: &[&str],
    dir: &Path,
    limit: Option<Duration>,
    check: impl Fn() -> Option<String>,
) -> Result<(bool, Vec<u8>, String), String> {
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let out = std::fs::File::create(&out_path).map_err(|e| format!("cannot create a temp file: {e}"))?;
    let err = std::fs::File::create(&err_path).map_err(|e| format!("cannot create a temp file: {e}"))?;
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let ok = wait(child, limit, check)?;
    let stdout = std::fs::read(&out_path).unwrap_or_default();
    let stderr = std::fs::read(&err_path).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr[..stderr.len().min(2000)]).trim().to_string();
    Ok((ok, stdout, stderr))
}

fn is_not_found(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("image not known") || s.contains("no such image") || s.contains("failed to find image")
}

/// Look `reference` up with the podman binary, save it and scan it.
pub(crate) fn scan(
    reference: &str,
    opts: &Options,
    sink: &dyn crate::FileSink,
    warnings: &Warnings,
) -> Result<Found, Miss> {
    let bin = binary(&opts.engines.podman_cli)?;
    let tmp = tempfile::Builder::new()
        .prefix("palisade-podman-")
        .tempdir()
        .map_err(|e| Miss::Failed(format!("cannot create a temporary directory: {e}")))?;
    let timeout = opts.engines.timeout();
    let (ok, stdout, stderr) =
        run(&bin, &["image", "inspect", "--", reference], tmp.path(), Some(timeout), || None)
            .map_err(Miss::Failed)?;
    if !ok {
        return Err(if is_not_found(&stderr) {
            Miss::NotFound(format!("{} image inspect: {stderr}", bin.display()))
        } else {
            Miss::Failed(format!("{} image inspect failed: {stderr}", bin.display()))
        });
    }
    let inspect = serde_json::from_slice::<Vec<Inspect>>(&stdout)
        .map_err(|e| Miss::Failed(format!("podman image inspect printed something unexpected: {e}")))?
        .into_iter()
        .next()
        .unwrap_or_default();
    opts.stage(format!("saving {reference} with podman"));
    let path = tmp.path().join("image.tar");
    let path_str =
        path.to_str().ok_or_else(|| Miss::Failed("temporary path is not UTF-8".into()))?.to_string();
    let cap = opts.limits.max_layer_bytes;
    let too_big = || {
        std::fs::metadata(&path)
            .ok()
            .filter(|m| m.len() > cap)
            .map(|_| format!("the saved image is larger than {cap} bytes (limit max_layer_bytes)"))
    };
    let (ok, _, stderr) = run(
        &bin,
        &["save", "--quiet", "--format", "docker-archive", "--output", &path_str, "--", reference],
        tmp.path(),
        None,
        too_big,
    )
    .map_err(Miss::Failed)?;
    if !ok {
        return Err(Miss::Failed(format!("{} save failed: {stderr}", bin.display())));
    }
    if let Some(why) = too_big() {
        return Err(Miss::Failed(why));
    }
    let (mut info, tree) = image::scan_archive_as(&path, reference, opts, sink, warnings)
        .map_err(|e| Miss::Failed(format!("the saved image cannot be read: {e}")))?;
    if !inspect.id.is_empty() {
        info.id = Some(super::docker_api::normalize_id(&inspect.id));
    }
    if let Some(tags) = inspect.repo_tags.filter(|t| !t.is_empty()) {
        info.repo_tags = tags;
    }
    info.repo_digests = inspect.repo_digests.unwrap_or_default();
    Ok((info, tree))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binary_is_absent() {
        let r = binary(&PodmanCli::Binary("/nonexistent/podman".into()));
        assert!(matches!(r, Err(Miss::Absent(_))), "{r:?}");
        assert!(matches!(binary(&PodmanCli::Disabled), Err(Miss::Absent(_))));
    }

    #[test]
    fn not_found_messages() {
        assert!(is_not_found("Error: x: image not known"));
        assert!(is_not_found("Error: no such image"));
        assert!(!is_not_found("Error: permission denied"));
    }
}
