//! Keyword search: every ASCII-case-insensitive occurrence of every rule keyword, overlapping ones
//! included, in one pass.
//!
//! A general Aho-Corasick DFA over the ~200 keywords runs at about 0.5 GB/s on source text, and SIMD
//! literal searchers (Teddy) degrade badly past ~60 patterns. This index instead tests every position
//! against bitmaps of hashed keyword prefixes, folded to lower case (`| 0x20`, which maps each ASCII
//! letter to its lower-case form and a few punctuation pairs together):
//!
//! - keywords of four bytes or more by their 4-byte prefix, three-byte keywords by themselves; positions
//!   that pass go to an exact comparison with the keywords of that prefix (`verify`);
//! - keywords of one or two bytes with `memmem` per case variant (or a byte compare in the SIMD passes).
//!
//! Three implementations of the probe, chosen at run time and tested against each other and a brute-force
//! search: AVX-512 VBMI (64 positions per step, in-register hashed filters, no gathers), AVX2 (32 positions,
//! two gathers per eight positions) and portable scalar code (a 3-byte first level, then the 4-byte
//! second level). On source code about 0.5 % of positions reach the exact comparison.

use memchr::memmem;

const TABLE_BITS: u32 = 16;
const BITMAP_WORDS: usize = (1 << TABLE_BITS) / 64;
const SLOT_BITS: u32 = 12;
/// Multipliers of the 3-byte and 4-byte gram hashes (the SIMD passes use the same ones).
const MUL3: u32 = 0x85EB_CA6B;
const MUL4: u32 = 0x9E37_79B1;

/// The exact-comparison slot of a folded 3-byte prefix.
fn slot(g: u32) -> usize {
    (g.wrapping_mul(MUL3) >> (32 - SLOT_BITS)) as usize
}

/// One keyword occurrence: the keyword's index (as given to [`KeywordIndex::new`]) and its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub keyword: usize,
}

/// A compiled keyword set. See the module docs.
pub struct KeywordIndex {
    /// Lower-case keywords, in caller order.
    keywords: Vec<Vec<u8>>,
    /// One bit per [`hash3`] value: some keyword of three bytes or more has a prefix with this hash.
    bitmap: Box<[u64; BITMAP_WORDS]>,
    /// Second level, one bit per [`hash3`] value: some keyword of exactly three bytes hashes here.
    exact3: Box<[u64; BITMAP_WORDS]>,
    /// Second level, one bit per [`hash4`] value: some keyword of four bytes or more has a 4-byte
    /// prefix with this hash.
    prefix4: Box<[u64; BITMAP_WORDS]>,
    /// `entries[slot_start[h]..slot_start[h + 1]]` are the (folded 3-byte prefix, keyword) whose
    /// [`slot`] is `h` (16 KiB of offsets: they stay in cache, unlike one per bitmap bit).
    slot_start: Vec<u32>,
    entries: Vec<(u32, u32)>,
    /// Keywords of one or two bytes: (keyword index, a finder per case variant).
    short: Vec<(usize, Vec<memmem::Finder<'static>>)>,
    /// The two-byte keywords as folded byte pairs, for the SIMD passes: (first, second, keyword index).
    pairs: Vec<(u8, u8, usize)>,
    /// Tables of the AVX-512 VBMI pass.
    #[cfg(target_arch = "x86_64")]
    vbmi: Box<vbmi::Tables>,
}

/// The first three bytes of a keyword or window, folded towards lower case (`| 0x20`).
fn fold3(a: u8, b: u8, c: u8) -> u32 {
    u32::from_le_bytes([a, b, c, 0]) | 0x0020_2020
}

/// The first four bytes, folded like [`fold3`].
fn fold4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_le_bytes([a, b, c, d]) | 0x2020_2020
}

fn hash3(g: u32) -> usize {
    (g.wrapping_mul(MUL3) >> (32 - TABLE_BITS)) as usize
}

fn hash4(g: u32) -> usize {
    (g.wrapping_mul(MUL4) >> (32 - TABLE_BITS)) as usize
}

