//! Go executables (ELF, PE, Mach-O, including universal Mach-O): the build information the Go linker embeds.
//!
//! The linker writes a 32-byte header starting with the magic `\xff Go buildinf:` at a 16-byte aligned
//! offset, in the `.go.buildinfo` section (ELF), `__go_buildinfo` (Mach-O) or at the start of the data
//! section (PE, older toolchains). Byte 14 is the pointer size, byte 15 holds flags: bit 0 big-endian, bit 1
//! (Go >= 1.18) "inline": the Go version and the module information follow the header as two
//! uvarint-length-prefixed strings. Without bit 1 (Go < 1.18) the header holds at offset 16 two pointers to Go
//! string headers (`{data pointer, length}`) for the version and the module information, which are resolved
//! through the executable's segment (or section) virtual addresses.
//!
//! The module information is framed by two 16-byte sentinels, which are stripped, and is made of
//! tab-separated lines: `path` (the main package), `mod` (the main module: path, version, sum), `dep`
//! (a dependency), `=>` (a replacement of the preceding `dep`) and `build` (build settings).
//!
//! Output, like Trivy and Grype:
//! - one package per `dep`. A module replacement (`=> other/module v1.2.3`) reports the replacing module
//!   (metadata `replaces` = the original path); a local-directory replacement (`=> ./dir`) keeps the required
//!   module and version, with metadata `replaced_by_path`. The `h1:` checksum is in metadata `sum`.
//! - the main module as the file's root project (not a package): version as written (often `(devel)`),
//!   metadata `main = "true"` and a few build settings (`GOOS`, `GOARCH`, `CGO_ENABLED`, `vcs.revision`,
//!   ...) as `build.<key>`. Build info has no dependency graph, so it depends on every module linked in and
//!   on `stdlib`, as Trivy records it.
//! - `stdlib` at the toolchain version: `go1.21.5` becomes `v1.21.5`, `go1.20` becomes `v1.20.0`, `go1.22rc1`
//!   becomes `v1.22.0-rc.1`. Development toolchains (`devel ...`) give no `stdlib` package.
//!
//! Every package carries metadata `go_version` (the raw toolchain string). A file that is not an executable,
//! or an executable without Go build information, yields nothing; an executable whose headers cannot be
//! parsed or that is truncated, or whose `.go.buildinfo`/`__go_buildinfo` section does not decode, is an
//! error. Without such a section (PE files), only writable data sections are searched and a header that does
//! not decode to a Go version is skipped, so that programs merely containing the magic string (this scanner
//! among them) are not taken for Go binaries.

use crate::{Input, Output, ParseError, Parser, Project, parent_dir};
use object::read::macho::{FatArch, MachOFatFile32, MachOFatFile64};
use object::{FileKind, Object, ObjectSection, ObjectSegment, SectionKind};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};

/// The Go build information parser.
pub struct GoBinary;

/// Smallest file worth opening as a compiled executable.
const MIN_BINARY_SIZE: u64 = 1024;
/// Largest executable looked at. Go build info is usually read from its section alone; a whole read is still
/// bounded by the artifact reader's `max_file_size`.
const MAX_BINARY_SIZE: u64 = 8 * 1024 * 1024 * 1024;
/// The build information header magic.
const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_SIZE: usize = 32;
const ALIGN: usize = 16;
/// Caps on the strings read out of the build information.
const MAX_VERSION_LEN: u64 = 1024;
const MAX_MODINFO_LEN: u64 = 16 * 1024 * 1024;

/// Build settings copied into the main module's metadata as `build.<key>`.
const KEPT_BUILD_SETTINGS: &[&str] =
    &["GOOS", "GOARCH", "CGO_ENABLED", "-buildmode", "vcs", "vcs.revision", "vcs.time", "vcs.modified"];

/// Directory names whose files are treated as programs even without an execute bit (the mode is unknown for
/// some artifact kinds).
const BIN_DIRS: &[&str] = &["bin", "sbin", "libexec"];

/// Extensions of files that are never compiled executables, even with an execute bit.
const SCRIPT_EXTENSIONS: &[&str] =
    &["sh", "bash", "py", "pl", "rb", "js", "php", "txt", "md", "json", "yaml", "yml", "xml", "html", "conf"];

/// True for files worth reading to look for an embedded compiled-binary payload: executables, files in a
/// `bin`/`sbin` directory and `.exe` files, within a plausible size and without a script extension. Shared
/// with the `cargo auditable` parser.
pub(crate) fn is_binary_candidate(meta: &FileMeta) -> bool {
    if !(MIN_BINARY_SIZE..MAX_BINARY_SIZE).contains(&meta.size) {
        return false;
    }
    let name = meta.file_name();
    // Called for every file of every layer: compare the extension without allocating a lowercase copy.
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    if ext.is_some_and(|e| SCRIPT_EXTENSIONS.iter().any(|s| s.eq_ignore_ascii_case(e))) {
        return false;
    }
    if meta.is_executable() || ext.is_some_and(|e| e.eq_ignore_ascii_case("exe")) {
        return true;
    }
    let parent = &meta.path[..meta.path.len() - name.len()];
    BIN_DIRS.contains(&palisade_artifact::file_name(parent.strip_suffix('/').unwrap_or(parent)))
}

