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
    // The Google Cloud SDK's installed-application OAuth clients and API keys: shipped in every gcloud, bq and
    // gsutil install (Google's installed-app OAuth flow treats such client secrets as public), and in
    // gsutil's public source repository.
    (
        "ZmssLNjJy2998hD4CTg2ejr2",
        "Google Cloud SDK googlecloudsdk/core/config.py (CLOUDSDK_CLIENT_NOTSOSECRET)",
    ),
    (
        "d-FL95Q19q7MQmFpd7hHD0Ty",
        "Google Cloud SDK googlecloudsdk/api_lib/auth/util.py (application-default login client)",
    ),
    ("wbER7576mc_1YOII0dGk7jEE", "Google Cloud SDK platform/bq/auth/utils.py (bq CLI client)"),
    (
        "AIzaSyCUuWyME_r4XylltWNeydEjKSkgXkvpVyU",
        "Google Cloud SDK command_lib/crash_handling.py (error reporting)",
    ),
    (
        "AIzaSyAp4DSI_Z3-mK-B8U0t7GE34n74OWDJmak",
        "Google Cloud SDK command_lib/crash_handling.py (crash reporting)",
    ),
    ("AIzaSyDnacJHrKma0048b13sh8cgxNUwulubmJM", "gsutil gslib/gcs_json_api.py (public repository)"),
    // Jetty's distribution: the commented defaults of its `ssl.mod` (OBF: obfuscations of `storepwd` and
    // `keypwd`, which its documentation gives) and of its `openid.mod` template.
    ("OBF:1vny1zlo1x8e1vnw1vn61x8g1zlu1vn4", "Jetty jetty-home/modules/ssl.mod (storepwd)"),
    ("OBF:1u2u1wml1z7s1z7a1wnl1u2g", "Jetty jetty-home/modules/ssl.mod (keypwd)"),
    ("XT_Mafv_aUCGheuCaKY8P", "Jetty jetty-home/modules/openid.mod ini-template"),
    // The example credentials of the OAuth RFCs, quoted in every OAuth library's documentation.
    ("2YotnFZFEjr1zCsicMWpAA", "RFC 6749 (OAuth 2.0) example access token"),
    ("tGzv3JOkF0XG5Qx2TlKWIA", "RFC 6749 example refresh token"),
    ("czZCaGRSa3F0MzpnWDFmQmF0M2JW", "RFC 6749 example client credentials (s6BhdRkqt3:gX1fBat3bV)"),
    ("0685bd9184jfhq22", "RFC 5849 (OAuth 1.0) section 3.1 example consumer key"),
    ("ad180jjd733klru7", "RFC 5849 section 3.1 example token"),
    ("wOJIO9A2W5mFwDgiDvZbTSMK%2FPY%3D", "RFC 5849 section 3.1 example signature"),
    ("9djdj82h48djs9d2", "RFC 5849 section 3.4.1 example consumer key"),
    ("kkk9d7dh3k39sjv7", "RFC 5849 section 3.4.1 example token"),
    ("djosJKDKJSD8743243%2Fjdk33klY%3D", "RFC 5849 section 3.4.1 example signature"),
    ("45ghiukldjahdnhzdauz", "RFC 7009 (token revocation) example token"),
    ("agabcdefddddafdd", "RFC 7009 example token"),
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
