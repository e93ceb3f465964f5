use super::App;
use super::session_tokens::{new_session, tokens_reply};
use crate::credentials::Credentials;
use crate::error::ApiError;
use crate::password;
use crate::response::Reply;
use crate::store::{NewUser, Registration, Store};
use lambda_http::{Request, http::StatusCode};

/// `POST /auth/register`: one transactional write (user, email, first session).
pub async fn register<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let Credentials {
        email,
        password,
        device,
    } = Credentials::from_request(request)?;
    // Hashing comes before the write even when the email turns out to be taken,
    // so "taken" and "created" cost the same time.
    let password_hash = password::hash(&password, app.config.bcrypt_cost).await?;
    let now = crate::now();
    let user = NewUser {
        user_id: uuid::Uuid::new_v4().to_string(),
        email,
        password_hash,
        registered_on: crate::rfc3339(now),
    };
    let (session, refresh) = new_session(app, &user.user_id, device, request, now)?;
    if app.store.create_user(&user, &session).await? == Registration::EmailTaken {
        return Err(ApiError::UserExists);
    }
    tokens_reply(
        app,
        StatusCode::CREATED,
        "Successfully registered.",
        &refresh,
        now,
    )
}