/// Bit `h` of a bitmap (`h < 2^TABLE_BITS`, so the index is in bounds and the check is dropped).
#[inline(always)]
fn test_bit(bitmap: &[u64; BITMAP_WORDS], h: usize) -> u64 {
    bitmap.get(h / 64).map_or(0, |w| (w >> (h % 64)) & 1)
}

fn set_bit(bitmap: &mut [u64; BITMAP_WORDS], h: usize) {
    if let Some(word) = bitmap.get_mut(h / 64) {
        *word |= 1u64 << (h % 64);
    }
}

/// Every ASCII-case variant of `k` (2^letters of them; keywords of one or two bytes only).
fn case_variants(k: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![Vec::new()];
    for &b in k {
        let lower = b.to_ascii_lowercase();
        let upper = b.to_ascii_uppercase();
        let mut next = Vec::with_capacity(out.len() * 2);
        for v in &out {
            let mut l = v.clone();
            l.push(lower);
            next.push(l);
            if upper != lower {
                let mut u = v.clone();
                u.push(upper);
                next.push(u);
            }
        }
        out = next;
    }
    out
}

impl KeywordIndex {
    /// Index `keywords` (matched ASCII-case-insensitively). Empty keywords are ignored.
    pub fn new<S: AsRef<[u8]>>(keywords: &[S]) -> KeywordIndex {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_ref().to_ascii_lowercase()).collect();
        let size = 1usize << SLOT_BITS;
        let mut bitmap = Box::new([0u64; BITMAP_WORDS]);
        let mut exact3 = Box::new([0u64; BITMAP_WORDS]);
        let mut prefix4 = Box::new([0u64; BITMAP_WORDS]);
        let mut by_slot: Vec<Vec<(u32, u32)>> = vec![Vec::new(); size];
        let mut short = Vec::new();
        for (i, k) in keywords.iter().enumerate() {
            let g = match k.as_slice() {
                [] => continue,
                [a, b, c, ..] => fold3(*a, *b, *c),
                _ => {
                    let finders =
                        case_variants(k).into_iter().map(|v| memmem::Finder::new(&v).into_owned()).collect();
                    short.push((i, finders));
                    continue;
                }
            };
            let h = hash3(g);
            set_bit(&mut bitmap, h);
            match k.as_slice() {
                [a, b, c, d, ..] => set_bit(&mut prefix4, hash4(fold4(*a, *b, *c, *d))),
                _ => set_bit(&mut exact3, h),
            }
            if let (Some(slot), Ok(i)) = (by_slot.get_mut(slot(g)), u32::try_from(i)) {
                slot.push((g, i));
            }
        }
        let mut slot_start = Vec::with_capacity(size + 1);
        let mut entries = Vec::new();
        for slot in by_slot {
            slot_start.push(u32::try_from(entries.len()).unwrap_or(u32::MAX));
            entries.extend(slot);
        }
        slot_start.push(u32::try_from(entries.len()).unwrap_or(u32::MAX));
        let pairs = keywords
            .iter()
            .enumerate()
            .filter_map(|(i, k)| match k.as_slice() {
                [a, b] => Some((a | 0x20, b | 0x20, i)),
                _ => None,
            })
            .collect();
        #[cfg(target_arch = "x86_64")]
        let vbmi = Box::new(vbmi::Tables::new(&keywords));
        KeywordIndex {
            keywords,
            bitmap,
            exact3,
            prefix4,
            slot_start,
            entries,
            short,
            pairs,
            #[cfg(target_arch = "x86_64")]
            vbmi,
        }
    }

    /// True when no keyword is indexed.
    pub fn is_empty(&self) -> bool {
        self.keywords.iter().all(|k| k.is_empty())
    }

    /// Append every keyword occurrence in `data` to `out` (unordered; overlapping occurrences and
    /// keywords contained in other keywords are all reported).
    pub fn find_all(&self, data: &[u8], out: &mut Vec<Hit>) {
        self.find_with(data, out, Simd::detect());
    }

    /// [`Self::find_all`] with the SIMD passes up to `simd` (the caller checked the CPU supports them).
    fn find_with(&self, data: &[u8], out: &mut Vec<Hit>, simd: Simd) {
        let bitmap: &[u64; BITMAP_WORDS] = &self.bitmap;
        let bit = |g: u32| test_bit(bitmap, hash3(g));
        let mut pos = 0;
        // Two-byte keywords starting before `pairs_done` were found by the AVX2 pass.
        let mut pairs_done = 0;
        #[cfg(target_arch = "x86_64")]
        if self.short.len() == self.pairs.len() && simd >= Simd::Avx2 {
            let mut hit = |p: usize, found: Found| match found {
                Found::Gram(g) => self.verify(data, p, g, out),
                Found::Pair(i) => {
                    if let Some(&(_, _, ki)) = self.pairs.get(i)
                        && let Some(k) = self.keywords.get(ki)
                        && data.get(p..p + 2).is_some_and(|s| s.eq_ignore_ascii_case(k))
                    {
                        out.push(Hit { start: p, end: p + 2, keyword: ki });
                    }
                }
            };
            if simd >= Simd::Vbmi {
                // SAFETY: the CPU supports AVX-512 F, BW and VBMI (`Simd::detect`), all that `vbmi::scan`
                // requires.
                pos = unsafe { vbmi::scan(data, &self.vbmi, &self.pairs, &mut hit) };
            }
            let rest = data.get(pos..).unwrap_or_default();
            let shifted = |p: usize, f: Found| hit(pos + p, f);
            // SAFETY: the CPU supports AVX2 (`Simd::detect`), which is all `avx2::scan` requires.
            pos += unsafe { avx2::scan(rest, &self.prefix4, &self.exact3, &self.pairs, shifted) };
            pairs_done = pos;
        }
        // Six 3-byte grams per 8-byte load, one branch per six positions.
        while let Some(chunk) = data.get(pos..pos + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word) | 0x2020_2020_2020_2020;
            let gram = |k: u32| (x >> (8 * k)) as u32 & 0x00FF_FFFF;
            let any = bit(gram(0)) | bit(gram(1)) | bit(gram(2)) | bit(gram(3)) | bit(gram(4)) | bit(gram(5));
            if any != 0 {
                for k in 0..6u32 {
                    if bit(gram(k)) != 0 {
                        self.confirm(data, pos + k as usize, gram(k), out);
                    }
                }
            }
            pos += 6;
        }
        while let Some(&[a, b, c]) = data.get(pos..pos + 3) {
            let g = fold3(a, b, c);
            if bit(g) != 0 {
                self.confirm(data, pos, g, out);
            }
            pos += 1;
        }
        let rest = data.get(pairs_done..).unwrap_or_default();
        for (ki, finders) in &self.short {
            let len = self.keywords.get(*ki).map_or(0, Vec::len);
            for f in finders {
                out.extend(f.find_iter(rest).map(|s| Hit {
                    start: pairs_done + s,
                    end: pairs_done + s + len,
                    keyword: *ki,
                }));
            }
        }
    }

    /// Second level for a position whose 3-byte gram `g` passed the first bitmap: a keyword of exactly
    /// three bytes hashes like `g`, or a longer one has the 4-byte prefix found at `pos`.
    #[inline(always)]
    fn confirm(&self, data: &[u8], pos: usize, g: u32, out: &mut Vec<Hit>) {
        let four = match data.get(pos..pos + 4) {
            Some(&[a, b, c, d]) => test_bit(&self.prefix4, hash4(fold4(a, b, c, d))),
            _ => 0,
        };
        if four | test_bit(&self.exact3, hash3(g)) != 0 {
            self.verify(data, pos, g, out);
        }
    }

    /// Exact comparison at `pos` with the keywords whose folded prefix is `g`.
    #[cold]
    #[inline(never)]
    fn verify(&self, data: &[u8], pos: usize, g: u32, out: &mut Vec<Hit>) {
        let h = slot(g);
        let (Some(&lo), Some(&hi)) = (self.slot_start.get(h), self.slot_start.get(h + 1)) else {
            return;
        };
        let Some(entries) = self.entries.get(lo as usize..hi as usize) else { return };
        for &(eg, ki) in entries {
            if eg != g {
                continue;
            }
            let ki = ki as usize;
            let Some(k) = self.keywords.get(ki) else { continue };
            let end = pos + k.len();
            if data.get(pos..end).is_some_and(|s| s.eq_ignore_ascii_case(k)) {
                out.push(Hit { start: pos, end, keyword: ki });
            }
        }
    }
}

