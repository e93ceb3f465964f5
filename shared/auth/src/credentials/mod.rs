//! The `{"email", "password"}` body of register and login, and the rules both obey.

pub mod mfa_token;
pub mod one_time_code;
pub mod password;
pub mod recovery_codes;
pub mod sealed;
pub mod totp;

use crate::http::error::ApiError;
use serde::Deserialize;
use serde_json::Value;

/// RFC 5321 caps a forward path at 254 bytes, and its local part at 64.
const MAX_EMAIL_BYTES: usize = 254;
const MAX_LOCAL_PART_BYTES: usize = 64;
/// bcrypt reads at most 72 bytes: a longer password would be cut silently, so
/// it is refused instead.
pub const MAX_PASSWORD_BYTES: usize = 72;
pub const MIN_PASSWORD_BYTES: usize = 8;

/// Device names are for people to read in a list; longer ones are cut.
const MAX_DEVICE_CHARS: usize = 100;

/// A normalised, plausible email and a password within bcrypt's limits, and
/// the name of the device signing in, if the client gave one.
pub struct Credentials {
    pub email: String,
    pub password: String,
    pub device: Option<String>,
}

/// The body as sent. Fields are untyped here so that a missing or mistyped one
/// gets our own message, which never echoes the value (it may be a password).
#[derive(Deserialize)]
struct CredentialsBody {
    email: Option<Value>,
    password: Option<Value>,
    device: Option<Value>,
}

impl Credentials {
    pub fn from_request(request: &lambda_http::Request) -> Result<Self, ApiError> {
        let body: CredentialsBody = crate::http::request::json_body(request)?;
        let email = required_string("email", body.email)?;
        let password = required_string("password", body.password)?;
        let email = normalize_email(&email)?;
        check_password(&password)?;
        let device = match body.device {
            None | Some(Value::Null) => None,
            Some(Value::String(device)) => Some(device_name(&device)),
            Some(_) => return Err(ApiError::bad_request("device must be a string.")),
        };
        Ok(Self {
            email,
            password,
            device,
        })
    }
}

/// A device name fit for a list: trimmed, without control or format characters
/// (bidi overrides, zero-width ones: "Joe's phone" + U+202E + "gnp.exe" must
/// not show as "Joe's phoneexe.png"), at most [`MAX_DEVICE_CHARS`] characters.
pub fn device_name(raw: &str) -> String {
    let visible: String = raw.chars().filter(|&c| !is_invisible(c)).collect();
    let cut: String = visible.trim().chars().take(MAX_DEVICE_CHARS).collect();
    // The cut may land inside a run of spaces (found by `make fuzz`).
    cut.trim_end().to_owned()
}

/// A field that must be present and a string; the message never shows the value.
pub fn required_string(name: &str, value: Option<Value>) -> Result<String, ApiError> {
    match value {
        None | Some(Value::Null) => Err(ApiError::bad_request(format!("{name} is required."))),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a string."))),
    }
}

/// What a refused local part is told (it is the one part a person typed
/// that the rule may surprise).
pub const LOCAL_PART_RULE: &str = "email is not a valid email address: before the @ only letters, \
     digits, single dots (not first or last) and !#$%&'*+/=?^_`{|}~- are allowed.";

/// The characters RFC 5321's `atext` allows besides letters and digits.
const ATEXT_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

