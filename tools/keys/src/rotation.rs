//! Creating and rotating a key set document, as pure functions of the document,
//! the time and a source of new keys, so the tests can run them on small clock
//! values and with one shared key.

use auth::tokens::keys::{KeyEntry, KeySet, KeySetDocument, KeyState};
use std::collections::HashSet;

/// Every new key is RSA 2048: the minimum the service accepts, and the
/// cheapest to verify at the gateway. Larger keys would slow every signature.
pub const NEW_KEY_BITS: usize = 2048;

/// The longest access-token lifetime the service's configuration allows
/// (`ACCESS_TOKEN_TTL_SECONDS`, 30 days): a retired key older than this can
/// have signed no token that is still valid.
pub const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS: u64 = 30 * 24 * 3600;

/// Room left for a kid's prefix: kids are at most 64 characters (keys.rs), and
/// the tool adds `-YYYY-MM-DD-xxxxxxxx` (20).
const MAX_PREFIX_CHARS: usize = 40;

/// Where new keys come from: the RSA key (PKCS#8 PEM) and the prefix of the
/// kids. The tests give every key the same PEM, since generating one takes a
/// noticeable fraction of a second and the set does not require distinct keys.
pub struct KeySource<'a> {
    pub kid_prefix: Option<&'a str>,
    pub new_pem: &'a mut dyn FnMut() -> Result<String, String>,
}

impl KeySource<'_> {
    /// A key in `state`, changed `now`, with a kid not in `taken`.
    fn key(
        &mut self,
        state: KeyState,
        now: u64,
        taken: &HashSet<String>,
    ) -> Result<KeyEntry, String> {
        let kid = loop {
            let kid = new_kid(self.kid_prefix, now)?;
            // 32 random bits a day make a clash unlikely, not impossible.
            if !taken.contains(&kid) {
                break kid;
            }
        };
        Ok(KeyEntry {
            kid,
            state,
            private_key_pem: (self.new_pem)()?,
            changed_at: Some(now),
        })
    }
}

/// A kid that says when the key was made and is unique by its random part:
/// `[PREFIX-]YYYY-MM-DD-xxxxxxxx`.
fn new_kid(prefix: Option<&str>, now: u64) -> Result<String, String> {
    // `YYYY-MM-DD`, the date part of the RFC 3339 form.
    let date = auth::rfc3339(now)
        .get(..10)
        .map(str::to_owned)
        .ok_or_else(|| format!("the clock says {now}, which is not a date"))?;
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).map_err(|e| format!("no randomness for a kid: {e}"))?;
    let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    let stem = format!("{date}-{hex}");
    Ok(match prefix {
        Some(prefix) => format!("{prefix}-{stem}"),
        None => stem,
    })
}

/// A kid travels in every token's header and in the JWKS: plain characters
/// only, short enough for the kid limit.
pub fn check_kid_prefix(prefix: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if prefix.is_empty() || prefix.len() > MAX_PREFIX_CHARS || !prefix.chars().all(plain) {
        return Err(format!(
            "--kid-prefix must be 1 to {MAX_PREFIX_CHARS} characters of A-Z, a-z, 0-9, '-', '_' or '.'"
        ));
    }
    Ok(())
}

/// A new set: one key that signs from now on, and the one that will sign
/// after the first rotation, already there to be published.
pub fn create(now: u64, source: &mut KeySource) -> Result<KeySetDocument, String> {
    let current = source.key(KeyState::Current, now, &HashSet::new())?;
    let next = source.key(KeyState::Next, now, &HashSet::from([current.kid.clone()]))?;
    Ok(KeySetDocument {
        keys: vec![current, next],
    })
}

/// The result of a rotation, with what the operator should know about it.
pub struct Rotation {
    pub document: KeySetDocument,
    /// Kids dropped because every token they signed has expired.
    pub dropped: Vec<String>,
    pub warnings: Vec<String>,
}