/// Cheap check of the first bytes: ELF, PE (MZ header pointing at a `PE\0\0` signature) or Mach-O (thin or
/// universal). Most executable files in an image are scripts; they stop here. Shared with the `cargo
/// auditable` parser.
pub(crate) fn is_executable_format(data: &[u8]) -> bool {
    match data {
        [0x7f, b'E', b'L', b'F', ..] => true,
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => true,
        // Universal Mach-O shares its magic with Java class files; a class file has its version (>= 45)
        // where a universal binary has its small architecture count.
        [0xca, 0xfe, 0xba, 0xbe, a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]) < 20,
        [b'M', b'Z', ..] => {
            let Some(lfanew) = data.get(0x3c..0x40).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
                return false;
            };
            let off = u32::from_le_bytes(lfanew) as usize;
            data.get(off..off.saturating_add(4)) == Some(b"PE\0\0")
        }
        _ => false,
    }
}

impl Parser for GoBinary {
    fn id(&self) -> &'static str {
        "go-binary"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        is_binary_candidate(meta)
    }

    fn wants_after_probe(&self, _meta: &FileMeta, probe: &dyn palisade_artifact::Probe) -> bool {
        super::binary_probe::keep_binary(probe, &[".go.buildinfo", ".note.go.buildid"])
    }

    /// ELF executables of Go >= 1.18 keep the whole build info inline in `.go.buildinfo`: read that section
    /// alone instead of the (often 100 MB) binary. Older (pointer) formats and PE/Mach-O are read whole.
    fn parse_probe(
        &self,
        meta: &FileMeta,
        probe: &dyn palisade_artifact::Probe,
        out: &mut Output,
    ) -> Option<Result<(), ParseError>> {
        const MAX_SECTION: u64 = 16 << 20;
        let (offset, size) = super::binary_probe::elf_find_section(probe, &[".go.buildinfo"])??;
        if size > MAX_SECTION || offset.checked_add(size)? > meta.size {
            return None;
        }
        let section = probe.read_at(offset, usize::try_from(size).ok()?)?;
        let magic_at = find_magic(&section, ALIGN)?;
        let raw = decode(tail(&section, magic_at), &NoMemory).ok()?;
        let info = parse_modinfo(&raw.modinfo, &mut out.warnings);
        let input = Input { path: meta.path, layer: meta.layer, data: &[] };
        self.emit(&input, &raw.version, info, out);
        Some(Ok(()))
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        if !is_executable_format(input.data) {
            return Ok(());
        }
        let Some(raw) = find_build_info(input.data)? else { return Ok(()) };
        let info = parse_modinfo(&raw.modinfo, &mut out.warnings);
        self.emit(input, &raw.version, info, out);
        Ok(())
    }
}

impl GoBinary {
    fn emit(&self, input: &Input, go_version: &str, info: ModInfo, out: &mut Output) {
        let location = input.location();
        let with_go = |mut p: Package| {
            p.metadata.insert("go_version".into(), go_version.to_string());
            p
        };
        let first_dep = out.packages.len();
        let main = info.main.map(|main| {
            let mut p = Package::new(Ecosystem::Golang, main.path, main.version, location.clone(), self.id());
            p.metadata.insert("main".into(), "true".into());
            if let Some(sum) = main.sum {
                p.metadata.insert("sum".into(), sum);
            }
            for (k, v) in info.build {
                if KEPT_BUILD_SETTINGS.contains(&k.as_str()) {
                    p.metadata.insert(format!("build.{k}"), v);
                }
            }
            with_go(p)
        });
        for dep in info.deps {
            let p = match dep.replace {
                Some(r) if is_local_replacement(&r) => {
                    let mut p = Package::new(
                        Ecosystem::Golang,
                        dep.module.path,
                        dep.module.version,
                        location.clone(),
                        self.id(),
                    );
                    p.metadata.insert("replaced_by_path".into(), r.path);
                    if let Some(sum) = dep.module.sum {
                        p.metadata.insert("sum".into(), sum);
                    }
                    p
                }
                Some(r) => {
                    let mut p =
                        Package::new(Ecosystem::Golang, r.path, r.version, location.clone(), self.id());
                    p.metadata.insert("replaces".into(), dep.module.path);
                    if let Some(sum) = r.sum {
                        p.metadata.insert("sum".into(), sum);
                    }
                    p
                }
                None => {
                    let mut p = Package::new(
                        Ecosystem::Golang,
                        dep.module.path,
                        dep.module.version,
                        location.clone(),
                        self.id(),
                    );
                    if let Some(sum) = dep.module.sum {
                        p.metadata.insert("sum".into(), sum);
                    }
                    p
                }
            };
            out.packages.push(with_go(p));
        }
        if let Some(v) = stdlib_version(go_version) {
            out.packages.push(with_go(Package::new(Ecosystem::Golang, "stdlib", v, location, self.id())));
        }
        if let Some(mut main) = main {
            main.dependencies =
                out.packages.get(first_dep..).unwrap_or_default().iter().map(|p| p.purl.clone()).collect();
            main.dependencies.sort();
            main.dependencies.dedup();
            out.projects.push(Project::new(main, parent_dir(input.path)));
        }
    }
}