/// The SIMD passes a CPU can run, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Simd {
    None,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Avx2,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Vbmi,
}

impl Simd {
    /// The best level this CPU runs, capped by `PALISADE_SIMD=scalar|avx2` (to compare the passes or to
    /// work around a CPU problem). Detected once.
    fn detect() -> Simd {
        static LEVEL: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
        *LEVEL.get_or_init(|| {
            let cap = match std::env::var("PALISADE_SIMD").as_deref() {
                Ok("scalar") => Simd::None,
                Ok("avx2") => Simd::Avx2,
                _ => Simd::Vbmi,
            };
            Simd::cpu().min(cap)
        })
    }

    fn cpu() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if vbmi::supported() {
                return Simd::Vbmi;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::None
    }

    /// This level and every lower one (for tests).
    #[cfg(test)]
    fn levels() -> Vec<Simd> {
        [Simd::None, Simd::Avx2, Simd::Vbmi].into_iter().filter(|&l| l <= Simd::cpu()).collect()
    }
}

/// What a SIMD pass found at a position.
#[cfg(target_arch = "x86_64")]
enum Found {
    /// Some keyword may start here; its folded 3-byte prefix is this gram (verify exactly).
    Gram(u32),
    /// The folded bytes here equal `pairs[i]`.
    Pair(usize),
}

