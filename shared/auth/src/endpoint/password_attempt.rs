//! One password check under the throttle, for login and password change alike.

use crate::http::error::ApiError;
use crate::store::access::{Access, Items};
use crate::store::{LoginAttempt, LoginRecord, Store, Verified};
use crate::throttle::{self, Claim, Counter, Failures, Settlement};
use std::future::Future;

/// A password check under the account's and the source's counters: the
/// login record read with them, then the claims on them.
pub const PASSWORD_CHECK: &[Access] = &[
    Access::users("BatchGetItem", &[Items::Email, Items::AnyCounter]),
    Access::users("UpdateItem", &[Items::AnyCounter]),
];

/// How often an attempt reads the counters again after a parallel attempt
/// moved one between its read and its claim. Each round, at least one of the
/// racing attempts settles, so a burst needs few; past them, the attempt waits.
const CLAIM_ROUNDS: u32 = 4;

/// A password check under the brute-force throttle ([`super`]), claimed
/// before bcrypt runs: a failure is already counted, only a success has to be
/// settled ([`PasswordAttempt::settlement`]).
pub struct PasswordAttempt {
    settlement: Settlement,
}

impl PasswordAttempt {
    /// Reads the account's login record with its counters and refuses the
    /// attempt while any counter makes it wait: before bcrypt, so waiting costs
    /// an attacker time and us nothing. Then claims the attempt's failure on
    /// every counter, conditionally on the counters still allowing it, so of
    /// parallel attempts only as many go on as the counters allow. Below the
    /// free failures the claims need no read and go with it
    /// ([`Store::claim_below_free`]): one round trip in all.
    pub async fn begin<S: Store>(
        store: &S,
        email: &str,
        account: Counter,
        sources: Vec<Counter>,
    ) -> Result<(Option<LoginRecord>, Self), ApiError> {
        let nothing = async { Ok(()) };
        let (record, attempt, ()) =
            Self::begin_with(store, email, account, sources, nothing).await?;
        Ok((record, attempt))
    }

    /// [`PasswordAttempt::begin`], with `alongside` (a read the caller needs
    /// next, independent of this one) sent together with the first read and
    /// awaited with it: no round trip of its own (issue 29).
    pub async fn begin_with<S: Store, T>(
        store: &S,
        email: &str,
        account: Counter,
        sources: Vec<Counter>,
        alongside: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<(Option<LoginRecord>, Self, T), ApiError> {
        let counters: Vec<Counter> = std::iter::once(account.clone())
            .chain(sources.iter().cloned())
            .collect();
        // The first read goes with a claim that needs none (issue 29): it
        // holds while every counter is below its free failures, where no
        // read could make the attempt wait. Only past them is the claim made
        // on what the read saw.
        let now_ms = crate::now_millis();
        let first = store.login_attempt(email, &counters, now_ms);
        let first = async { Ok::<_, ApiError>(first.await?) };
        let below_free = store.claim_below_free(&counters, now_ms);
        let below_free = async { Ok::<_, ApiError>(below_free.await?) };
        let (first, claimed, got) =
            futures_util::future::try_join3(first, below_free, alongside).await?;
        if let Some(seen) = claimed {
            let settlement = Self::settlement_of(account, counters.iter().zip(seen), now_ms);
            return Ok((first.record, Self { settlement }, got));
        }
        let mut first = Some(first);
        for _ in 0..CLAIM_ROUNDS {
            let now_ms = crate::now_millis();
            let LoginAttempt { record, failures } = match first.take() {
                Some(read) => read,
                None => store.login_attempt(email, &counters, now_ms).await?,
            };
            if let Some(retry_after) = throttle::wait(&counters, &failures, now_ms) {
                return Err(ApiError::TooManyLogins { retry_after });
            }
            let claims: Vec<(&Counter, Failures)> = counters.iter().zip(failures).collect();
            if store.claim_attempt(&claims, now_ms).await? {
                let claimed = claims.iter().map(|(counter, seen)| (*counter, *seen));
                let settlement = Self::settlement_of(account, claimed, now_ms);
                return Ok((record, Self { settlement }, got));
            }
            // A parallel attempt moved a counter between the read and the
            // claim: read again, and wait if it now says so.
        }
        Err(ApiError::TooManyLogins { retry_after: 1 })
    }

    /// What settles the claims made at `at_ms` on `claimed` (the account's
    /// counter first, over the failures each was seen with): the account's
    /// cleared, the others' taken back.
    fn settlement_of<'a>(
        account: Counter,
        claimed: impl Iterator<Item = (&'a Counter, Failures)>,
        at_ms: u64,
    ) -> Settlement {
        let release = (claimed.skip(1))
            .map(|(counter, seen)| Claim {
                counter: counter.clone(),
                seen,
                at_ms,
            })
            .collect();
        Settlement {
            clear: account,
            release,
        }
    }

    /// [`PasswordAttempt::begin`] on the counters a login from `request`
    /// uses: `email`'s account's, and its source address's.
    pub async fn for_request<S: Store>(
        app: &super::App<S>,
        email: &str,
        request: &lambda_http::Request,
    ) -> Result<(Option<LoginRecord>, Self), ApiError> {
        let nothing = async { Ok(()) };
        let (record, attempt, ()) = Self::for_request_with(app, email, request, nothing).await?;
        Ok((record, attempt))
    }

    /// [`PasswordAttempt::for_request`], with `alongside` as
    /// [`PasswordAttempt::begin_with`] sends it.
    pub async fn for_request_with<S: Store, T>(
        app: &super::App<S>,
        email: &str,
        request: &lambda_http::Request,
        alongside: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<(Option<LoginRecord>, Self, T), ApiError> {
        let config = &app.config;
        let account = throttle::account_counter(email, config.account_login_failures_before_delay);
        let sources = crate::http::request::client_address(request, config.trusted_proxy)
            .and_then(|ip| throttle::source_counter(ip, config.source_login_failures_before_delay))
            .into_iter()
            .collect();
        Self::begin_with(&app.store, email, account, sources, alongside).await
    }

    /// What settles this attempt: for a check that is not a password's (a
    /// second factor's code, counted the same way).
    /// Gives the attempt back, for a right password whose sign-in stopped
    /// on something else (a failed token hook): no failure is counted.
    pub async fn give_back<S: Store>(&self, store: &S) -> Result<(), ApiError> {
        Ok(store.settle_attempt(&self.settlement).await?)
    }

    pub fn settlement(&self) -> &Settlement {
        &self.settlement
    }

    /// The check passed for `email`'s account, against `password_hash`: what
    /// a success writes on its strength (and settles this attempt with).
    pub fn verified<'a>(&'a self, email: &'a str, password_hash: &'a str) -> Verified<'a> {
        Verified {
            email,
            password_hash,
            settlement: &self.settlement,
        }
    }
}

