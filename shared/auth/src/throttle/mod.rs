//! Brute-force throttling of password checks, on Cognito's model: failed
//! logins are counted per account and per source address; past a number of
//! free failures, each further attempt must wait 2^(n - free) seconds after the
//! last failure, capped at [`MAX_DELAY_SECONDS`], and is answered 429 with
//! `Retry-After` meanwhile.
//!
//! Every attempt claims its failure before bcrypt runs ([`crate::endpoint::password_attempt`]):
//! a conditional write that holds only while the counter still allows an
//! attempt. However many requests arrive at once, on however many instances,
//! at most the allowed number of passwords are checked. A success then settles
//! the claim: the account's counter is cleared, and the claim on the source's
//! is taken back (a success is no failure).
//!
//! Why an attacker cannot lock a victim out for long:
//! - the wait is a delay, never a lock: it is capped at 15 minutes, and the
//!   victim's next attempt after it is checked normally;
//! - a success resets the account's counter, so one good login undoes a
//!   stranger's failures;
//! - sessions already open are untouched: refresh tokens keep working through
//!   a throttled period, so a signed-in victim notices nothing;
//! - a counter forgets its failures [`FAILURE_WINDOW_SECONDS`] after the last one.
//!
//! Unknown emails are counted exactly like known ones, so a 429 says nothing
//! about which emails have accounts.
//!
//! Registrations are limited per source address too, in fixed hourly windows
//! ([`registration_counter`]): each one costs a bcrypt hash. So are code mails,
//! per address and per source ([`mail_counters`]): each one lands in
//! somebody's inbox.

use std::net::IpAddr;

/// The longest wait a counter can impose, in seconds (Cognito's cap).
pub const MAX_DELAY_SECONDS: u64 = 15 * 60;
/// A counter is forgotten this long after its last failure: its TTL.
pub const FAILURE_WINDOW_SECONDS: u64 = 60 * 60;

/// The failed logins counted against one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// Epoch milliseconds of the last failure: a wait of "1 second" must last
    /// one, not end at the next tick of a seconds clock.
    pub last_at_ms: u64,
}

impl Failures {
    /// Whole seconds to wait before the next attempt (rounded up), if any:
    /// none for the first `free` failures, then 2^(count - free), capped, from
    /// the last failure.
    pub fn wait(&self, free: u32, now_ms: u64) -> Option<u64> {
        let excess = self.count.checked_sub(free)?;
        let delay_ms = (1u64 << excess.min(32)).min(MAX_DELAY_SECONDS) * 1000;
        let until = self.last_at_ms.saturating_add(delay_ms);
        // A last failure stamped in the future (another instance's clock
        // ahead of ours) still never waits longer than the cap.
        (until > now_ms).then(|| (until - now_ms).div_ceil(1000).min(MAX_DELAY_SECONDS))
    }

    /// These failures and one more, now.
    pub fn and_one_more(&self, now_ms: u64) -> Self {
        Self {
            count: self.count.saturating_add(1),
            last_at_ms: now_ms,
        }
    }

    /// Whether a claim may count one more on a counter that now holds these
    /// failures, having read `seen` (and found no wait) before: below the
    /// free failures always, past them only if nothing changed since the read.
    /// `Failures::default()` stands for no live counter at all.
    pub fn admits(&self, seen: &Failures, free: u32) -> bool {
        if *seen == Failures::default() {
            return *self == Failures::default();
        }
        *self != Failures::default() && (self.count < free || self == seen)
    }
}

/// One failed-login counter: what it counts, and after how many failures it
/// starts to delay.
/// The first part of each kind of counter's key: an account's failed logins,
/// the registrations and the code mails counted per hour. (A source
/// address's failed logins start `source:`.)
pub const ACCOUNT_KIND: &str = "account";
pub const REGISTRATION_KIND: &str = "register";
pub const MAIL_KIND: &str = "mail";
/// Failed passkey sign-ins per credential.
pub const PASSKEY_KIND: &str = "passkey";
/// Passkey sign-ins started per source address and hour.
pub const CEREMONY_KIND: &str = "ceremony";
/// Sign-ins with another provider started, per source address and hour.
pub const OAUTH_KIND: &str = "oauth";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    /// Failures that impose no wait.
    pub free_failures: u32,
}

/// The counter of an account, by its normalised email (known or not).
pub fn account_counter(email: &str, free_failures: u32) -> Counter {
    Counter {
        key: format!("{ACCOUNT_KIND}:{email}"),
        free_failures,
    }
}