/// The probe of [`KeywordIndex::find_all`] for 64 positions at a time with AVX-512 VBMI, without gathers
/// (slow on many CPUs). Each filter hashes the four (or three) bytes at a position with one 128-entry
/// byte table per byte offset (`vpermi2b` looks up 64 bytes at once; case folding is built into the
/// tables), XORs them into a 7-bit slot and a 3-bit bit index of a 1024-bit membership table. Three
/// filters over 4-byte prefixes (keywords of four bytes or more) are ANDed, two over 3-byte grams (keywords
/// of exactly three bytes) likewise; a position passing either goes to exact comparison. With ~200
/// keywords about 0.3 % of positions pass by chance.
#[cfg(target_arch = "x86_64")]
mod vbmi {
    use super::Found;
    use std::arch::x86_64::{
        __m512i, _mm512_and_si512, _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_or_si512,
        _mm512_permutex2var_epi8, _mm512_set1_epi8, _mm512_shuffle_epi8, _mm512_srli_epi16,
        _mm512_test_epi8_mask, _mm512_xor_si512,
    };

    const F4: usize = 3;
    const F3: usize = 2;

    /// A 128-byte table, looked up by the low seven bits of a byte.
    type Table = [u8; 128];

    pub struct Tables {
        /// Per 4-byte filter: a hash table per byte offset, and the membership bits.
        t4: [[Table; 4]; F4],
        m4: [Table; F4],
        /// The bit-index hash of the 4-byte filters (filter `i` uses bits `3i..3i+3`, the last bits 5..8).
        s4: [Table; 4],
        t3: [[Table; 3]; F3],
        m3: [Table; F3],
        s3: [Table; 3],
    }

    /// Shift of filter `i`'s 3-bit index within the bit-index hash (as [`scan`] applies them).
    const SHIFT: [u32; 3] = [0, 3, 5];

    /// A table of pseudo-random bytes (xorshift from `seed`) with ASCII case folding built in: the entry
    /// of a byte is the entry of its `| 0x20` form.
    fn table(seed: &mut u64) -> Table {
        let mut raw = [0u8; 128];
        for b in raw.iter_mut() {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *b = (*seed >> 24) as u8;
        }
        let mut t = [0u8; 128];
        for (i, e) in t.iter_mut().enumerate() {
            *e = raw.get(i | 0x20).copied().unwrap_or(0);
        }
        t
    }

    /// The entry of byte `c`, as `vpermi2b` looks it up (low seven bits).
    fn at(t: &Table, c: u8) -> u8 {
        t.get(usize::from(c & 0x7F)).copied().unwrap_or(0)
    }

    fn hash(tables: &[Table], bytes: &[u8]) -> u8 {
        tables.iter().zip(bytes).fold(0, |h, (t, &c)| h ^ at(t, c))
    }

