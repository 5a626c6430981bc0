//! Reading back what this version never writes is an error, never a silent default:
//! each test stores a corrupt value with raw SQL and reads it through the store.

use std::error::Error as _;

use nod_core::authorize::{AuthorizeRequest, Flow, Prompt, ResponseMode};
use nod_core::login::LoginRequest;
use nod_core::scope::ScopeSet;
use uuid::Uuid;

use super::*;
use crate::{LoginRequestStore, StoreError};

#[test]
fn errors_keep_their_cause() {
    let e = rows::corrupt(
        "login_requests.status",
        rows::Invalid::UnknownName("teleported".into()),
    );
    assert_eq!(
        e.to_string(),
        "unreadable stored value in login_requests.status"
    );
    assert_eq!(
        e.source().map(|s| s.to_string()).as_deref(),
        Some("unknown value 'teleported'")
    );
    let e = db_error(sqlx::Error::PoolTimedOut);
    assert!(matches!(e, StoreError::Unavailable(_)));
    assert_eq!(e.to_string(), "database unavailable");
    assert!(e.source().is_some());
    let e = db_error(sqlx::Error::RowNotFound);
    assert!(matches!(e, StoreError::Other(_)));
    assert!(e.source().is_some());
}

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nod.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (dir, store)
}

fn login_request() -> LoginRequest {
    let req = AuthorizeRequest {
        client_id: "client".into(),
        redirect_uri: "https://example.com/cb".into(),
        scopes: ScopeSet::parse("openid name").unwrap(),
        state: "s".into(),
        nonce: None,
        code_challenge: None,
        flow: Flow::Web,
        app_callback_uri: None,
        final_redirect_is_app: false,
        acr_app_auth: false,
        prompt: Prompt::Default,
        response_mode: ResponseMode::Query,
    };
    LoginRequest::new(req, vec![1; 32], "csrf".into(), 1_000, 600)
}

/// Stores a login request, sets `column` to `value` behind the store's back, and
/// returns what reading it gives.
async fn read_with(column: &str, value: &str) -> crate::Result<Option<LoginRequest>> {
    let (_dir, store) = store().await;
    let request = login_request();
    store.create_login_request(&request).await.unwrap();
    sqlx::query(&format!(
        "UPDATE login_requests SET {column} = {value} WHERE id = $1"
    ))
    .bind(request.id.to_string())
    .execute(&store.writer)
    .await
    .unwrap();
    store.get_login_request(request.id).await
}

#[tokio::test]
async fn a_clean_row_reads_back_as_written() {
    let (_dir, store) = store().await;
    let request = login_request();
    store.create_login_request(&request).await.unwrap();
    assert_eq!(
        store.get_login_request(request.id).await.unwrap(),
        Some(request)
    );
}

#[tokio::test]
async fn corrupt_login_request_columns_are_errors() {
    let cases = [
        ("status", "'teleported'", "login_requests.status"),
        ("amr", "'x'", "login_requests.amr"),
        ("kind", "'carrier_pigeon'", "login_requests.kind"),
        ("flow", "''", "login_requests.flow"),
        ("error", "'oops'", "login_requests.error"),
        ("user_id", "'42'", "login_requests.user_id"),
        ("choices", "'1,2'", "login_requests.choices"),
        ("choices", "'1,2,3,4'", "login_requests.choices"),
        ("choices", "'1,two,3'", "login_requests.choices"),
        ("challenge", "300", "login_requests.challenge"),
        ("challenge", "-1", "login_requests.challenge"),
        ("scopes", "65536", "login_requests.scopes"),
        (
            "delegated_answers",
            "'{not json'",
            "login_requests.delegated_answers",
        ),
        ("auth_req_id", "'abc'", "login_requests.auth_req_id"),
    ];
    for (column, value, named) in cases {
        match read_with(column, value).await {
            Err(StoreError::Corrupt { column: c, .. }) => assert_eq!(c, named, "{column}"),
            other => panic!("{column} = {value}: expected Corrupt, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_an_error() {
    let e = read_with("created_at", "'yesterday'").await.unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");
    assert!(e.source().is_some());
}

#[tokio::test]
async fn corrupt_users_and_sales_units_are_errors() {
    use crate::{SalesUnitStore, UserStore};
    let (_dir, store) = store().await;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, phone_number, given_name, family_name, email, birthdate, nin, addresses, active, created_at)
         VALUES ($1, '4712345678', 'A', 'B', 'a@b.no', '1990-01-01', '1', 'not json', 1, 0)",
    )
    .bind(id.to_string())
    .execute(&store.writer)
    .await
    .unwrap();
    assert!(matches!(
        store.get_user(id).await,
        Err(StoreError::Corrupt { column, .. }) if column == "users.addresses"
    ));
    assert!(store.list_users(10, 0).await.is_err());

    sqlx::query(
        "INSERT INTO sales_units (client_id, secret_hash, name, redirect_uris, auth_method, msn, allow_nin, ciba_mode, created_at)
         VALUES ('c', x'00', 'C', '[]', 'client_secret_jwt', NULL, 0, 'poll', 0)",
    )
    .execute(&store.writer)
    .await
    .unwrap();
    assert!(matches!(
        store.get_sales_unit("c").await,
        Err(StoreError::Corrupt { column, .. }) if column == "sales_units.auth_method"
    ));
}
