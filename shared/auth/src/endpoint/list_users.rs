use super::App;
use super::admin::{admin_action, user_json};
use crate::http::error::ApiError;
use crate::http::request::query_param;
use crate::http::response::{Reply, success};
use crate::store::{PageCursor, Store};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use lambda_http::{Request, http::StatusCode};
use serde_json::json;
use super::description::{Description, Guard, Needs};
use crate::store::access::Access;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;
/// Far more than a cursor we hand out takes (a date, `#` and a UUID).
const MAX_CURSOR_CHARS: usize = 128;

pub const DESCRIPTION: Description = Description {
    function: "list-users",
    method: "GET",
    route: "/admin/users",
    guard: Guard::Bearer,
    needs: Needs::App,
    storage: &[
        // The listing index's one partition, and nothing of the table.
        &[Access::listing("Query")],
    ],
    example_body: None,
};

/// `GET /admin/users?limit=&cursor=`: a page of users, newest registration
/// first, with an opaque cursor for the next page (`null` on the last).
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    admin_action(app, request, "list_users", |_| async {
        let limit = match query_param(request, "limit") {
            None => DEFAULT_LIMIT,
            Some(limit) => limit
                .parse()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| {
                    ApiError::bad_request("limit must be a whole number from 1 to 100.")
                })?,
        };
        let after = query_param(request, "cursor")
            .map(parse_cursor)
            .transpose()?;
        let page = app.store.users_page(limit, after.as_ref()).await?;
        let users: Vec<_> = page.users.iter().map(user_json).collect();
        Ok(success(
            StatusCode::OK,
            json!({ "data": {
                "users": users,
                "next_cursor": page.next.as_ref().map(cursor),
            }}),
        ))
    })
    .await
}

/// A cursor as clients see it: opaque, URL-safe.
fn cursor(after: &PageCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}#{}", after.registered_on, after.user_id))
}

/// A cursor we handed out, or 400: a made-up one can only start a listing
/// at another place in it, but it must have our shape.
fn parse_cursor(raw: &str) -> Result<PageCursor, ApiError> {
    let invalid = || ApiError::bad_request("Invalid cursor.");
    if raw.len() > MAX_CURSOR_CHARS {
        return Err(invalid());
    }
    let text = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let (registered_on, user_id) = text.rsplit_once('#').ok_or_else(invalid)?;
    let plausible_date = !registered_on.is_empty()
        && registered_on
            .bytes()
            .all(|byte| byte.is_ascii_digit() || b"-:TZ".contains(&byte));
    if !plausible_date || !crate::ids::is_user_id(user_id) {
        return Err(invalid());
    }
    Ok(PageCursor {
        registered_on: registered_on.to_owned(),
        user_id: user_id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_itself_and_nothing_else_is_one() {
        let after = PageCursor {
            registered_on: "2026-11-30T16:05:00Z".into(),
            user_id: "0b5c3a9e-2f4d-4c61-9a57-3e1f2d4c5b6a".into(),
        };
        assert_eq!(parse_cursor(&cursor(&after)).unwrap(), after);
        let not_ours = [
            "",
            "!!!",
            &URL_SAFE_NO_PAD.encode("2026-11-30T16:05:00Z"),
            &URL_SAFE_NO_PAD.encode("2026-11-30T16:05:00Z#not-a-uuid"),
            &URL_SAFE_NO_PAD.encode("' OR 1=1 --#0b5c3a9e-2f4d-4c61-9a57-3e1f2d4c5b6a"),
            &"A".repeat(MAX_CURSOR_CHARS + 1),
        ];
        for raw in not_ours {
            assert!(parse_cursor(raw).is_err(), "{raw:?}");
        }
    }
}