    fn set(m: &mut Table, slot: u8, bit: u8) {
        if let Some(e) = m.get_mut(usize::from(slot & 0x7F)) {
            *e |= 1 << (bit & 7);
        }
    }

    impl Tables {
        pub fn new(keywords: &[Vec<u8>]) -> Tables {
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            let mut t = Tables {
                t4: [[[0; 128]; 4]; F4],
                m4: [[0; 128]; F4],
                s4: [[0; 128]; 4],
                t3: [[[0; 128]; 3]; F3],
                m3: [[0; 128]; F3],
                s3: [[0; 128]; 3],
            };
            for f in
                t.t4.iter_mut().flatten().chain(&mut t.s4).chain(t.t3.iter_mut().flatten()).chain(&mut t.s3)
            {
                *f = table(&mut seed);
            }
            for k in keywords {
                match k.as_slice() {
                    [] | [_] | [_, _] => {}
                    [_, _, _] => add(&t.t3, &mut t.m3, hash(&t.s3, k), k),
                    [a, b, c, d, ..] => add(&t.t4, &mut t.m4, hash(&t.s4, k), &[*a, *b, *c, *d]),
                }
            }
            t
        }
    }

    /// Set `gram`'s bit in each filter's membership table: slot from the filter's own hash, bit index from
    /// the shared bit-index hash `sel` shifted by [`SHIFT`].
    fn add<const N: usize>(tabs: &[[Table; N]], mems: &mut [Table], sel: u8, gram: &[u8]) {
        for ((ti, m), shift) in tabs.iter().zip(mems.iter_mut()).zip(SHIFT) {
            set(m, hash(ti, gram), sel >> shift);
        }
    }

