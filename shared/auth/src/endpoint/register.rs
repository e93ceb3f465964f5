use crate::roles::Roles;
use super::App;
use super::mailed_codes::new_code;
use super::session_tokens::{hook_claims, new_session, tokens_reply};
use crate::credentials::Credentials;
use crate::http::error::ApiError;
use crate::mail::outbox::MailKind;
use crate::http::request::client_address;
use crate::http::response::Reply;
use crate::store::{NewUser, Registration, SignIn, Store};
use crate::credentials::password;
use crate::throttle;
use lambda_http::{Request, http::StatusCode};
use super::description::{Description, Guard, Needs};
use crate::store::access::{Access, Items};

pub const DESCRIPTION: Description = Description {
    function: "register",
    method: "POST",
    route: "/auth/register",
    guard: Guard::Public,
    needs: Needs::Signer,
    storage: &[
        // The address's registrations this hour, before bcrypt.
        &[Access::users("UpdateItem", &[Items::Registrations])],
        // Profile, email claim, first session and the verification code,
        // with its mail, in one transaction.
        &[
            Access::users("PutItem", &[Items::User, Items::Email, Items::Sessions, Items::Code]),
            Access::outbox("PutItem"),
        ],
        // After repeated conflicts: has the email an owner by now?
        &[Access::users("BatchGetItem", &[Items::Email])],
    ],
    example_body: Some(r#"{"email": "someone@example.com", "password": "{password}"}"#),
};

/// `POST /auth/register`: the source address's registration counted (one
/// write, before bcrypt, so that a flood of sign-ups costs us no CPU), then one
/// transactional write (user, email, first session, and the verification
/// code with its mail in the outbox).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let credentials = Credentials::from_request(request)?;
    let now = crate::now();
    let window = client_address(request, app.config.trusted_proxy).and_then(|ip| {
        throttle::registration_counter(ip, app.config.source_registrations_per_hour, now)
    });
    if let Some((counter, window_end)) = window
        && !app.store.count_in_window(&counter, window_end).await?
    {
        let retry_after = window_end.saturating_sub(now).max(1);
        return Err(ApiError::TooManyRegistrations { retry_after });
    }
    // Hashing comes before the write even when the email turns out to be taken,
    // so "taken" and "created" cost the same time.
    let password_hash = password::hash(&credentials.password, app.config.bcrypt_cost).await?;
    let user = NewUser {
        user_id: crate::ids::new_user_id(),
        email: credentials.email,
        password_hash,
        registered_on: crate::rfc3339(now),
        roles: Roles::default(),
        email_verified: false,
    };
    let sign_in = (credentials.device, SignIn::password(now));
    let (session, refresh) = new_session(app, &user.user_id, sign_in, request, now)?;
    let verification = new_code(app, MailKind::VerifyEmail, &user.email, now)?;
    let claims = hook_claims(app, &user.user_id, Some(&user.profile()), &session.sign_in.amr, now).await?;
    if app
        .store
        .create_user(&user, Some(&session), Some(&verification))
        .await?
        == Registration::EmailTaken
    {
        return Err(ApiError::UserExists);
    }
    tokens_reply(
        app,
        StatusCode::CREATED,
        "Successfully registered.",
        (&refresh, &user.roles, &session.sign_in, claims),
        request,
        now,
    )
}