/// The caller's own password, asked again before a sensitive change
/// (deleting the account, turning on a second factor): checked and
/// throttled like a login's, so a stolen access token alone changes nothing.
/// The account's login record and the attempt, to settle in the change's
/// write; a wrong password is [`ApiError::WrongPassword`].
pub async fn check_callers_password<S: Store>(
    app: &super::App<S>,
    request: &lambda_http::Request,
    caller: &super::authenticate::Caller,
    given: &str,
) -> Result<(LoginRecord, PasswordAttempt), ApiError> {
    let nothing = async { Ok(()) };
    let (record, attempt, ()) =
        check_callers_password_with(app, request, caller, given, nothing).await?;
    Ok((record, attempt))
}

/// [`check_callers_password`], with `alongside` sent together with its
/// first read ([`PasswordAttempt::begin_with`]).
pub async fn check_callers_password_with<S: Store, T>(
    app: &super::App<S>,
    request: &lambda_http::Request,
    caller: &super::authenticate::Caller,
    given: &str,
    alongside: impl Future<Output = Result<T, ApiError>>,
) -> Result<(LoginRecord, PasswordAttempt, T), ApiError> {
    let email = &caller.profile.email;
    let (record, attempt, got) =
        PasswordAttempt::for_request_with(app, email, request, alongside).await?;
    let record = record
        .filter(|record| record.user_id == caller.claims.sub)
        .ok_or(crate::http::error::TokenRejection::Invalid)?;
    step_up(&record, &caller.claims)?;
    let hash = Some(record.password_hash.as_str());
    if !crate::credentials::password::verify(given, hash, app.config.bcrypt_cost).await {
        return Err(ApiError::WrongPassword);
    }
    Ok((record, attempt, got))
}

/// Step-up: an account with a second factor changes its password, deletes
/// itself or turns the factor off only with a token whose sign-in used the
/// factor, so a stolen password (or a token from before the factor) is not
/// enough. Checked before bcrypt; the attempt stays counted.
pub fn step_up(
    record: &LoginRecord,
    claims: &crate::tokens::access::Claims,
) -> Result<(), ApiError> {
    if record.mfa && !claims.has_mfa() {
        return Err(ApiError::SecondFactorRequired);
    }
    Ok(())
}