    /// True when this CPU can run [`scan`].
    pub fn supported() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
    }

    /// Load a 128-byte table as the two halves `vpermi2b` takes.
    #[target_feature(enable = "avx512f")]
    fn load(t: &Table) -> Regs {
        // SAFETY: `t` is 128 bytes; each load reads 64 of them; `loadu` has no alignment requirement.
        unsafe { (_mm512_loadu_si512(t.as_ptr().cast()), _mm512_loadu_si512(t.as_ptr().add(64).cast())) }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    fn look(t: Regs, idx: __m512i) -> __m512i {
        _mm512_permutex2var_epi8(t.0, idx, t.1)
    }

    /// A 128-byte table in the two registers `vpermi2b` takes.
    type Regs = (__m512i, __m512i);

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    fn hash4(t: &[Regs; 4], v: &[__m512i; 4]) -> __m512i {
        let [t0, t1, t2, t3] = *t;
        let [v0, v1, v2, v3] = *v;
        _mm512_xor_si512(
            _mm512_xor_si512(look(t0, v0), look(t1, v1)),
            _mm512_xor_si512(look(t2, v2), look(t3, v3)),
        )
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    fn hash3(t: &[Regs; 3], v: &[__m512i; 4]) -> __m512i {
        let [t0, t1, t2] = *t;
        let [v0, v1, v2, _] = *v;
        _mm512_xor_si512(_mm512_xor_si512(look(t0, v0), look(t1, v1)), look(t2, v2))
    }

    /// Positions whose slot `h` of membership table `mem` has bit `sel & 7` set.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    fn member(mem: Regs, h: __m512i, sel: __m512i, bits: __m512i) -> u64 {
        let bit = _mm512_shuffle_epi8(bits, _mm512_and_si512(sel, _mm512_set1_epi8(7)));
        _mm512_test_epi8_mask(look(mem, h), bit)
    }

    /// Probe every position `p` with `p + 67 <= data.len()` (in blocks of 64); call `hit` like
    /// [`super::avx2::scan`]. Returns the first position not probed.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, BW and VBMI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub unsafe fn scan(
        data: &[u8],
        t: &Tables,
        pairs: &[(u8, u8, usize)],
        hit: &mut impl FnMut(usize, Found),
    ) -> usize {
        let t4: [[Regs; 4]; F4] = t.t4.map(|f| f.map(|x| load(&x)));
        let m4: [Regs; F4] = t.m4.map(|x| load(&x));
        let s4: [Regs; 4] = t.s4.map(|x| load(&x));
        let t3: [[Regs; 3]; F3] = t.t3.map(|f| f.map(|x| load(&x)));
        let m3: [Regs; F3] = t.m3.map(|x| load(&x));
        let s3: [Regs; 3] = t.s3.map(|x| load(&x));
        let bits = {
            let lane: [u8; 64] = std::array::from_fn(|i| if i % 16 < 8 { 1u8 << (i % 8) } else { 0 });
            // SAFETY: `lane` is 64 bytes.
            unsafe { _mm512_loadu_si512(lane.as_ptr().cast()) }
        };
        let fold = _mm512_set1_epi8(0x20);
        let mut p = 0usize;
        while p + 67 <= data.len() {
            // SAFETY: each load reads `data[p + j .. p + j + 64]`, in bounds as `j <= 3` and
            // `p + 67 <= data.len()`; `loadu` has no alignment requirement.
            let v: [__m512i; 4] =
                std::array::from_fn(|j| unsafe { _mm512_loadu_si512(data.as_ptr().add(p + j).cast()) });
            let sel4 = hash4(&s4, &v);
            let sel3 = hash3(&s3, &v);
            let [a4, b4, c4] = &t4;
            let [ma4, mb4, mc4] = m4;
            let four = member(ma4, hash4(a4, &v), sel4, bits)
                & member(mb4, hash4(b4, &v), _mm512_srli_epi16::<3>(sel4), bits)
                & member(mc4, hash4(c4, &v), _mm512_srli_epi16::<5>(sel4), bits);
            let [a3, b3] = &t3;
            let [ma3, mb3] = m3;
            let three = member(ma3, hash3(a3, &v), sel3, bits)
                & member(mb3, hash3(b3, &v), _mm512_srli_epi16::<3>(sel3), bits);
            let mut m = four | three;
            while m != 0 {
                let at = m.trailing_zeros() as usize;
                m &= m - 1;
                let pos = p + at;
                if let Some(&[a, b, c]) = data.get(pos..pos + 3) {
                    hit(pos, Found::Gram(super::fold3(a, b, c)));
                }
            }
            if !pairs.is_empty() {
                let f0 = _mm512_or_si512(v[0], fold);
                let f1 = _mm512_or_si512(v[1], fold);
                for (i, &(a, b, _)) in pairs.iter().enumerate() {
                    let mut m = _mm512_cmpeq_epi8_mask(f0, _mm512_set1_epi8(a as i8))
                        & _mm512_cmpeq_epi8_mask(f1, _mm512_set1_epi8(b as i8));
                    while m != 0 {
                        let at = m.trailing_zeros() as usize;
                        m &= m - 1;
                        hit(p + at, Found::Pair(i));
                    }
                }
            }
            p += 64;
        }
        p
    }
}