/// Trims, lower-cases and puts into Unicode NFC, so `" Joe@Gmail.com"` and
/// `"joe@gmail.com"` are one account, and so are a composed `é` and an `e`
/// followed by a combining accent; refuses any invisible character (zero-width
/// ones, bidi controls, soft hyphens, a byte-order mark), which would make a
/// look-alike of another address. NFC, not NFKC: NFKC would also fold
/// compatibility forms (`ｊｏｅ`, `ﬁ`) into another mailbox's name, and an
/// address must stay the mailbox its owner typed.
///
/// An address is one mailbox: the local part is an RFC 5321 dot-atom
/// ([`LOCAL_PART_RULE`]; RFC 6531's letters beyond ASCII included), so no
/// display name, comment, group or quoted string that SES would read as
/// another mailbox than the one stored; the domain is folded to its ASCII
/// form (IDNA, UTS #46 with the STD3 rules), so `bücher.de` and
/// `xn--bcher-kva.de` are one domain. IP-literal domains are refused, as
/// most providers do.
pub fn normalize_email(raw: &str) -> Result<String, ApiError> {
    use unicode_normalization::UnicodeNormalization;
    let email: String = raw.trim().to_lowercase().nfc().collect();
    if email.is_empty() {
        return Err(ApiError::bad_request("email is required."));
    }
    let invalid = || ApiError::bad_request("email is not a valid email address.");
    if email.len() > MAX_EMAIL_BYTES || email.chars().any(|c| c.is_whitespace() || is_invisible(c))
    {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || local.len() > MAX_LOCAL_PART_BYTES {
        return Err(invalid());
    }
    if !is_dot_atom(local) {
        return Err(ApiError::bad_request(LOCAL_PART_RULE));
    }
    let domain = idna::domain_to_ascii_strict(domain).map_err(|_| invalid())?;
    let plausible = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
    let email = format!("{local}@{domain}");
    if plausible && email.len() <= MAX_EMAIL_BYTES {
        Ok(email)
    } else {
        Err(invalid())
    }
}

/// RFC 5321's `Dot-string`: atoms of letters, digits (any script's, with
/// their combining marks) and [`ATEXT_SPECIALS`], joined by single dots.
fn is_dot_atom(local: &str) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    let atext = |c: char| {
        c.is_alphanumeric()
            || ATEXT_SPECIALS.contains(c)
            || c.general_category_group() == GeneralCategoryGroup::Mark
    };
    local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

/// A character that shows nothing: controls, format characters (Unicode's
/// Cf: zero-width space and joiners, bidi controls, soft hyphen, BOM), line
/// and paragraph separators, private-use and unassigned code points, and the
/// Hangul fillers and the blank Braille pattern, letters and symbols that
/// render as blank space.
fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory as Category, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        Category::Control
            | Category::Format
            | Category::LineSeparator
            | Category::ParagraphSeparator
            | Category::PrivateUse
            | Category::Surrogate
            | Category::Unassigned
    ) || matches!(
        c,
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
    )
}