/// A replacement by a directory rather than a module: no version, or a path that is not a module path.
fn is_local_replacement(m: &Module) -> bool {
    m.version.is_empty() || m.version == "(devel)" || m.path.starts_with('.') || m.path.starts_with('/')
}

/// `go1.21.5` -> `v1.21.5`, `go1.20` -> `v1.20.0`, `go1.22rc1` -> `v1.22.0-rc.1`; experiments after a space
/// (`go1.21.5 X:boringcrypto`) are dropped. `None` for development builds or anything unrecognised.
fn stdlib_version(go_version: &str) -> Option<String> {
    let v = go_version.split_whitespace().next()?.strip_prefix("go")?;
    let (release, pre) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let parts: Vec<&str> = release.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut out = format!("v{}", parts.join("."));
    if parts.len() == 2 {
        out.push_str(".0");
    }
    if let Some(pre) = pre {
        let split = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (word, num) = (&pre[..split], &pre[split..]);
        if !matches!(word, "rc" | "beta" | "alpha") || !num.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push('-');
        out.push_str(word);
        if !num.is_empty() {
            out.push('.');
            out.push_str(num);
        }
    }
    Some(out)
}

/// The two strings of the build information.
#[derive(Debug, PartialEq)]
struct RawBuildInfo {
    version: String,
    modinfo: String,
}

/// Virtual memory of an executable, to follow the pointers of the pre-1.18 format.
trait AddressSpace {
    /// `len` bytes at virtual address `addr`, when they are backed by file data.
    fn read(&self, addr: u64, len: u64) -> Option<&[u8]>;
}

impl<'data> AddressSpace for object::File<'data> {
    fn read(&self, addr: u64, len: u64) -> Option<&[u8]> {
        self.segments()
            .find_map(|s| s.data_range(addr, len).ok().flatten())
            // Sections only where they are loaded somewhere: unloaded ones all sit at address 0.
            .or_else(|| {
                self.sections()
                    .filter(|s| s.address() != 0)
                    .find_map(|s| s.data_range(addr, len).ok().flatten())
            })
    }
}

/// An address space with nothing mapped, for files the `object` crate cannot open.
struct NoMemory;

impl AddressSpace for NoMemory {
    fn read(&self, _: u64, _: u64) -> Option<&[u8]> {
        None
    }
}

/// Locate and decode the build information. `Ok(None)`: a valid executable that is not a Go program.
fn find_build_info(data: &[u8]) -> Result<Option<RawBuildInfo>, ParseError> {
    for slice in thin_slices(data)? {
        if let Some(info) = find_in_thin(slice)? {
            return Ok(Some(info));
        }
    }
    Ok(None)
}

/// The single-architecture images in `data`: the slices of a universal Mach-O, or `data` itself. Shared
/// with the `cargo auditable` parser.
pub(crate) fn thin_slices(data: &[u8]) -> Result<Vec<&[u8]>, ParseError> {
    fn slices<'d, A: FatArch>(data: &'d [u8], arches: &[A]) -> Result<Vec<&'d [u8]>, ParseError> {
        arches
            .iter()
            .map(|a| {
                a.data(data).map_err(|e| ParseError::new(format!("invalid universal Mach-O slice: {e}")))
            })
            .collect()
    }
    let bad = |e: object::Error| ParseError::new(format!("invalid universal Mach-O: {e}"));
    match FileKind::parse(data) {
        Ok(FileKind::MachOFat32) => slices(data, MachOFatFile32::parse(data).map_err(bad)?.arches()),
        Ok(FileKind::MachOFat64) => slices(data, MachOFatFile64::parse(data).map_err(bad)?.arches()),
        _ => Ok(vec![data]),
    }
}

fn find_in_thin(data: &[u8]) -> Result<Option<RawBuildInfo>, ParseError> {
    let file = match object::File::parse(data) {
        Ok(f) => f,
        Err(e) => {
            // Headers we cannot read: the inline format needs no addresses, so a raw scan still works.
            return match find_magic(data, 1) {
                Some(off) => decode(tail(data, off), &NoMemory).map(Some),
                None => Err(ParseError::new(format!("unreadable executable headers: {e}"))),
            };
        }
    };
    check_not_truncated(&file, data.len())?;
    for name in [".go.buildinfo", "__go_buildinfo"] {
        if let Some(section) = file.section_by_name(name) {
            let data = section
                .data()
                .map_err(|e| ParseError::new(format!("section {name} out of the file's bounds: {e}")))?;
            let off = find_magic(data, ALIGN)
                .ok_or_else(|| ParseError::new(format!("section {name} lacks the build info magic")))?;
            return decode(tail(data, off), &file).map(Some);
        }
    }
    // No dedicated section (PE, and older Mach-O): the header sits in the writable data section. Only
    // writable data is searched, so that a program merely containing the magic as a constant (in read-only
    // data) is not mistaken for a Go binary; a header there that does not decode to a Go version is skipped.
    for section in file.sections() {
        if section.kind() != SectionKind::Data {
            continue;
        }
        let Ok(data) = section.data() else { continue };
        let mut start = 0;
        while let Some(off) = data.get(start..).and_then(|d| find_magic(d, ALIGN)).map(|o| o + start) {
            if let Ok(info) = decode(tail(data, off), &file)
                && (info.version.starts_with("go") || info.version.starts_with("devel"))
            {
                return Ok(Some(info));
            }
            start = off + ALIGN;
        }
    }
    Ok(None)
}