/// The bitmap probe of [`KeywordIndex::find_all`] for 32 positions at a time with AVX2: the 4-byte windows
/// at positions `p+k, p+k+4, ..., p+k+28` for `k` in 0..4 come from four unaligned 32-byte loads; each
/// is folded, hashed as a 4-byte and as a 3-byte gram and looked up in both second-level bitmaps with
/// one gather each. Two gathers per eight positions cost less than one gather plus a scalar second level
/// for the ~2 % of positions (`pub`, `con`, `tok`, ...) whose 3-byte prefix alone passes.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{BITMAP_WORDS, Found, TABLE_BITS};
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_castsi256_ps, _mm256_cmpeq_epi8, _mm256_i32gather_epi32,
        _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_movemask_ps, _mm256_mullo_epi32, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_set1_epi32, _mm256_slli_epi32, _mm256_srli_epi32, _mm256_srlv_epi32,
    };

    /// Probe every position `p` with `p + 35 <= data.len()` (in blocks of 32): call `hit(p, Gram(g))` for
    /// each one whose hashed 4-byte gram is set in `prefix4` or whose hashed 3-byte gram `g` is set in
    /// `exact3` (the second level of the scalar path, which needs no first level here), and
    /// `hit(p, Pair(i))` where the folded byte pair `pairs[i]` starts. Returns the first position not probed.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn scan(
        data: &[u8],
        prefix4: &[u64; BITMAP_WORDS],
        exact3: &[u64; BITMAP_WORDS],
        pairs: &[(u8, u8, usize)],
        mut hit: impl FnMut(usize, Found),
    ) -> usize {
        const { assert!(TABLE_BITS == 16) };
        let low24 = _mm256_set1_epi32(0x00FF_FFFF);
        let mul3 = _mm256_set1_epi32(super::MUL3 as i32);
        let mul4 = _mm256_set1_epi32(super::MUL4 as i32);
        let low5 = _mm256_set1_epi32(31);
        let fold_all = _mm256_set1_epi8(0x20);
        let base4 = prefix4.as_ptr().cast::<i32>();
        let base3 = exact3.as_ptr().cast::<i32>();
        let mut p = 0usize;
        while p + 35 <= data.len() {
            let mut masks = [0u32; 4];
            let mut first = [_mm256_set1_epi32(0); 2];
            for (k, m) in masks.iter_mut().enumerate() {
                // SAFETY: the load reads `data[p + k .. p + k + 32]`, in bounds as `k <= 3` and
                // `p + 35 <= data.len()`; `loadu` has no alignment requirement.
                let v = unsafe { _mm256_loadu_si256(data.as_ptr().add(p + k).cast::<__m256i>()) };
                if let Some(f) = first.get_mut(k) {
                    *f = _mm256_or_si256(v, fold_all);
                }

                let g4 = _mm256_or_si256(v, fold_all);
                let g3 = _mm256_and_si256(g4, low24);
                let h4 = _mm256_srli_epi32::<16>(_mm256_mullo_epi32(g4, mul4));
                let h3 = _mm256_srli_epi32::<16>(_mm256_mullo_epi32(g3, mul3));
                // SAFETY: `h3, h4 < 2^16`, so the word indexes `h >> 5` are below 2048, and each bitmap
                // holds 1024 u64 = 2048 i32 words (4-byte aligned, as u64s are 8-byte aligned).
                let (w4, w3) = unsafe {
                    (
                        _mm256_i32gather_epi32::<4>(base4, _mm256_srli_epi32::<5>(h4)),
                        _mm256_i32gather_epi32::<4>(base3, _mm256_srli_epi32::<5>(h3)),
                    )
                };
                let b = _mm256_or_si256(
                    _mm256_srlv_epi32(w4, _mm256_and_si256(h4, low5)),
                    _mm256_srlv_epi32(w3, _mm256_and_si256(h3, low5)),
                );
                let b = _mm256_slli_epi32::<31>(b);
                *m = _mm256_movemask_ps(_mm256_castsi256_ps(b)) as u32;
            }
            for (i, &(a, b, _)) in pairs.iter().enumerate() {
                let [f0, f1] = first;
                let eq = _mm256_and_si256(
                    _mm256_cmpeq_epi8(f0, _mm256_set1_epi8(a as i8)),
                    _mm256_cmpeq_epi8(f1, _mm256_set1_epi8(b as i8)),
                );
                let mut m = _mm256_movemask_epi8(eq) as u32;
                while m != 0 {
                    let at = m.trailing_zeros() as usize;
                    m &= m - 1;
                    hit(p + at, Found::Pair(i));
                }
            }
            if masks != [0; 4] {
                for (k, &m) in masks.iter().enumerate() {
                    let mut m = m;
                    while m != 0 {
                        let lane = m.trailing_zeros() as usize;
                        m &= m - 1;
                        let pos = p + k + 4 * lane;
                        if let Some(&[a, b, c]) = data.get(pos..pos + 3) {
                            hit(pos, Found::Gram(super::fold3(a, b, c)));
                        }
                    }
                }
            }
            p += 32;
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: every case-insensitive occurrence by brute force.
    fn naive(keywords: &[&str], data: &[u8]) -> Vec<Hit> {
        let mut out = Vec::new();
        for (ki, k) in keywords.iter().enumerate() {
            let k = k.as_bytes();
            if k.is_empty() || k.len() > data.len() {
                continue;
            }
            for s in 0..=data.len() - k.len() {
                if data[s..s + k.len()].eq_ignore_ascii_case(k) {
                    out.push(Hit { start: s, end: s + k.len(), keyword: ki });
                }
            }
        }
        out.sort();
        out
    }

    /// Hits of every SIMD level the CPU has (all must agree); panics naming the level that differs.
    fn found(keywords: &[&str], data: &[u8]) -> Vec<Hit> {
        let index = KeywordIndex::new(keywords);
        let mut results = Simd::levels().into_iter().map(|level| {
            let mut out = Vec::new();
            index.find_with(data, &mut out, level);
            out.sort();
            (level, out)
        });
        let Some((_, first)) = results.next() else { return Vec::new() };
        for (level, out) in results {
            assert_eq!(out, first, "{level:?} pass differs from the scalar pass");
        }
        first
    }

    #[test]
    fn finds_overlapping_and_nested_keywords_in_any_case() {
        let kws = ["token", "token:", "q~", "akia", "_auth", "-----begin", "x"];
        let data = b"TOKEN: a Token:b\nAKIAakia q~Q~ _AUTH _auth -----BEGIN xX tok";
        assert_eq!(found(&kws, data), naive(&kws, data));
        assert!(!found(&kws, data).is_empty());
    }

    #[test]
    fn punctuation_folding_does_not_create_matches() {
        // `_` (0x5F) and DEL (0x7F), `@` and `` ` ``, `[` and `{` fold together: verification rejects them.
        let kws = ["_au", "@ab", "[cd"];
        let data = b"\x7fau `ab {cd";
        assert!(found(&kws, data).is_empty());
        assert_eq!(found(&kws, b"_AU @aB [Cd").len(), 3);
    }

    #[test]
    fn edges_and_empty_inputs() {
        let kws = ["abc", "ab", ""];
        assert!(found(&kws, b"").is_empty());
        assert!(found(&kws, b"a").is_empty());
        assert_eq!(found(&kws, b"ab"), vec![Hit { start: 0, end: 2, keyword: 1 }]);
        assert_eq!(found(&kws, b"xabc"), naive(&kws, b"xabc"));
        assert!(KeywordIndex::new(&[""]).is_empty());
    }

    #[test]
    fn matches_brute_force_on_random_bytes_with_planted_keywords() {
        let kws = [
            "aws",
            "pat",
            "eyj",
            "q~",
            "password",
            "private_key",
            "ghp_",
            "xoxb-",
            "-----begin",
            "token:",
            "://",
        ];
        let mut x = 0x1234_5678_9ABC_DEF0u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut data = Vec::new();
        while data.len() < 200_000 {
            let r = next();
            if r % 7 == 0 {
                let k = kws[(r >> 8) as usize % kws.len()];
                // Random case per letter.
                data.extend(
                    k.bytes()
                        .enumerate()
                        .map(|(i, b)| if (r >> (16 + i)) & 1 == 1 { b.to_ascii_uppercase() } else { b }),
                );
            } else {
                // Printable text, high bytes and punctuation that folds onto letters.
                data.push(match r % 5 {
                    0 => 0x80 | (r >> 20) as u8,
                    1 => b"_@[{^~`"[(r >> 24) as usize % 7],
                    _ => b'a' + (r >> 32) as u8 % 26,
                });
            }
        }
        let hits = found(&kws, &data);
        assert_eq!(hits, naive(&kws, &data));
        assert!(hits.len() > 1000);
    }

    #[test]
    fn matches_brute_force_on_mixed_text() {
        let kws = ["password", "pwd", "ghp_", "://", "secret", "sk_live_", "ey", "xoxb-", "q~"];
        let mut data = Vec::new();
        for i in 0..2000u32 {
            let piece: &[u8] = match i % 7 {
                0 => b"PassWord=hunter2 ",
                1 => b"https://x.io/ ",
                2 => b"GHP_abc sk_LIVE_9 ",
                3 => b"\x00\xff\x7f\x60\x5b ",
                4 => b"eyJ xoxB-1 pwdpwdQ~q~^~",
                5 => b"secre",
                _ => b"t\n",
            };
            data.extend_from_slice(piece);
        }
        assert_eq!(found(&kws, &data), naive(&kws, &data));
    }
}
