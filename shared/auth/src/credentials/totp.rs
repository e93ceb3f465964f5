//! Time-based one-time passwords (RFC 6238), the second factor: SHA-1, 6
//! digits, 30-second steps, what every authenticator app reads from an
//! `otpauth://` URI.
//!
//! - The codes come from `totp-rs` (the HMAC and RFC 4226's truncation, its
//!   comparison constant-time); which step a code matched is ours to keep, so
//!   that a code is accepted at most once ([`Totp::matched_step`]: the store
//!   accepts a step only above the last one accepted, in one conditional
//!   write).
//! - The secret is 160 bits from the OS generator (RFC 4226 §4 asks for 128
//!   at least, and recommends 160), shown once as base32, and stored only
//!   sealed ([`super::sealed`]).

use crate::http::error::ApiError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use totp_rs::{Algorithm, Builder, Secret};

/// Bytes of a new secret: 160 bits.
pub const SECRET_BYTES: usize = 20;
pub const DIGITS: u8 = 6;
pub const STEP_SECONDS: u64 = 30;
/// Steps either side of the current one a code may come from: a phone's
/// clock a little off, a code typed as it changes. Two away is refused.
pub const SKEW_STEPS: u16 = 1;

/// One account's TOTP generator.
pub struct Totp(totp_rs::Totp);

impl Totp {
    /// The generator of a secret (raw bytes, as sealed in the store).
    pub fn new(secret: &[u8]) -> Result<Self, ApiError> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::from(secret))
            .build()
            .map(Self)
            .map_err(|error| ApiError::Unavailable(format!("TOTP generator: {error}")))
    }

    /// The generator of a secret as shown to the user (base32), as an
    /// authenticator app reads it.
    pub fn from_base32(secret: &str) -> Option<Self> {
        let bytes = Secret::try_from_base32(secret).ok()?;
        Self::new(bytes.as_ref()).ok()
    }

    /// A new random secret.
    pub fn new_secret() -> Result<Vec<u8>, ApiError> {
        let mut secret = vec![0; SECRET_BYTES];
        getrandom::fill(&mut secret)
            .map_err(|_| ApiError::Unavailable("no randomness for a TOTP secret".into()))?;
        Ok(secret)
    }

    /// The step (`time / 30`) whose code `code` is, within one step of `now`;
    /// `None` for a wrong code, or one not six digits.
    pub fn matched_step(&self, code: &str, now: u64) -> Option<u64> {
        if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.0.check(code, now)
    }

    /// The code of the step that holds `time` (for tests and tools).
    pub fn code_at(&self, time: u64) -> String {
        self.0.generate(time).to_string()
    }

    /// The secret as an authenticator app takes it typed in: base32, no padding.
    pub fn secret_base32(&self) -> String {
        self.0.secret().to_base32()
    }

    /// The `otpauth://` URI for a QR code: the label `<issuer>:<account>` and
    /// every parameter spelled out (some apps assume nothing).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        // RFC 3986 unreserved characters stay; everything else is escaped,
        // `:` and `@` included, so the label has one `:` (ours).
        const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let escape = |text: &str| utf8_percent_encode(text, ESCAPED).to_string();
        format!(
            "otpauth://totp/{issuer_label}:{account}?secret={secret}&issuer={issuer_label}\
             &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            issuer_label = escape(issuer),
            account = escape(account),
            secret = self.secret_base32(),
        )
    }
}

/// The QR code of `text` as an SVG document, black on white, for the
/// account page to show inline.
pub fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|error| ApiError::Unavailable(format!("QR code: {error}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 (the RFC's codes have 8 digits).
    #[test]
    fn the_rfc_6238_vectors() {
        let rfc = Builder::new()
            .with_digits(8)
            .with_secret(Secret::from(&b"12345678901234567890"[..]))
            .build()
            .unwrap();
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(rfc.generate(time).to_string(), code, "T = {time}");
        }
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_not_two() {
        let totp = Totp::new(&Totp::new_secret().unwrap()).unwrap();
        let now = 1_800_000_015;
        let step = now / STEP_SECONDS;
        for offset in [-1i64, 0, 1] {
            let at = now.checked_add_signed(offset * 30).unwrap();
            let code = totp.code_at(at);
            assert_eq!(totp.matched_step(&code, now), Some(at / STEP_SECONDS));
        }
        for offset in [-2i64, 2] {
            let code = totp.code_at(now.checked_add_signed(offset * 30).unwrap());
            let matched = totp.matched_step(&code, now);
            // A code of two steps away may equal a nearby one by chance (one
            // in a million); it is then that step's code, never its own.
            assert!(matched.is_none_or(|s| s.abs_diff(step) <= 1));
        }
        assert_eq!(totp.matched_step("12345", now), None);
        assert_eq!(totp.matched_step("12345a", now), None);
        assert_eq!(totp.matched_step(" 123456", now), None);
    }

    #[test]
    fn the_uri_names_everything_and_escapes_the_label() {
        let totp = Totp::new(&[7; SECRET_BYTES]).unwrap();
        let uri = totp.otpauth_uri("Token Auth", "a+b@example.com");
        let secret = totp.secret_base32();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/Token%20Auth:a%2Bb%40example.com?secret={secret}\
                 &issuer=Token%20Auth&algorithm=SHA1&digits=6&period=30"
            )
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(
            svg.starts_with("<?xml") && svg.contains("<svg"),
            "{svg:.80}"
        );
    }
}