/// The counter of a source address: an IPv4 address, or an IPv6 /64 (one
/// subscriber's usual allocation, so rotating addresses within it does not
/// reset the count). `None` for anything that is not an address.
pub fn source_counter(source_ip: &str, free_failures: u32) -> Option<Counter> {
    let network = match source_ip.trim().parse::<IpAddr>().ok()?.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    };
    Some(Counter {
        key: format!("source:{network}"),
        free_failures,
    })
}

/// What a successful password check leaves behind: `clear` (the account's
/// counter) starts again from zero, and the claims in `release` (on the
/// source's) are taken back, so neither one good login launders an address's
/// failures on other accounts nor do an office's good logins make its address
/// wait longer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub clear: Counter,
    pub release: Vec<Claim>,
}

/// One attempt's claim on a counter: stamped `at_ms`, over the failures
/// `seen` before it. Taken back, the count drops by one and, if no later
/// attempt stamped the counter, the stamp goes back to `seen`'s, so the wait
/// does not restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub counter: Counter,
    pub seen: Failures,
    pub at_ms: u64,
}

/// Registrations from one source address in the current hour: the counter
/// (its key names the hour, so each hour starts from zero) and the hour's end
/// in epoch seconds. Fixed windows let a burst straddle two of them: at most
/// twice the limit in an hour, which is enough to keep bcrypt from being
/// used as a CPU sink.
pub fn registration_counter(source_ip: &str, limit: u32, now: u64) -> Option<(Counter, u64)> {
    let source = source_counter(source_ip, limit)?;
    Some(hourly(
        &format!("{REGISTRATION_KIND}:{}", source.key),
        limit,
        now,
    ))
}

/// The counters a code mail is counted on, each with its window's end: the
/// address's (whether or not it has an account, so a 429 tells nothing) and
/// the source address's, when the request has one.
pub fn mail_counters(
    email: &str,
    source_ip: Option<&str>,
    config: &crate::Config,
    now: u64,
) -> Vec<(Counter, u64)> {
    let email = hourly(
        &format!("{MAIL_KIND}:email:{email}"),
        config.mails_per_email_per_hour,
        now,
    );
    let source = source_ip
        .and_then(|ip| source_counter(ip, config.source_mails_per_hour))
        .map(|source| {
            hourly(
                &format!("{MAIL_KIND}:{}", source.key),
                config.source_mails_per_hour,
                now,
            )
        });
    std::iter::once(email).chain(source).collect()
}

/// A counter of `limit` per hour under `key`, for the current hour, and the
/// hour's end.
fn hourly(key: &str, limit: u32, now: u64) -> (Counter, u64) {
    let hour = now / REGISTRATION_WINDOW_SECONDS;
    let counter = Counter {
        key: format!("{key}:{hour}"),
        free_failures: limit,
    };
    (counter, (hour + 1) * REGISTRATION_WINDOW_SECONDS)
}

/// Failed passkey sign-ins with one credential (a credential id,
/// base64url), counted like an account's failed logins.
pub fn passkey_counter(credential_id: &str, free_failures: u32) -> Counter {
    Counter {
        key: format!("{PASSKEY_KIND}:{credential_id}"),
        free_failures,
    }
}

/// The counter of passkey sign-ins started (each writes a ceremony item)
/// from `source_ip` this hour, `limit` of them allowed
/// (`SOURCE_PASSKEY_SIGN_INS_PER_HOUR`), and the hour's end.
pub fn ceremony_counter(source_ip: &str, limit: u32, now: u64) -> Option<(Counter, u64)> {
    let source = source_counter(source_ip, limit)?;
    Some(hourly(
        &format!("{CEREMONY_KIND}:{}", source.key),
        limit,
        now,
    ))
}

/// The hourly count of sign-ins with a provider started from `source_ip`
/// (see [`ceremony_counter`]).
pub fn oauth_start_counter(source_ip: &str, limit: u32, now: u64) -> Option<(Counter, u64)> {
    let source = source_counter(source_ip, limit)?;
    Some(hourly(&format!("{OAUTH_KIND}:{}", source.key), limit, now))
}

/// The window of [`registration_counter`] and [`mail_counters`].
pub const REGISTRATION_WINDOW_SECONDS: u64 = 60 * 60;