/// Error when a segment's file range runs past the end of the data: a truncated executable. Shared with
/// the `cargo auditable` parser.
pub(crate) fn check_not_truncated(file: &object::File, len: usize) -> Result<(), ParseError> {
    for segment in file.segments() {
        let (offset, size) = segment.file_range();
        let end = offset.saturating_add(size);
        if end > len as u64 {
            return Err(ParseError::new(format!(
                "truncated executable: a segment spans bytes {offset}..{end} of a {len}-byte file"
            )));
        }
    }
    Ok(())
}

fn tail(data: &[u8], off: usize) -> &[u8] {
    data.get(off..).unwrap_or_default()
}

/// Offset of the first magic at a multiple of `align`.
fn find_magic(data: &[u8], align: usize) -> Option<usize> {
    let mut start = 0;
    while let Some(rel) = data.get(start..)?.windows(MAGIC.len()).position(|w| w == MAGIC) {
        let off = start + rel;
        if off % align == 0 {
            return Some(off);
        }
        start = off + 1;
    }
    None
}

/// Decode the header at the start of `buf`.
fn decode(buf: &[u8], mem: &dyn AddressSpace) -> Result<RawBuildInfo, ParseError> {
    let header: &[u8; HEADER_SIZE] = buf
        .get(..HEADER_SIZE)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| ParseError::new("Go build info header truncated"))?;
    let ptr_size = header[14];
    let flags = header[15];
    let (version, modinfo) = if flags & 0x2 != 0 {
        let mut rest = tail(buf, HEADER_SIZE);
        let version = read_varint_bytes(&mut rest, MAX_VERSION_LEN, "Go version")?;
        let modinfo = read_varint_bytes(&mut rest, MAX_MODINFO_LEN, "module information")?;
        (version, modinfo)
    } else {
        let big_endian = flags & 0x1 != 0;
        let ptr = PtrReader { size: ptr_size, big_endian };
        if !matches!(ptr_size, 4 | 8) {
            return Err(ParseError::new(format!("Go build info: invalid pointer size {ptr_size}")));
        }
        let version_addr = ptr.read(header, 16)?;
        let modinfo_addr = ptr.read(header, 16 + ptr_size as usize)?;
        let version = read_go_string(mem, &ptr, version_addr, MAX_VERSION_LEN, "Go version")?;
        let modinfo = read_go_string(mem, &ptr, modinfo_addr, MAX_MODINFO_LEN, "module information")?;
        (version, modinfo)
    };
    let version = utf8(version, "Go version")?;
    if version.is_empty() {
        return Err(ParseError::new("Go build info has an empty Go version"));
    }
    let modinfo = utf8(strip_sentinels(&modinfo).to_vec(), "module information")?;
    Ok(RawBuildInfo { version, modinfo })
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, ParseError> {
    String::from_utf8(bytes).map_err(|_| ParseError::new(format!("Go build info: {what} is not UTF-8")))
}

/// Reads target-sized, target-endian pointers.
struct PtrReader {
    size: u8,
    big_endian: bool,
}

impl PtrReader {
    fn read(&self, buf: &[u8], off: usize) -> Result<u64, ParseError> {
        let bytes = buf
            .get(off..off + self.size as usize)
            .ok_or_else(|| ParseError::new("Go build info: pointer out of bounds"))?;
        let mut v = 0u64;
        if self.big_endian {
            for b in bytes {
                v = (v << 8) | u64::from(*b);
            }
        } else {
            for b in bytes.iter().rev() {
                v = (v << 8) | u64::from(*b);
            }
        }
        Ok(v)
    }
}

/// Follow a pointer to a Go string header `{data, len}` and read the string.
fn read_go_string(
    mem: &dyn AddressSpace,
    ptr: &PtrReader,
    addr: u64,
    max: u64,
    what: &str,
) -> Result<Vec<u8>, ParseError> {
    let unmapped = || ParseError::new(format!("Go build info: {what} points to unmapped address {addr:#x}"));
    let header = mem.read(addr, 2 * u64::from(ptr.size)).ok_or_else(unmapped)?;
    let data_addr = ptr.read(header, 0)?;
    let len = ptr.read(header, ptr.size as usize)?;
    if len > max {
        return Err(ParseError::new(format!("Go build info: {what} length {len} exceeds {max}")));
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    let bytes = mem.read(data_addr, len).ok_or_else(|| {
        ParseError::new(format!("Go build info: {what} data at unmapped address {data_addr:#x}"))
    })?;
    Ok(bytes.to_vec())
}

/// Unsigned LEB128 as Go's `binary.Uvarint`.
fn read_uvarint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, b) in buf.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *buf = buf.get(i + 1..)?;
            return Some(value);
        }
    }
    None
}