/// One rotation: `next` → `current` (it has been published since the last
/// rotation, so verifiers already have it), `current` → `retired` (it still
/// verifies the tokens it signed), a fresh `next`, and the retired keys that
/// can no longer verify any live token dropped: those retired more than
/// `max_token_lifetime` seconds before `now`.
pub fn rotate(
    document: KeySetDocument,
    now: u64,
    max_token_lifetime: u64,
    source: &mut KeySource,
) -> Result<Rotation, String> {
    let count = |state| {
        document
            .keys
            .iter()
            .filter(|key| key.state == state)
            .count()
    };
    match (count(KeyState::Current), count(KeyState::Next)) {
        (1, 1) => {}
        (0, _) => return Err("the key set has no current key; nothing to rotate".into()),
        (current, _) if current > 1 => {
            return Err(format!(
                "the key set has {current} current keys; exactly one signs"
            ));
        }
        (_, 0) => {
            // Promoting a key nobody has published would fail every token it
            // signs until verifiers refresh their copy of the JWKS.
            return Err(
                "the key set has no next key: a key must be published (next) \
                        before it can sign; add one, or start over with `keys create`"
                    .into(),
            );
        }
        (_, next) => {
            return Err(format!(
                "the key set has {next} next keys; which one signs next is ambiguous"
            ));
        }
    }

    let mut keys = Vec::with_capacity(document.keys.len() + 1);
    let mut dropped = Vec::new();
    let mut warnings = Vec::new();
    for mut key in document.keys {
        match key.state {
            KeyState::Next => {
                key.state = KeyState::Current;
                key.changed_at = Some(now);
            }
            KeyState::Current => {
                key.state = KeyState::Retired;
                key.changed_at = Some(now);
            }
            KeyState::Retired => match key.changed_at {
                // A clock that went backwards counts as no time at all.
                Some(retired_at) if now.saturating_sub(retired_at) > max_token_lifetime => {
                    dropped.push(key.kid);
                    continue;
                }
                Some(_) => {}
                None => warnings.push(format!(
                    "retired key {:?} has no changed_at, so its age is unknown: kept; \
                     remove it by hand once every token it signed has expired",
                    key.kid
                )),
            },
        }
        keys.push(key);
    }
    let taken: HashSet<String> = keys.iter().map(|key| key.kid.clone()).collect();
    keys.push(source.key(KeyState::Next, now, &taken)?);
    Ok(Rotation {
        document: KeySetDocument { keys },
        dropped,
        warnings,
    })
}

