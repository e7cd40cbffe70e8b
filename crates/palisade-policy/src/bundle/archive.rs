//! A bundle directory as one tar+gzip layer, and back.
//!
//! [`pack`] writes a reproducible archive (entries sorted, owner 0, mode 0644/0755, mtime 0) of every regular
//! file under the directory; hidden entries (`.git`, ...) are left out and symbolic links are not followed
//! (they are listed in the returned warnings), as [`super::Bundle::read`] skips them too.
//!
//! [`unpack`] reads an archive that came from a registry, so it trusts nothing in it: only regular files and
//! directories are accepted; absolute paths, `..` components, links and devices, duplicate paths, more than
//! [`super::MAX_FILES`] entries, a file over [`super::MAX_FILE_SIZE`] or more than [`MAX_UNPACKED`] bytes in
//! all are refused with an error naming the entry. Files are created by this code (never by the tar crate's
//! `unpack`) inside a directory the caller made.

use super::{MAX_FILE_SIZE, MAX_FILES};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// Most bytes a bundle archive may unpack to (and that [`pack`] writes).
pub const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// Why an archive could not be made or read. Each message names the entry (or file) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The archive holds something a bundle may not (a link, a path outside the bundle, too much data).
    #[error("bundle archive entry {entry:?}: {message}")]
    Refused { entry: String, message: String },
    #[error("bundle archive: {0}")]
    Corrupt(String),
}

/// What [`pack`] made.
#[derive(Debug)]
pub struct Packed {
    /// The tar+gzip bytes.
    pub bytes: Vec<u8>,
    /// Regular files archived.
    pub files: usize,
    /// Entries left out (symbolic links, special files), one line each.
    pub warnings: Vec<String>,
}

/// Archive every regular, non-hidden file under `dir` (see the module documentation).
pub fn pack(dir: &Path) -> Result<Packed, ArchiveError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Io { path, source }
    };
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(&d))? {
            let entry = entry.map_err(io(&d))?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ft = entry.file_type().map_err(io(&path))?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                files.push(path);
            } else {
                warnings.push(format!(
                    "{}: not a regular file (links are not followed): left out",
                    path.display()
                ));
            }
        }
    }
    files.sort();
    if files.len() > MAX_FILES {
        return Err(ArchiveError::Refused {
            entry: dir.display().to_string(),
            message: format!("{} files, more than the {MAX_FILES} a bundle may hold", files.len()),
        });
    }
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut total = 0u64;
    for path in &files {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let data = std::fs::read(path).map_err(io(path))?;
        total += data.len() as u64;
        if data.len() as u64 > MAX_FILE_SIZE || total > MAX_UNPACKED {
            return Err(ArchiveError::Refused {
                entry: rel,
                message: format!(
                    "over the size limits ({MAX_FILE_SIZE} bytes a file, {MAX_UNPACKED} bytes in all)"
                ),
            });
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, &rel, data.as_slice()).map_err(io(path))?;
    }
    let gz = tar.into_inner().map_err(io(dir))?;
    let bytes = gz.finish().map_err(io(dir))?;
    Ok(Packed { bytes, files: files.len(), warnings })
}

/// The checked relative path of an entry: normal components only.
fn entry_path(raw: &Path) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err("path leaves the bundle (`..`)".into()),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path".into()),
        }
    }
    if out.as_os_str().is_empty() {
        return Err("empty path".into());
    }
    Ok(out)
}