fn read_varint_bytes(buf: &mut &[u8], max: u64, what: &str) -> Result<Vec<u8>, ParseError> {
    let len = read_uvarint(buf)
        .ok_or_else(|| ParseError::new(format!("Go build info: {what} length truncated")))?;
    if len > max {
        return Err(ParseError::new(format!("Go build info: {what} length {len} exceeds {max}")));
    }
    let len = len as usize;
    let bytes = buf.get(..len).ok_or_else(|| {
        ParseError::new(format!(
            "Go build info: {what} truncated ({len} bytes announced, {} left)",
            buf.len()
        ))
    })?;
    *buf = buf.get(len..).unwrap_or_default();
    Ok(bytes.to_vec())
}

/// The module information is wrapped in two 16-byte binary sentinels (the closing one preceded by a
/// newline).
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n >= 33 && modinfo.get(n - 17) == Some(&b'\n') {
        modinfo.get(16..n - 16).unwrap_or(modinfo)
    } else {
        modinfo
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Module {
    path: String,
    version: String,
    sum: Option<String>,
}

#[derive(Debug, PartialEq)]
struct Dep {
    module: Module,
    replace: Option<Module>,
}

#[derive(Debug, Default, PartialEq)]
struct ModInfo {
    main: Option<Module>,
    deps: Vec<Dep>,
    build: Vec<(String, String)>,
}

/// Parse the tab-separated module information. Bad lines become warnings.
fn parse_modinfo(text: &str, warnings: &mut Vec<String>) -> ModInfo {
    let mut info = ModInfo::default();
    for (idx, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        let kind = fields.next().unwrap_or_default();
        let rest: Vec<&str> = fields.collect();
        let module = || -> Option<Module> {
            let path = rest.first().filter(|p| !p.is_empty())?;
            Some(Module {
                path: path.to_string(),
                version: rest.get(1).copied().unwrap_or_default().to_string(),
                sum: rest.get(2).filter(|s| !s.is_empty()).map(|s| s.to_string()),
            })
        };
        match kind {
            "path" => {}
            "mod" => match module() {
                Some(m) => info.main = Some(m),
                None => warnings.push(format!("module information line {}: `mod` without a path", idx + 1)),
            },
            "dep" => match module() {
                Some(m) => info.deps.push(Dep { module: m, replace: None }),
                None => warnings.push(format!("module information line {}: `dep` without a path", idx + 1)),
            },
            "=>" => match (module(), info.deps.last_mut()) {
                (Some(m), Some(dep)) => dep.replace = Some(m),
                (None, _) => {
                    warnings.push(format!("module information line {}: `=>` without a path", idx + 1))
                }
                (_, None) => {
                    warnings.push(format!("module information line {}: `=>` before any `dep`", idx + 1))
                }
            },
            "build" => {
                if let Some((k, v)) = rest.first().and_then(|kv| kv.split_once('=')) {
                    info.build.push((k.to_string(), v.to_string()));
                }
            }
            other => warnings.push(format!("module information line {}: unknown kind {other:?}", idx + 1)),
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go").join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn parse(path: &str, data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        GoBinary.parse(&Input { path, layer: Some(1), data }, &mut out)?;
        Ok(out)
    }

    fn find<'a>(out: &'a Output, name: &str) -> &'a Package {
        out.packages
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} missing: {:?}", out.packages))
    }

    /// The fixtures are built by tests/fixtures/go/build.sh with Go 1.19.8 from src/.
    fn check_fixture(name: &str, goos: &str) {
        let out = parse(&format!("usr/local/bin/{name}"), &fixture(name)).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), 4, "{:?}", out.packages);
        // The main module is the root project, not a package; it depends on everything linked in.
        assert!(!out.packages.iter().any(|p| p.name == "example.com/hello"));
        assert_eq!(out.projects.len(), 1);
        assert_eq!(out.projects[0].dir, "usr/local/bin");
        let main = &out.projects[0].package;
        assert_eq!(main.name, "example.com/hello");
        assert_eq!(main.version, "(devel)");
        assert!(main.is_binary_main());
        let mut linked: Vec<&str> = out.packages.iter().map(|p| p.purl.as_str()).collect();
        linked.sort_unstable();
        assert_eq!(main.dependencies, linked);
        assert_eq!(main.metadata.get("main").map(String::as_str), Some("true"));
        assert_eq!(main.metadata.get("build.GOOS").map(String::as_str), Some(goos));
        assert_eq!(main.metadata.get("build.GOARCH").map(String::as_str), Some("amd64"));
        assert_eq!(main.found_by, "go-binary");
        assert_eq!(main.locations[0].layer, Some(1));

        let greet = find(&out, "example.com/greet");
        assert_eq!(greet.version, "v1.2.3");
        assert_eq!(greet.purl, "pkg:golang/example.com/greet@v1.2.3");
        assert_eq!(greet.metadata.get("go_version").map(String::as_str), Some("go1.19.8"));

        let local = find(&out, "example.com/local");
        assert_eq!(local.version, "v0.1.0");
        assert_eq!(local.metadata.get("replaced_by_path").map(String::as_str), Some("./local"));

        let newfmt = find(&out, "example.com/newfmt");
        assert_eq!(newfmt.version, "v1.1.0");
        assert_eq!(newfmt.metadata.get("replaces").map(String::as_str), Some("example.com/oldfmt"));

        let stdlib = find(&out, "stdlib");
        assert_eq!(stdlib.version, "v1.19.8");
        assert_eq!(stdlib.purl, "pkg:golang/stdlib@v1.19.8");
    }

    #[test]
    fn elf_fixture() {
        check_fixture("hello-linux-amd64", "linux");
    }

    #[test]
    fn pe_fixture() {
        check_fixture("hello-windows-amd64.exe", "windows");
    }

    #[test]
    fn macho_fixture() {
        check_fixture("hello-darwin-amd64", "darwin");
    }

    #[test]
    fn system_go_binary_if_present() {
        // Any Go program installed on the machine (the Go toolchain itself when installed from Debian).
        let candidates = ["/usr/lib/go/bin/go", "/usr/local/go/bin/go", "/usr/bin/docker"];
        let Some((path, data)) = candidates.iter().find_map(|p| std::fs::read(p).ok().map(|d| (p, d))) else {
            println!("skipped: no Go binary installed at {candidates:?}");
            return;
        };
        let out = parse(path.trim_start_matches('/'), &data).unwrap();
        let stdlib = find(&out, "stdlib");
        assert!(stdlib.version.starts_with("v1."), "{}", stdlib.version);
    }

    #[test]
    fn non_go_inputs_yield_nothing() {
        // A script with an execute bit.
        assert!(parse("usr/bin/x", b"#!/bin/sh\necho hi\n").unwrap().packages.is_empty());
        // A Java class file shares the universal Mach-O magic.
        assert!(parse("usr/bin/x", b"\xca\xfe\xba\xbe\0\0\0\x34rest").unwrap().packages.is_empty());
        // A non-Go ELF: the test binary itself.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(parse("usr/bin/x", &me).unwrap().packages.is_empty());
    }

    #[test]
    fn truncated_and_corrupt_inputs_are_errors() {
        let elf = fixture("hello-linux-amd64");
        // Headers only: section table out of bounds.
        assert!(parse("usr/bin/x", &elf[..4096]).is_err());
        // ELF magic and garbage.
        assert!(parse("usr/bin/x", b"\x7fELF\x02\x01\x01garbagegarbagegarbage").is_err());
        // Corrupt the inline version length of the real build info to something huge.
        let off = find_magic(&elf, ALIGN).unwrap();
        let mut bad = elf.clone();
        bad[off + HEADER_SIZE..off + HEADER_SIZE + 5].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        let err = parse("usr/bin/x", &bad).unwrap_err();
        assert!(err.0.contains("exceeds"), "{err}");
        // Pointer format with an unmapped pointer.
        let mut old = elf.clone();
        old[off + 15] = 0;
        assert!(parse("usr/bin/x", &old).unwrap_err().0.contains("unmapped"));
    }

    #[test]
    fn pe_data_section_search_skips_undecodable_headers() {
        // PE has no dedicated section: a magic in .data that does not decode is not taken for build info.
        let pe = fixture("hello-windows-amd64.exe");
        let off = find_magic(&pe, 1).unwrap();
        let mut bad = pe.clone();
        bad[off + 15] = 0; // pointer format, null pointers
        let out = parse("app.exe", &bad).unwrap();
        assert!(out.packages.is_empty(), "{:?}", out.packages);
        // The intact file decodes.
        assert_eq!(parse("app.exe", &pe).unwrap().packages.len(), 4, "plus the main module as the project");
    }

    fn inline_blob(version: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend([8, 2]);
        b.resize(HEADER_SIZE, 0);
        for s in [version.as_bytes(), modinfo] {
            let mut n = s.len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                b.push(if n > 0 { byte | 0x80 } else { byte });
                if n == 0 {
                    break;
                }
            }
            b.extend(s);
        }
        b
    }

    /// Go's sentinels are binary and not valid UTF-8; these are too.
    fn sentinel_wrap(s: &str) -> Vec<u8> {
        let mut b = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
        b.extend(s.as_bytes());
        b.push(b'\n');
        b.extend(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
        b
    }

    #[test]
    fn inline_format_decodes_and_truncation_fails() {
        let modinfo = sentinel_wrap("path\tx\nmod\tx\t(devel)\t\ndep\ta/b\tv1.0.0\th1:abc=");
        let blob = inline_blob("go1.21.5", &modinfo);
        let info = decode(&blob, &NoMemory).unwrap();
        assert_eq!(info.version, "go1.21.5");
        assert_eq!(info.modinfo, "path\tx\nmod\tx\t(devel)\t\ndep\ta/b\tv1.0.0\th1:abc=\n");
        for cut in [10, HEADER_SIZE, HEADER_SIZE + 3, blob.len() - 1] {
            assert!(decode(&blob[..cut], &NoMemory).is_err(), "cut at {cut}");
        }
    }

    /// A small address space: (virtual address, bytes) regions.
    struct Regions(Vec<(u64, Vec<u8>)>);

    impl AddressSpace for Regions {
        fn read(&self, addr: u64, len: u64) -> Option<&[u8]> {
            self.0.iter().find_map(|(base, bytes)| {
                let start = usize::try_from(addr.checked_sub(*base)?).ok()?;
                bytes.get(start..start.checked_add(usize::try_from(len).ok()?)?)
            })
        }
    }

    #[test]
    fn pointer_format_32bit_big_endian() {
        let modinfo = sentinel_wrap("path\tcmd\nmod\tcmd\tv1.0.0\t\ndep\tgolang.org/x/net\tv0.1.0\th1:x=");
        let version = "go1.16.3";
        // Strings at 0x1000 (version) and 0x2000 (modinfo); their headers at 0x3000 and 0x3008.
        let mut headers = Vec::new();
        headers.extend(0x1000u32.to_be_bytes());
        headers.extend((version.len() as u32).to_be_bytes());
        headers.extend(0x2000u32.to_be_bytes());
        headers.extend((modinfo.len() as u32).to_be_bytes());
        let mem = Regions(vec![
            (0x1000, version.as_bytes().to_vec()),
            (0x2000, modinfo.clone()),
            (0x3000, headers),
        ]);
        let mut blob = MAGIC.to_vec();
        blob.extend([4, 1]);
        blob.extend(0x3000u32.to_be_bytes());
        blob.extend(0x3008u32.to_be_bytes());
        blob.resize(HEADER_SIZE, 0);
        let info = decode(&blob, &mem).unwrap();
        assert_eq!(info.version, "go1.16.3");
        let parsed = parse_modinfo(&info.modinfo, &mut Vec::new());
        assert_eq!(parsed.main.unwrap().version, "v1.0.0");
        assert_eq!(parsed.deps[0].module.sum.as_deref(), Some("h1:x="));

        // A string header pointing outside the mapped regions.
        let mut bad = blob.clone();
        bad[16..20].copy_from_slice(&0x9000u32.to_be_bytes());
        assert!(decode(&bad, &mem).unwrap_err().0.contains("unmapped"));
        // A pointer size Go never used.
        let mut bad = blob.clone();
        bad[14] = 3;
        assert!(decode(&bad, &mem).unwrap_err().0.contains("pointer size"));
    }

    /// A minimal ELF64 executable: one PT_LOAD segment at 0x400000 covering the file, and a `.go.buildinfo`
    /// section holding a pre-1.18 (pointer format) header whose pointers are virtual addresses.
    fn old_format_elf(version: &str, modinfo: &[u8]) -> Vec<u8> {
        const BASE: u64 = 0x400000;
        const BI: usize = 0x100; // build info header offset (16-aligned)
        let strings_off = BI + HEADER_SIZE;
        let mut payload = Vec::new();
        let hdr_off = strings_off;
        let version_off = hdr_off + 32;
        let modinfo_off = version_off + version.len();
        // String headers {ptr, len} x2.
        for (off, len) in [(version_off, version.len()), (modinfo_off, modinfo.len())] {
            payload.extend((BASE + off as u64).to_le_bytes());
            payload.extend((len as u64).to_le_bytes());
        }
        payload.extend(version.as_bytes());
        payload.extend(modinfo);
        let shstrtab = b"\0.go.buildinfo\0.shstrtab\0";
        let shstrtab_off = strings_off + payload.len();
        let sh_off = (shstrtab_off + shstrtab.len() + 7) & !7;
        let file_len = sh_off + 3 * 64;

        let mut f = vec![0u8; file_len];
        let put =
            |f: &mut Vec<u8>, off: usize, bytes: &[u8]| f[off..off + bytes.len()].copy_from_slice(bytes);
        // ELF header.
        put(&mut f, 0, b"\x7fELF\x02\x01\x01");
        put(&mut f, 16, &2u16.to_le_bytes()); // ET_EXEC
        put(&mut f, 18, &62u16.to_le_bytes()); // x86-64
        put(&mut f, 20, &1u32.to_le_bytes());
        put(&mut f, 24, &(BASE + 0x1000).to_le_bytes()); // entry
        put(&mut f, 32, &64u64.to_le_bytes()); // phoff
        put(&mut f, 40, &(sh_off as u64).to_le_bytes());
        put(&mut f, 52, &64u16.to_le_bytes()); // ehsize
        put(&mut f, 54, &56u16.to_le_bytes()); // phentsize
        put(&mut f, 56, &1u16.to_le_bytes()); // phnum
        put(&mut f, 58, &64u16.to_le_bytes()); // shentsize
        put(&mut f, 60, &3u16.to_le_bytes()); // shnum
        put(&mut f, 62, &2u16.to_le_bytes()); // shstrndx
        // PT_LOAD covering the whole file.
        put(&mut f, 64, &1u32.to_le_bytes());
        put(&mut f, 68, &6u32.to_le_bytes()); // RW
        put(&mut f, 72, &0u64.to_le_bytes());
        put(&mut f, 80, &BASE.to_le_bytes());
        put(&mut f, 88, &BASE.to_le_bytes());
        put(&mut f, 96, &(file_len as u64).to_le_bytes());
        put(&mut f, 104, &(file_len as u64).to_le_bytes());
        put(&mut f, 112, &0x1000u64.to_le_bytes());
        // Build info header, pointer format, little endian, 8-byte pointers.
        put(&mut f, BI, MAGIC);
        put(&mut f, BI + 14, &[8, 0]);
        put(&mut f, BI + 16, &(BASE + hdr_off as u64).to_le_bytes());
        put(&mut f, BI + 24, &(BASE + hdr_off as u64 + 16).to_le_bytes());
        put(&mut f, strings_off, &payload);
        put(&mut f, shstrtab_off, shstrtab);
        // Section 1: .go.buildinfo (PROGBITS, WA).
        let s1 = sh_off + 64;
        put(&mut f, s1, &1u32.to_le_bytes());
        put(&mut f, s1 + 4, &1u32.to_le_bytes());
        put(&mut f, s1 + 8, &3u64.to_le_bytes());
        put(&mut f, s1 + 16, &(BASE + BI as u64).to_le_bytes());
        put(&mut f, s1 + 24, &(BI as u64).to_le_bytes());
        put(&mut f, s1 + 32, &((shstrtab_off - BI) as u64).to_le_bytes());
        put(&mut f, s1 + 48, &16u64.to_le_bytes());
        // Section 2: .shstrtab.
        let s2 = sh_off + 128;
        put(&mut f, s2, &15u32.to_le_bytes());
        put(&mut f, s2 + 4, &3u32.to_le_bytes());
        put(&mut f, s2 + 24, &(shstrtab_off as u64).to_le_bytes());
        put(&mut f, s2 + 32, &(shstrtab.len() as u64).to_le_bytes());
        put(&mut f, s2 + 48, &1u64.to_le_bytes());
        f
    }

    #[test]
    fn pointer_format_through_elf_segments() {
        let modinfo = sentinel_wrap(
            "path\tgithub.com/x/tool\nmod\tgithub.com/x/tool\tv2.0.0\th1:main=\n\
             dep\tgithub.com/pkg/errors\tv0.9.1\th1:err=\nbuild\tGOOS=linux\n",
        );
        let elf = old_format_elf("go1.15.15", &modinfo);
        let out = parse("bin/tool", &elf).unwrap();
        assert_eq!(out.packages.len(), 2, "{:?}", out.packages);
        assert_eq!(out.projects[0].package.name, "github.com/x/tool");
        assert_eq!(out.projects[0].package.version, "v2.0.0");
        let errors = find(&out, "github.com/pkg/errors");
        assert_eq!(errors.metadata.get("sum").map(String::as_str), Some("h1:err="));
        assert_eq!(find(&out, "stdlib").version, "v1.15.15");
    }

    #[test]
    fn modinfo_lines() {
        let mut warnings = Vec::new();
        let info = parse_modinfo(
            "path\tp\nmod\tp\t(devel)\t\ndep\ta\tv1\t\n=>\tb\tv2\th1:b=\n\nbogus\tline\n=>\t\t\nbuild\tGOOS=linux\n",
            &mut warnings,
        );
        assert_eq!(info.deps.len(), 1);
        assert_eq!(info.deps[0].replace.as_ref().map(|m| m.path.as_str()), Some("b"));
        assert_eq!(info.build, [("GOOS".to_string(), "linux".to_string())]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let mut warnings = Vec::new();
        parse_modinfo("=>\tb\tv2\t\n", &mut warnings);
        assert!(warnings[0].contains("before any"));
    }

    #[test]
    fn stdlib_versions() {
        assert_eq!(stdlib_version("go1.21.5").as_deref(), Some("v1.21.5"));
        assert_eq!(stdlib_version("go1.20").as_deref(), Some("v1.20.0"));
        assert_eq!(stdlib_version("go1.22rc1").as_deref(), Some("v1.22.0-rc.1"));
        assert_eq!(stdlib_version("go1.21.5 X:boringcrypto").as_deref(), Some("v1.21.5"));
        assert_eq!(stdlib_version("devel go1.22-abcdef"), None);
        assert_eq!(stdlib_version("go1.x"), None);
        assert_eq!(stdlib_version("go"), None);
    }

    #[test]
    fn wants_and_magic() {
        let meta = |path, mode, size| FileMeta { path, size, mode, layer: None };
        assert!(GoBinary.wants(&meta("app/server", 0o755, 2_000_000)));
        assert!(GoBinary.wants(&meta("usr/local/bin/tool", 0, 2_000_000)));
        assert!(GoBinary.wants(&meta("Program Files/app.exe", 0, 2_000_000)));
        assert!(!GoBinary.wants(&meta("usr/share/doc/readme", 0o644, 2_000_000)));
        assert!(!GoBinary.wants(&meta("usr/bin/script.sh", 0o755, 2_000_000)));
        assert!(!GoBinary.wants(&meta("usr/bin/tiny", 0o755, 10)));
        assert!(!GoBinary.wants(&meta("usr/bin/huge", 0o755, MAX_BINARY_SIZE)));
        assert!(is_executable_format(b"\x7fELF...."));
        assert!(is_executable_format(b"\xcf\xfa\xed\xfe...."));
        assert!(!is_executable_format(b"MZ but no PE header"));
        assert!(!is_executable_format(b"#!/usr/bin/env python3\n"));
    }
}