/// How recent a sign-in stands in for the password of an account that has
/// none (passkeys, OIDC), before a sensitive change: five minutes.
pub const RECENT_SIGN_IN_SECONDS: u64 = 300;

/// The rule for an account without a password: its token's sign-in
/// (`auth_time`, carried unchanged through refreshes) under
/// [`RECENT_SIGN_IN_SECONDS`] old at `now`, else
/// [`ApiError::RecentSignInRequired`].
pub fn recent_sign_in(claims: &crate::tokens::access::Claims, now: u64) -> Result<(), ApiError> {
    if now.saturating_sub(claims.auth_time) < RECENT_SIGN_IN_SECONDS {
        Ok(())
    } else {
        Err(ApiError::RecentSignInRequired)
    }
}

/// The `password` of a body that confirms a change: optional (an account
/// without one confirms with a recent sign-in), checked for its length
/// when given.
pub fn optional_password(password: Option<serde_json::Value>) -> Result<Option<String>, ApiError> {
    let given = match password {
        None | Some(serde_json::Value::Null) => None,
        password => Some(crate::credentials::required_string("password", password)?),
    };
    if let Some(given) = &given {
        crate::credentials::check_password(given)?;
    }
    Ok(given)
}

/// The caller's identity confirmed again before a sensitive change, with
/// step-up either way: the password `given`, as [`check_callers_password`]
/// checks it (the attempt, to settle in the change's write); or, for an
/// account without a password, a [`recent_sign_in`] (no attempt: nothing is
/// claimed without a password; one given to such an account is ignored, its
/// claim left counted). A password account that gives none: 400.
pub async fn confirm_caller<S: Store>(
    app: &super::App<S>,
    request: &lambda_http::Request,
    caller: &super::authenticate::Caller,
    given: Option<&str>,
) -> Result<(LoginRecord, Option<PasswordAttempt>), ApiError> {
    let nothing = async { Ok(()) };
    let (record, attempt, ()) = confirm_caller_with(app, request, caller, given, nothing).await?;
    Ok((record, attempt))
}

/// [`confirm_caller`], with `alongside` sent together with its first read
/// (a listing the change needs anyway: one round trip for both).
pub async fn confirm_caller_with<S: Store, T>(
    app: &super::App<S>,
    request: &lambda_http::Request,
    caller: &super::authenticate::Caller,
    given: Option<&str>,
    alongside: impl Future<Output = Result<T, ApiError>>,
) -> Result<(LoginRecord, Option<PasswordAttempt>, T), ApiError> {
    let email = &caller.profile.email;
    let ours = |record: Option<LoginRecord>| {
        record
            .filter(|record| record.user_id == caller.claims.sub)
            .ok_or(crate::http::error::TokenRejection::Invalid)
    };
    let (record, attempt, got) = match given {
        Some(_) => {
            // Boxed, as each branch's future is: the handlers' futures are deep.
            let check = PasswordAttempt::for_request_with(app, email, request, alongside);
            let (record, attempt, got) = Box::pin(check).await?;
            (ours(record)?, Some(attempt), got)
        }
        None => {
            let read = async {
                let read = app.store.login_attempt(email, &[], crate::now_millis());
                Ok::<_, ApiError>(read.await?)
            };
            let (read, got) = Box::pin(futures_util::future::try_join(read, alongside)).await?;
            (ours(read.record)?, None, got)
        }
    };
    step_up(&record, &caller.claims)?;
    if !record.has_password() {
        recent_sign_in(&caller.claims, crate::now())?;
        return Ok((record, None, got));
    }
    let (Some(given), Some(attempt)) = (given, attempt) else {
        return Err(ApiError::bad_request("password is required."));
    };
    let hash = Some(record.password_hash.as_str());
    if !crate::credentials::password::verify(given, hash, app.config.bcrypt_cost).await {
        return Err(ApiError::WrongPassword);
    }
    Ok((record, Some(attempt), got))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_stands_in_for_a_password_for_under_five_minutes() {
        let claims = |auth_time| crate::tokens::access::Claims {
            auth_time,
            ..serde_json::from_value(serde_json::json!({
                "sub": "u", "iat": 0, "exp": 0, "jti": "j", "iss": "i", "aud": "a", "sid": "s"
            }))
            .unwrap()
        };
        let now = 1_000_000;
        assert!(recent_sign_in(&claims(now - 299), now).is_ok());
        for old in [now - 300, 0] {
            assert!(matches!(
                recent_sign_in(&claims(old), now),
                Err(ApiError::RecentSignInRequired)
            ));
        }
    }
}