/// 8 to 72 bytes of UTF-8 without NUL. Within these bounds bcrypt uses every
/// byte, so two passwords that differ anywhere never share a hash.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if password.len() < MIN_PASSWORD_BYTES || password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_request(format!(
            "password must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes long."
        )));
    }
    if password.contains('\0') {
        return Err(ApiError::bad_request(
            "password must not contain NUL characters.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email(" Joe@Gmail.com\t").unwrap(),
            "joe@gmail.com"
        );
    }

    #[test]
    fn implausible_emails_are_refused() {
        for bad in [
            "joe",
            "@gmail.com",
            "joe@",
            "joe@gmail",
            "joe@@gmail.com",
            "jo e@gmail.com",
            "joe@gmail..com",
            "joe@.com",
            "\"joe\"@gmail.com",
            "joe@[192.0.2.1]",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_LOCAL_PART_BYTES + 1));
        assert!(normalize_email(&long).is_err());
    }

    #[test]
    fn the_local_part_is_a_dot_atom_so_an_address_is_one_mailbox() {
        for other_mailbox in [
            "a<b@example.com>",
            "a(comment)@example.com",
            "a,b@example.com",
            "a;x@example.com",
            "a:group@example.com",
            "a\\x@example.com",
            "a[x]@example.com",
            "\"ab\"@example.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
        ] {
            let refused = normalize_email(other_mailbox).unwrap_err();
            assert!(
                matches!(&refused, ApiError::BadRequest(reason) if reason == LOCAL_PART_RULE),
                "{other_mailbox}: {refused:?}"
            );
        }
        for one_mailbox in [
            "o'brien+news@example.com",
            "a.b.c@example.com",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "\u{b9c8}\u{c138}@example.com",
        ] {
            assert_eq!(normalize_email(one_mailbox).unwrap(), one_mailbox);
        }
    }

    #[test]
    fn a_domain_has_one_spelling_its_ascii_one() {
        let unicode = normalize_email("joe@b\u{fc}cher.de").unwrap();
        assert_eq!(unicode, "joe@xn--bcher-kva.de");
        assert_eq!(normalize_email("joe@xn--bcher-kva.de").unwrap(), unicode);
        assert_eq!(normalize_email("joe@B\u{dc}CHER.de").unwrap(), unicode);
        for bad in ["joe@exa_mple.com", "joe@-example.com", "joe@example.com."] {
            assert!(normalize_email(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn composed_and_decomposed_accents_are_one_address() {
        let composed = normalize_email("jos\u{e9}@example.com").unwrap();
        let decomposed = normalize_email("jose\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(composed, "jos\u{e9}@example.com");
        // NFC, not NFKC: a full-width letter stays another mailbox.
        assert_eq!(
            normalize_email("\u{ff4a}oe@example.com").unwrap(),
            "\u{ff4a}oe@example.com"
        );
    }

    #[test]
    fn invisible_characters_make_no_address() {
        for invisible in [
            '\u{200B}', // zero-width space
            '\u{200C}', // zero-width non-joiner
            '\u{200D}', // zero-width joiner
            '\u{2060}', // word joiner
            '\u{00AD}', // soft hyphen
            '\u{FEFF}', // byte-order mark
            '\u{202E}', // right-to-left override
            '\u{2066}', // left-to-right isolate
            '\u{180E}', // Mongolian vowel separator
            '\u{2028}', // line separator
            '\u{E000}', // private use
            '\u{3164}', // Hangul filler
            '\u{0007}', // bell
        ] {
            for email in [
                format!("jo{invisible}e@example.com"),
                format!("joe@exam{invisible}ple.com"),
            ] {
                assert!(
                    normalize_email(&email).is_err(),
                    "U+{:04X}",
                    invisible as u32
                );
            }
        }
        let with_bom = "\u{FEFF}joe@example.com";
        assert!(
            normalize_email(with_bom).is_err(),
            "a leading BOM is no space to trim"
        );
    }

    #[test]
    fn device_names_lose_format_characters() {
        assert_eq!(
            device_name("Joe's phone\u{202E}gnp.exe"),
            "Joe's phonegnp.exe"
        );
        assert_eq!(device_name("i\u{200B}Pad\u{FEFF} \u{2066}"), "iPad");
        assert_eq!(
            device_name("Zo\u{eb}'s Pixel \u{1F4F1}"),
            "Zo\u{eb}'s Pixel \u{1F4F1}"
        );
    }

    #[test]
    fn password_length_is_counted_in_bytes() {
        assert!(check_password(&"a".repeat(7)).is_err());
        assert!(check_password(&"a".repeat(8)).is_ok());
        assert!(check_password(&"a".repeat(72)).is_ok());
        assert!(check_password(&"a".repeat(73)).is_err());
        // 18 four-byte emoji are 72 bytes; 19 are 76.
        assert!(check_password(&"\u{1F600}".repeat(18)).is_ok());
        assert!(check_password(&"\u{1F600}".repeat(19)).is_err());
    }

    #[test]
    fn nul_is_refused() {
        let err = check_password("abcdefgh\0ijk").unwrap_err();
        assert!(matches!(err, ApiError::BadRequest(m) if m.contains("NUL")));
    }

    #[test]
    fn a_device_name_cut_inside_spaces_ends_trimmed() {
        let long = format!("{}   x", "d".repeat(99));
        assert_eq!(device_name(&long), "d".repeat(99));
        assert_eq!(device_name("  laptop\u{7}  "), "laptop");
    }
}
