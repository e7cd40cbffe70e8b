//! The identity an OIDC token claims, read (not verified: Fulcio verifies it) from the JWT's payload:
//! the e-mail when the token has one, else the subject, and the issuer. Fulcio's proof of possession is a
//! signature over exactly that identity string.

use crate::error::SignError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// What the token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `email`, else `sub`.
    pub identity: String,
    /// `iss`.
    pub issuer: String,
}

fn bad(reason: impl Into<String>) -> SignError {
    SignError::Input { path: "identity token".into(), reason: reason.into() }
}

/// Read the claims of a compact JWT (`header.payload.signature`).
pub fn claims(token: &str) -> Result<Claims, SignError> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("not a JWT (header.payload.signature)"));
    };
    let json = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| bad(format!("payload is not base64url: {e}")))?;
    let v: Value = serde_json::from_slice(&json).map_err(|e| bad(format!("payload is not JSON: {e}")))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let identity = s("email").or_else(|| s("sub")).ok_or_else(|| bad("no email or sub claim"))?;
    let issuer = s("iss").ok_or_else(|| bad("no iss claim"))?;
    Ok(Claims { identity, issuer })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn email_before_subject_and_clear_refusals() {
        let c = claims(&jwt(r#"{"iss":"https://i","sub":"123","email":"a@b"}"#)).expect("claims");
        assert_eq!(c, Claims { identity: "a@b".into(), issuer: "https://i".into() });
        assert_eq!(claims(&jwt(r#"{"iss":"https://i","sub":"x"}"#)).expect("sub").identity, "x");
        for (t, want) in [
            ("abc".to_string(), "not a JWT"),
            (jwt(r#"{"sub":"x"}"#), "no iss claim"),
            (jwt("[]"), "no email or sub"),
            ("a.!!.c".to_string(), "not base64url"),
        ] {
            let e = claims(&t).expect_err("bad").to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