/// The longest wait any of `counters` imposes, given their `failures` (same order).
pub fn wait(counters: &[Counter], failures: &[Failures], now_ms: u64) -> Option<u64> {
    counters
        .iter()
        .zip(failures)
        .filter_map(|(counter, failures)| failures.wait(counter.free_failures, now_ms))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(count: u32, last_at_ms: u64) -> Failures {
        Failures { count, last_at_ms }
    }

    const T: u64 = 1_000_000;

    #[test]
    fn the_free_failures_impose_no_wait() {
        for count in 0..5 {
            assert_eq!(failures(count, T).wait(5, T), None, "{count}");
        }
    }

    #[test]
    fn waits_double_past_the_free_failures_then_cap() {
        let waits: Vec<_> = (5..17).map(|count| failures(count, T).wait(5, T)).collect();
        let expected: Vec<_> = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
            .into_iter()
            .map(Some)
            .collect();
        assert_eq!(waits, expected);
        assert_eq!(failures(u32::MAX, T).wait(5, T), Some(900));
    }

    #[test]
    fn the_wait_counts_from_the_last_failure_to_the_millisecond() {
        let after_seven = failures(7, T); // 2^2 = 4 s
        assert_eq!(after_seven.wait(5, T + 1), Some(4), "3.999 s round up");
        assert_eq!(after_seven.wait(5, T + 3_000), Some(1));
        assert_eq!(after_seven.wait(5, T + 3_999), Some(1));
        assert_eq!(after_seven.wait(5, T + 4_000), None);
    }

    #[test]
    fn a_failure_stamped_in_the_future_waits_no_longer_than_the_cap() {
        assert_eq!(
            failures(50, T + 3_600_000).wait(5, T),
            Some(MAX_DELAY_SECONDS)
        );
    }

    #[test]
    fn a_claim_is_admitted_below_the_free_failures_or_on_what_was_read() {
        let none = Failures::default();
        assert!(none.admits(&none, 5), "a first failure");
        assert!(
            !failures(1, T).admits(&none, 5),
            "another attempt created it"
        );
        assert!(
            failures(3, T).admits(&failures(2, T - 9), 5),
            "below the free ones"
        );
        assert!(
            !failures(5, T).admits(&failures(4, T - 9), 5),
            "the last free one is taken"
        );
        assert!(
            failures(7, T).admits(&failures(7, T), 5),
            "its wait was over when read"
        );
        assert!(
            !failures(8, T + 1).admits(&failures(7, T), 5),
            "another took it"
        );
        assert!(
            !none.admits(&failures(7, T), 5),
            "expired meanwhile: read again"
        );
        assert_eq!(failures(3, T).and_one_more(T + 5).wait(5, T + 5), None);
        assert_eq!(failures(4, T).and_one_more(T + 5).wait(5, T + 5), Some(1));
    }

    #[test]
    fn registrations_are_counted_per_source_and_hour() {
        let hour = REGISTRATION_WINDOW_SECONDS;
        let (counter, end) = registration_counter("203.0.113.7", 3, 5 * hour + 10).unwrap();
        assert_eq!(counter.key, "register:source:203.0.113.7:5");
        assert_eq!((counter.free_failures, end), (3, 6 * hour));
        let (next, _) = registration_counter("203.0.113.7", 3, 6 * hour).unwrap();
        assert_ne!(next.key, counter.key);
        assert_eq!(registration_counter("nowhere", 3, hour), None);
    }

    #[test]
    fn the_longest_wait_of_several_counters_applies() {
        let counters = [account_counter("a@example.com", 5), counter("source:x", 2)];
        let waits = [failures(6, T), failures(5, T)]; // 2 s and 8 s
        assert_eq!(wait(&counters, &waits, T), Some(8));
        assert_eq!(wait(&counters, &[Failures::default(); 2], T), None);
    }

    fn counter(key: &str, free_failures: u32) -> Counter {
        Counter {
            key: key.to_owned(),
            free_failures,
        }
    }

    #[test]
    fn sources_are_counted_per_ipv4_address_and_per_ipv6_64() {
        let key = |ip| source_counter(ip, 1).map(|counter| counter.key);
        assert_eq!(key("203.0.113.7").as_deref(), Some("source:203.0.113.7"));
        assert_eq!(
            key("::ffff:203.0.113.7").as_deref(),
            Some("source:203.0.113.7")
        );
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("not an address"), None);
        assert_eq!(key(""), None);
    }
}