/// The service's own check of a set (the one a function runs at init, with
/// every key's private half checked as a signer checks the current one's),
/// and its kids and states for a message. Every document the tool writes
/// passes it first, so nothing it writes can stop a function from starting,
/// now or once a `next` key becomes current.
pub fn check(document: &KeySetDocument) -> Result<String, String> {
    let set = KeySet::from_document(document)?;
    set.check_private_keys()?;
    Ok(set.summary())
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth::tokens::keys::generate_private_key_pem;

    /// Small clock values: the rules depend on differences only.
    const LIFETIME: u64 = 100;

    fn entry(kid: &str, state: KeyState, changed_at: Option<u64>, pem: &str) -> KeyEntry {
        KeyEntry {
            kid: kid.into(),
            state,
            private_key_pem: pem.into(),
            changed_at,
        }
    }

    fn states(document: &KeySetDocument) -> Vec<(String, KeyState, Option<u64>)> {
        document
            .keys
            .iter()
            .map(|key| (key.kid.clone(), key.state, key.changed_at))
            .collect()
    }

    #[test]
    fn create_then_rotate_moves_every_key_one_state_on_and_drops_only_expired_retired_keys() {
        let pem = generate_private_key_pem(NEW_KEY_BITS).unwrap();
        let mut new_pem = || Ok(pem.clone());
        let mut source = KeySource {
            kid_prefix: Some("test"),
            new_pem: &mut new_pem,
        };

        let created = create(1_000, &mut source).unwrap();
        check(&created).unwrap();
        let [first, second] = &created.keys[..] else {
            panic!("two keys: {:?}", created.keys)
        };
        assert_eq!(
            (first.state, second.state),
            (KeyState::Current, KeyState::Next)
        );
        assert_eq!(
            (first.changed_at, second.changed_at),
            (Some(1_000), Some(1_000))
        );
        assert_ne!(first.kid, second.kid);
        // 1970-01-01 at 1000 s, the prefix first, 8 hex digits last.
        assert!(first.kid.starts_with("test-1970-01-01-"), "{}", first.kid);
        assert_eq!(first.kid.len(), "test-1970-01-01-".len() + 8);

        // Add a retired key just old enough to go, one just young enough to
        // stay, and one of unknown age.
        let mut document = created.clone();
        document.keys.extend([
            entry("gone", KeyState::Retired, Some(1_000 - LIFETIME - 1), &pem),
            entry("stays", KeyState::Retired, Some(1_000 - LIFETIME), &pem),
            entry("undated", KeyState::Retired, None, &pem),
        ]);
        let rotation = rotate(document, 1_000, LIFETIME, &mut source).unwrap();
        let rotated = rotation.document;
        check(&rotated).unwrap();
        assert_eq!(rotation.dropped, ["gone"]);
        assert_eq!(rotation.warnings.len(), 1);
        assert!(
            rotation.warnings[0].contains("undated"),
            "{:?}",
            rotation.warnings
        );
        let after = states(&rotated);
        assert_eq!(
            after[..4],
            [
                (first.kid.clone(), KeyState::Retired, Some(1_000)),
                (second.kid.clone(), KeyState::Current, Some(1_000)),
                ("stays".into(), KeyState::Retired, Some(1_000 - LIFETIME)),
                ("undated".into(), KeyState::Retired, None),
            ]
        );
        let (fresh, state, changed_at) = &after[4];
        assert_eq!((*state, *changed_at), (KeyState::Next, Some(1_000)));
        assert!(![&first.kid, &second.kid].contains(&fresh), "a new kid");
        assert_eq!(after.len(), 5);

        // One lifetime later the key retired above goes; the one retired at
        // 1000 - LIFETIME went long ago.
        let later = rotate(rotated, 1_000 + LIFETIME + 1, LIFETIME, &mut source).unwrap();
        assert_eq!(later.dropped, [first.kid.clone(), "stays".into()]);
        let later = later.document;
        check(&later).unwrap();
        let retired: Vec<&str> = (later.keys.iter())
            .filter(|key| key.state == KeyState::Retired)
            .map(|key| key.kid.as_str())
            .collect();
        assert_eq!(retired, [second.kid.as_str(), "undated"]);
    }

    #[test]
    fn rotate_refuses_a_set_it_cannot_rotate_safely() {
        // Refused before any key is made or checked: no real key needed.
        let mut new_pem =
            || -> Result<String, String> { panic!("no key is made for a refused set") };
        let mut source = KeySource {
            kid_prefix: None,
            new_pem: &mut new_pem,
        };
        let mut refusal = |keys: &[(&str, KeyState)]| {
            let keys = keys
                .iter()
                .map(|&(kid, state)| entry(kid, state, Some(0), "pem"))
                .collect();
            rotate(KeySetDocument { keys }, 10, LIFETIME, &mut source)
                .err()
                .expect("refused")
        };
        use KeyState::{Current, Next, Retired};
        let message = refusal(&[("a", Current), ("b", Retired)]);
        assert!(message.contains("no next key"), "{message}");
        let message = refusal(&[("a", Next), ("b", Retired)]);
        assert!(message.contains("no current key"), "{message}");
        let message = refusal(&[("a", Current), ("b", Current), ("c", Next)]);
        assert!(message.contains("2 current keys"), "{message}");
        let message = refusal(&[("a", Current), ("b", Next), ("c", Next)]);
        assert!(message.contains("2 next keys"), "{message}");
        let message = refusal(&[]);
        assert!(message.contains("no current key"), "{message}");
    }

    #[test]
    fn kid_prefixes_are_plain_and_short() {
        assert!(check_kid_prefix("prod.eu-west-1_a").is_ok());
        for bad in ["", "a b", "a/b", "é", &"x".repeat(MAX_PREFIX_CHARS + 1)] {
            assert!(check_kid_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
