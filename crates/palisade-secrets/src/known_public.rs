//! Credentials that vendors publish themselves, in their SDKs' test suites or documentation. Finding one
//! proves nothing leaked, so no rule reports it. Each entry names where the vendor publishes it; add a
//! value only with such a source.

/// (value, where the vendor publishes it).
pub const KNOWN_PUBLIC: &[(&str, &str)] = &[
    // The example secret access key of AWS's IAM documentation (its key id, AKIAIOSFODNN7EXAMPLE, is allowed
    // by the access-key rule's `EXAMPLE` suffix).
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS IAM documentation"),
    // Google API keys in the Firebase JavaScript SDK's precondition-check tests (installations/messaging).
    ("AIzaSyabcdefghijklmnopqrstuvwxyz1234567", "firebase-js-sdk tests"),
    ("AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ", "firebase-js-sdk tests"),
    ("AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM", "firebase-js-sdk tests"),
    ("AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY", "firebase-js-sdk tests"),
    ("AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4", "firebase-js-sdk tests"),
    ("AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c", "firebase-js-sdk tests"),
    ("AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs", "firebase-js-sdk tests"),
    // Google API keys in FirebaseOptions of the Firebase Android SDK's and FlutterFire's tests.
    ("AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM", "flutterfire storage tests"),
    ("AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU", "firebase-android-sdk tests"),
    ("AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g", "firebase-android-sdk messaging tests"),
    ("AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU", "firebase-android-sdk messaging tests"),
    ("AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw", "firebase-android-sdk performance tests"),
];

/// True when `secret` is one of [`KNOWN_PUBLIC`].
pub fn is_known_public(secret: &[u8]) -> bool {
    KNOWN_PUBLIC.iter().any(|(v, _)| v.as_bytes() == secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_have_sources_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (v, src) in KNOWN_PUBLIC {
            assert!(!src.is_empty() && seen.insert(*v), "{v}");
        }
        assert!(is_known_public(b"AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs"));
        assert!(!is_known_public(b"AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIt"));
    }
}
