//! PKCE (RFC 7636), S256 only: the service's own verifier towards the
//! provider, and the check of an app's verifier against the challenge it
//! sent at the start (`plain` is never offered nor accepted).

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A challenge is base64url (no padding) of a SHA-256: 43 characters.
pub const CHALLENGE_LEN: usize = 43;

/// A code verifier (RFC 7636 §4.1): 43 to 128 of the unreserved characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier(String);

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(…)")
    }
}

impl Verifier {
    /// A new verifier: 32 random bytes as base64url, 43 characters (the
    /// RFC's recommendation, 256 bits).
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A verifier read back (from the stored state): `None` unless it has
    /// the RFC's shape.
    pub fn parse(text: &str) -> Option<Self> {
        is_valid_verifier(text).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its S256 challenge.
    pub fn challenge(&self) -> String {
        challenge(&self.0)
    }
}

/// Whether `verifier` is 43 to 128 of `A-Z a-z 0-9 - . _ ~`.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `challenge` can be an S256 challenge: exactly 43 base64url
/// characters that decode to 32 bytes (the last one's unused bits zero).
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == CHALLENGE_LEN
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// The S256 challenge of `verifier`: BASE64URL(SHA-256(ASCII(verifier))).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// Whether `verifier` is the one whose S256 challenge is `challenge`,
/// compared in constant time; false for a malformed either.
pub fn verify(challenge_sent: &str, verifier: &str) -> bool {
    if !is_valid_challenge(challenge_sent) || !is_valid_verifier(verifier) {
        return false;
    }
    let computed = challenge(verifier);
    constant_time_eq(computed.as_bytes(), challenge_sent.as_bytes())
}

/// Byte strings compared without an early exit (the lengths are public).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a
        .iter()
        .zip(b)
        .fold(0_u8, |difference, (x, y)| difference | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_7636_appendix_b_vector() {
        assert_eq!(challenge(RFC_VERIFIER), RFC_CHALLENGE);
        assert!(verify(RFC_CHALLENGE, RFC_VERIFIER));
        let parsed = Verifier::parse(RFC_VERIFIER).unwrap();
        assert_eq!(parsed.challenge(), RFC_CHALLENGE);
        assert_eq!(format!("{parsed:?}"), "Verifier(…)");
    }

    #[test]
    fn a_generated_verifier_is_43_unreserved_characters_and_new_each_time() {
        let one = Verifier::generate().unwrap();
        let two = Verifier::generate().unwrap();
        assert_eq!(one.as_str().len(), 43);
        assert!(is_valid_verifier(one.as_str()));
        assert_ne!(one, two);
        assert!(verify(&one.challenge(), one.as_str()));
        assert!(!verify(&one.challenge(), two.as_str()));
    }

    #[test]
    fn wrong_or_malformed_verifiers_and_challenges_are_refused() {
        // One character off, either side.
        let mut other = RFC_VERIFIER.to_owned();
        other.replace_range(0..1, "e");
        assert!(!verify(RFC_CHALLENGE, &other));
        assert!(!verify(&RFC_CHALLENGE.replace('E', "F"), RFC_VERIFIER));
        // `plain`: the verifier as its own challenge.
        assert!(!verify(RFC_VERIFIER, RFC_VERIFIER));
        // Verifier shapes: too short, too long, outside the unreserved set.
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(is_valid_verifier(&"a".repeat(43)) && is_valid_verifier(&"a".repeat(128)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(!is_valid_verifier(&format!("{}=", "a".repeat(43))));
        assert!(!is_valid_verifier(&format!("{}é", "a".repeat(43))));
        assert!(Verifier::parse("short").is_none());
        assert!(!verify(&challenge(&"a".repeat(42)), &"a".repeat(42)));
        // Challenge shapes: length, padding, the standard alphabet, and a
        // last character whose unused bits are not zero.
        assert!(!is_valid_challenge(&RFC_CHALLENGE[..42]));
        assert!(!is_valid_challenge(&format!("{RFC_CHALLENGE}=")));
        assert!(!is_valid_challenge(&format!("{RFC_CHALLENGE}A")));
        assert!(!is_valid_challenge(&RFC_CHALLENGE.replace('-', "+")));
        assert!(!is_valid_challenge(&format!("{}N", &RFC_CHALLENGE[..42])));
        assert!(!is_valid_challenge(""));
        assert!(is_valid_challenge(RFC_CHALLENGE));
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
