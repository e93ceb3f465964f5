//! Brute-force throttling of password logins, on Cognito's model: failed
//! logins are counted per account and per source address; past a number of
//! free failures, each further attempt must wait 2^(n - free) seconds after the
//! last failure, capped at [`MAX_DELAY_SECONDS`], and is answered 429 with
//! `Retry-After` meanwhile. From the last free failure on, an attempt claims
//! its failure before bcrypt runs (a conditional write on the count it read),
//! so of many parallel attempts only one gets a guess.
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

mod attempt;

pub use attempt::PasswordAttempt;

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

    /// Whether one more failure would make the next attempt wait: from here
    /// on, parallel attempts must not all get a guess.
    pub fn at_edge(&self, free: u32) -> bool {
        self.count.saturating_add(1) >= free
    }

    /// These failures and one more, now.
    pub fn and_one_more(&self, now_ms: u64) -> Self {
        Self {
            count: self.count.saturating_add(1),
            last_at_ms: now_ms,
        }
    }
}

/// One failed-login counter: what it counts, and after how many failures it
/// starts to delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    /// Failures that impose no wait.
    pub free_failures: u32,
}

/// The counter of an account, by its normalised email (known or not).
pub fn account_counter(email: &str, free_failures: u32) -> Counter {
    Counter {
        key: format!("account:{email}"),
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
    fn the_edge_is_the_last_free_failure_and_beyond() {
        assert!(!failures(3, T).at_edge(5));
        assert!(failures(4, T).at_edge(5));
        assert!(failures(9, T).at_edge(5));
        assert_eq!(failures(4, T).and_one_more(T + 5).wait(5, T + 5), Some(1));
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
