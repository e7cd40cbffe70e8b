//! RFC 6962 / RFC 9162 Merkle tree hashing and inclusion-proof verification: leaf hash
//! `SHA-256(0x00 || entry)`, node hash `SHA-256(0x01 || left || right)`, and the root recomputed from the
//! leaf index, the tree size and the audit path (RFC 9162 §2.1.3.2).

use sha2::{Digest, Sha256};

pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root hash the inclusion proof leads to, or why it is malformed.
pub fn root_from_proof(index: u64, size: u64, leaf: [u8; 32], proof: &[Vec<u8>]) -> Result<[u8; 32], String> {
    if index >= size {
        return Err(format!("leaf index {index} is not below the tree size {size}"));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        if p.len() != 32 {
            return Err("a proof hash is not 32 bytes".into());
        }
        if s == 0 {
            return Err("the proof has more hashes than the tree has levels".into());
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err("the proof has fewer hashes than the tree has levels".into());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of `n` leaves built the RFC 6962 way (split at the largest power of two below n).
    fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
    }

    fn path(i: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return Vec::new();
        }
        let k = leaves.len().next_power_of_two() / 2;
        if i < k {
            let mut p = path(i, &leaves[..k]);
            p.push(root(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(i - k, &leaves[k..]);
            p.push(root(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn every_leaf_of_trees_up_to_17_and_tampering() {
        for n in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            let want = root(&leaves);
            for i in 0..n {
                let p = path(i, &leaves);
                assert_eq!(root_from_proof(i as u64, n as u64, leaves[i], &p), Ok(want), "n={n} i={i}");
                if !p.is_empty() {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert_ne!(root_from_proof(i as u64, n as u64, leaves[i], &bad), Ok(want));
                    assert!(root_from_proof(i as u64, n as u64, leaves[i], &p[1..]).is_err());
                }
            }
        }
        assert!(root_from_proof(3, 3, [0; 32], &[]).is_err());
    }
}