/// Unpack `bytes` (tar+gzip) into `dest`, an existing empty directory. Returns the number of files written.
pub fn unpack(bytes: &[u8], dest: &Path) -> Result<usize, ArchiveError> {
    let refused = |entry: &str, message: String| ArchiveError::Refused { entry: entry.to_string(), message };
    // One byte over the limit tells a bomb from an archive exactly at the limit.
    let gz = flate2::read::GzDecoder::new(bytes).take(MAX_UNPACKED + 1024 * 1024);
    let mut archive = tar::Archive::new(gz);
    let entries = archive.entries().map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
    let (mut files, mut count, mut total) = (0usize, 0usize, 0u64);
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveError::Corrupt(format!("not a tar+gzip archive: {e}")))?;
        let raw = entry.path().map_err(|e| ArchiveError::Corrupt(e.to_string()))?.into_owned();
        let name = raw.display().to_string();
        count += 1;
        if count > MAX_FILES {
            return Err(refused(&name, format!("more than {MAX_FILES} entries")));
        }
        let rel = entry_path(&raw).map_err(|m| refused(&name, m))?;
        let target = dest.join(&rel);
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target)
                    .map_err(|source| ArchiveError::Io { path: target.clone(), source })?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.header().size().map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
                total += size;
                if size > MAX_FILE_SIZE {
                    return Err(refused(
                        &name,
                        format!("{size} bytes, over the {MAX_FILE_SIZE}-byte file limit"),
                    ));
                }
                if total > MAX_UNPACKED {
                    return Err(refused(
                        &name,
                        format!("the archive unpacks to more than {MAX_UNPACKED} bytes"),
                    ));
                }
                if let Some(parent) = target.parent() {
                    // A parent that exists as a file makes this fail: no entry can write through another.
                    std::fs::create_dir_all(parent)
                        .map_err(|source| ArchiveError::Io { path: parent.to_path_buf(), source })?;
                }
                let mut out =
                    std::fs::OpenOptions::new().write(true).create_new(true).open(&target).map_err(|e| {
                        if e.kind() == std::io::ErrorKind::AlreadyExists {
                            refused(&name, "the path appears twice".into())
                        } else {
                            ArchiveError::Io { path: target.clone(), source: e }
                        }
                    })?;
                let mut data = Vec::with_capacity(size as usize);
                (&mut entry)
                    .take(size)
                    .read_to_end(&mut data)
                    .map_err(|e| ArchiveError::Corrupt(format!("entry {name:?} is truncated ({e})")))?;
                if data.len() as u64 != size {
                    return Err(ArchiveError::Corrupt(format!("entry {name:?} is truncated")));
                }
                out.write_all(&data).map_err(|source| ArchiveError::Io { path: target.clone(), source })?;
                files += 1;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                return Err(refused(&name, "links are not allowed in a policy bundle".into()));
            }
            other => {
                return Err(refused(
                    &name,
                    format!("entry type {other:?} is not allowed (regular files only)"),
                ));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let raw = b.into_inner().expect("tar");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).expect("gz");
        gz.finish().expect("gz")
    }

    /// A header whose path is written raw, bypassing the tar crate's own `..` checks (as an attacker would).
    fn raw_entry(b: &mut tar::Builder<Vec<u8>>, path: &str, kind: tar::EntryType, data: &[u8], link: &str) {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(kind);
        h.set_cksum();
        b.append(&h, data).expect("append");
    }

    #[test]
    fn pack_then_unpack_round_trips_and_is_reproducible() {
        let src = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(src.path().join("rego/lib")).expect("mkdir");
        std::fs::write(src.path().join("palisade-policy.yaml"), "a: 1\n").expect("w");
        std::fs::write(src.path().join("rego/lib/x.rego"), "package x\n").expect("w");
        std::fs::create_dir_all(src.path().join(".git")).expect("mkdir");
        std::fs::write(src.path().join(".git/HEAD"), "ref").expect("w");
        std::os::unix::fs::symlink("/etc/passwd", src.path().join("link.yaml")).expect("symlink");
        let a = pack(src.path()).expect("pack");
        let b = pack(src.path()).expect("pack");
        assert_eq!(a.bytes, b.bytes, "the archive must not depend on time or owner");
        assert_eq!(a.files, 2);
        assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
        let dest = tempfile::tempdir().expect("tmp");
        assert_eq!(unpack(&a.bytes, dest.path()).expect("unpack"), 2);
        assert_eq!(std::fs::read_to_string(dest.path().join("rego/lib/x.rego")).expect("r"), "package x\n");
        assert!(!dest.path().join(".git").exists() && !dest.path().join("link.yaml").exists());
    }

    #[test]
    fn hostile_archives_are_refused_with_the_entry_named() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                tar_gz(|b| raw_entry(b, "../evil.rego", tar::EntryType::Regular, b"x", "")),
                "leaves the bundle",
            ),
            (
                tar_gz(|b| raw_entry(b, "a/../../evil", tar::EntryType::Regular, b"x", "")),
                "leaves the bundle",
            ),
            (tar_gz(|b| raw_entry(b, "/etc/evil", tar::EntryType::Regular, b"x", "")), "absolute path"),
            (tar_gz(|b| raw_entry(b, "p.yaml", tar::EntryType::Symlink, b"", "/etc/passwd")), "links"),
            (tar_gz(|b| raw_entry(b, "h.yaml", tar::EntryType::Link, b"", "/etc/passwd")), "links"),
            (tar_gz(|b| raw_entry(b, "dev", tar::EntryType::Char, b"", "")), "not allowed"),
            (
                tar_gz(|b| {
                    raw_entry(b, "a.rego", tar::EntryType::Regular, b"x", "");
                    raw_entry(b, "a.rego", tar::EntryType::Regular, b"y", "");
                }),
                "appears twice",
            ),
            (b"not a gzip stream".to_vec(), "not a tar+gzip archive"),
        ];
        for (bytes, want) in cases {
            let dest = tempfile::tempdir().expect("tmp");
            let e = unpack(&bytes, dest.path()).expect_err(want).to_string();
            assert!(e.contains(want), "{e} (wanted {want})");
        }
        let outside = tempfile::tempdir().expect("tmp");
        assert!(std::fs::read_dir(outside.path()).expect("ls").next().is_none());
    }

    #[test]
    fn size_caps_stop_large_files_and_gzip_bombs() {
        // A file over the per-file limit: the header alone decides, nothing is written.
        let big = vec![b'a'; (MAX_FILE_SIZE + 1) as usize];
        let bytes = tar_gz(|b| raw_entry(b, "big.rego", tar::EntryType::Regular, &big, ""));
        assert!(bytes.len() < 100_000, "compresses well: a bomb in miniature ({} bytes)", bytes.len());
        let dest = tempfile::tempdir().expect("tmp");
        let e = unpack(&bytes, dest.path()).expect_err("too big").to_string();
        assert!(e.contains("big.rego") && e.contains("file limit"), "{e}");
        // Many files under the file limit that add up to more than the total.
        let chunk = vec![b'b'; (MAX_FILE_SIZE - 1024) as usize];
        let n = (MAX_UNPACKED / chunk.len() as u64) + 1;
        let bytes = tar_gz(|b| {
            for i in 0..n {
                raw_entry(b, &format!("f{i}.rego"), tar::EntryType::Regular, &chunk, "");
            }
        });
        let dest = tempfile::tempdir().expect("tmp");
        let e = unpack(&bytes, dest.path()).expect_err("too much").to_string();
        assert!(e.contains("more than") && e.contains("bytes"), "{e}");
    }
}
